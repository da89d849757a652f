import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { composeConfig, registerSection, pluginSlot, loadExperiment, ConfigError, parseOverride, experimentJsonSchema, PluginRegistry } from '../src/index.js';
import { testPlugins } from './helpers/plugins.js';
import { tempTree } from './helpers/tmp.js';

// a model section with a plugin slot, as later capabilities register theirs
registerSection({
  key: 'model',
  build: (r) => {
    const peft = pluginSlot(r, 'peft');
    return z.object({ peft: peft!, lr: z.number().default(1e-3), layers: z.array(z.number()).default([1, 2]) }).strict().optional();
  },
});

describe('composeConfig', () => {
  it('merges extends chains deeply, later files win, lists are replaced', () => {
    const dir = tempTree({
      'base.yaml': 'name: base\nmodel:\n  lr: 0.1\n  layers: [1, 2, 3]\n  peft: {name: lora, rank: 4}\n',
      'mid.yaml': 'extends: base.yaml\nmodel:\n  layers: [9]\n',
      'sub/top.yaml': 'extends: [../mid.yaml]\nname: top\nmodel:\n  peft: {alpha: 8}\n',
    });
    const c = composeConfig(['sub/top.yaml'], { cwd: dir });
    expect(c.data).toEqual({ name: 'top', model: { lr: 0.1, layers: [9], peft: { name: 'lora', rank: 4, alpha: 8 } } });
    expect(c.sources.get('model.lr')).toBe('base.yaml');
    expect(c.sources.get('model.layers')).toBe('mid.yaml');
    expect(c.sources.get('model.peft.alpha')).toBe('sub/top.yaml');
    expect(c.files.map((f) => f.slice(dir.length + 1))).toEqual(['base.yaml', 'mid.yaml', 'sub/top.yaml']);
  });

  it('merges several config files in order and replaces a plugin whose name changes', () => {
    const dir = tempTree({ 'a.yaml': 'model: {peft: {name: lora, rank: 4}}\n', 'b.yaml': 'model: {peft: {name: ln-tuning}}\n' });
    expect(composeConfig(['a.yaml', 'b.yaml'], { cwd: dir }).data).toEqual({ model: { peft: { name: 'ln-tuning' } } });
  });

  it('applies typed --set overrides', () => {
    const dir = tempTree({ 'a.yaml': 'model: {lr: 0.1, layers: [1]}\nflag: false\n' });
    const c = composeConfig(['a.yaml'], {
      cwd: dir,
      overrides: ['model.lr=3e-4', 'model.layers=[4, 5]', 'flag=true', 'model.peft.name=lora', 'tag=abc', 'model.layers.1=7', 'flag2=null'],
    });
    expect(c.data).toEqual({ model: { lr: 3e-4, layers: [4, 7], peft: { name: 'lora' } }, flag: true, tag: 'abc' });
    expect(c.sources.get('model.lr')).toBe('--set model.lr=3e-4');
  });

  it('null removes a key, in files and in --set (merge-patch semantics)', () => {
    const dir = tempTree({ 'base.yaml': 'model: {lr: 0.1, aug: {name: slerp}}\nkeep: 1\n', 'top.yaml': 'extends: base.yaml\nmodel: {aug: null}\n' });
    expect(composeConfig(['top.yaml'], { cwd: dir }).data).toEqual({ model: { lr: 0.1 }, keep: 1 });
    expect(composeConfig(['base.yaml'], { cwd: dir, overrides: ['model.aug=null', 'keep=null'] }).data).toEqual({ model: { lr: 0.1 } });
  });

  it('rejects malformed overrides clearly', () => {
    expect(() => parseOverride('model.lr')).toThrow(/expected key\.path=value/);
    expect(() => parseOverride('=3')).toThrow(/expected key\.path=value/);
    expect(() => parseOverride('a..b=3')).toThrow(/not a dotted key path/);
    const dir = tempTree({ 'a.yaml': 'model: {lr: 0.1}\n' });
    expect(() => composeConfig(['a.yaml'], { cwd: dir, overrides: ['model.lr.x=1'] })).toThrow(/model\.lr is a number, not a mapping/);
  });

  it('interpolates ${env:VAR} with defaults and typed whole values', () => {
    const dir = tempTree({ 'a.yaml': 'root: ${env:DATA_ROOT}/ffpp\nepochs: ${env:EPOCHS}\nmissing: ${env:NOPE,fallback}\n' });
    const c = composeConfig(['a.yaml'], { cwd: dir, env: { DATA_ROOT: '/data', EPOCHS: '12' } });
    expect(c.data).toEqual({ root: '/data/ffpp', epochs: 12, missing: 'fallback' });
    expect(() => composeConfig(['a.yaml'], { cwd: dir, env: { EPOCHS: '1' } })).toThrow(/a\.yaml: root: environment variable DATA_ROOT is not set/);
  });

  it('names the file on YAML errors, cycles and missing files', () => {
    const dir = tempTree({
      'bad.yaml': 'a: [1, 2\n',
      'dup.yaml': 'a: 1\na: 2\n',
      'list.yaml': '- 1\n- 2\n',
      'c1.yaml': 'extends: c2.yaml\n',
      'c2.yaml': 'extends: c1.yaml\n',
      'bomb.yaml': 'a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
    });
    expect(() => composeConfig(['bad.yaml'], { cwd: dir })).toThrow(/bad\.yaml:\d+:\d+: invalid YAML/);
    expect(() => composeConfig(['dup.yaml'], { cwd: dir })).toThrow(/dup\.yaml.*unique/i);
    expect(() => composeConfig(['list.yaml'], { cwd: dir })).toThrow(/list\.yaml: expected a mapping/);
    expect(() => composeConfig(['c1.yaml'], { cwd: dir })).toThrow(/extends cycle: c1\.yaml -> c2\.yaml -> c1\.yaml/);
    expect(() => composeConfig(['nope.yaml'], { cwd: dir })).toThrow(/config file not found: .*nope\.yaml/);
    expect(() => composeConfig(['bomb.yaml'], { cwd: dir })).toThrow(/bomb\.yaml: .*alias/i);
  });
});

describe('validation against plugin schemas', () => {
  const load = (files: Record<string, string>, top: string, overrides: string[] = []) => {
    const dir = tempTree(files);
    return loadExperiment([top], { cwd: dir, overrides, builtins: [testPlugins] });
  };

  it('fills defaults and names the experiment after the file', async () => {
    const { config } = await load({ 'exp.yaml': 'model: {peft: {name: lora}}\n' }, 'exp.yaml');
    expect(config.name).toBe('exp');
    expect(config.seed).toBe(42);
    expect(config.model).toEqual({ peft: { name: 'lora', rank: 1, alpha: 32, target_modules: ['out_proj'] }, lr: 1e-3, layers: [1, 2] });
    expect(config.loggers).toEqual([{ name: 'console', every_n_steps: 10 }]);
  });

  it('reports file, key path, expected type and value', async () => {
    const err = await load({ 'base.yaml': 'model: {peft: {name: lora, rank: "four"}}\n', 'exp.yaml': 'extends: base.yaml\n' }, 'exp.yaml').catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('base.yaml: model.peft.rank: expected number, got "four"');
  });

  it('suggests the closest key for an unknown key', async () => {
    const err = await load({ 'exp.yaml': 'model: {peft: {name: lora, rnak: 2}}\nsed: 1\n' }, 'exp.yaml').catch((e) => e);
    expect(err.problems).toContainEqual(expect.stringMatching(/exp\.yaml: model\.peft\.rnak: unknown key \(did you mean "rank"\?\); allowed here: alpha, name, rank, target_modules/));
    expect(err.problems).toContainEqual(expect.stringMatching(/sed: unknown key \(did you mean "seed"\?\)/));
  });

  it('lists registered plugins for an unknown plugin name', async () => {
    const err = await load({ 'exp.yaml': 'model: {peft: {name: lorra}}\n' }, 'exp.yaml').catch((e) => e);
    expect(err.message).toMatch(/model\.peft\.name: unknown name "lorra" \(did you mean "lora"\?\); registered: ln-tuning, lora/);
  });

  it('attributes --set values to the override', async () => {
    const err = await load({ 'exp.yaml': 'model: {peft: {name: lora}}\n' }, 'exp.yaml', ['model.lr=fast']).catch((e) => e);
    expect(err.message).toContain('--set model.lr=fast: model.lr: expected number, got "fast"');
  });

  it('builds a JSON Schema with one branch per plugin', () => {
    const schema = experimentJsonSchema(new PluginRegistry([testPlugins])) as any;
    const peft = schema.properties.model.properties.peft;
    const names = (peft.oneOf ?? peft.anyOf).map((b: any) => b.properties.name.const).sort();
    expect(names).toEqual(['ln-tuning', 'lora']);
    expect(schema.properties.extends).toBeDefined();
    expect(schema.required ?? []).not.toContain('name');
  });
});
