import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, pluginModule, PluginRegistry, buildRegistry, loadExperiment, RunStore, importPluginModule } from '../src/index.js';
import { testPlugins } from './helpers/plugins.js';
import { tempTree } from './helpers/tmp.js';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const EXAMPLE = resolve(__dirname, '../../../examples/plugin-csv-logger/src/index.ts');

describe('PluginRegistry', () => {
  it('resolves plugins by kind and name and validates options', async () => {
    const r = new PluginRegistry([testPlugins]);
    expect(r.names('peft')).toEqual(['ln-tuning', 'lora']);
    const made = await r.create('peft', { name: 'lora', rank: 3 }, { seed: 0, registry: r });
    expect(made).toEqual({ rank: 3, alpha: 32, target_modules: ['out_proj'] });
    await expect(r.create('peft', { name: 'lora', rank: -1 }, { seed: 0, registry: r })).rejects.toThrow(/peft "lora": rank: /);
  });

  it('errors on an unknown name with the registered names and a suggestion', () => {
    const r = new PluginRegistry([testPlugins]);
    expect(() => r.spec('peft', 'lroa')).toThrow('unknown peft plugin "lroa" (did you mean "lora"?); registered peft plugins: ln-tuning, lora');
    expect(() => r.spec('backbone', 'clip')).toThrow('registered backbone plugins: (none)');
  });

  it('refuses two plugins with the same kind and name', () => {
    const dup = pluginModule(definePlugin({ kind: 'peft', name: 'lora', description: 'again', options: z.object({}), create: () => 1 }));
    expect(() => new PluginRegistry([testPlugins, dup])).toThrow(/two peft plugins are registered as "lora"/);
  });

  it('rejects non-kebab names and the reserved option "name"', () => {
    expect(() => definePlugin({ kind: 'head', name: 'LinearNorm', description: '', options: z.object({}), create: () => 1 })).toThrow(/kebab-case/);
    expect(() => definePlugin({ kind: 'head', name: 'x', description: '', options: z.object({ name: z.string() }), create: () => 1 })).toThrow(/reserved/);
  });

  it('loads the built-in packages by name', async () => {
    const r = await buildRegistry([]);
    expect(r.names('logger')).toEqual(expect.arrayContaining(['console', 'jsonl']));
  });
});

describe('third-party plugins', () => {
  it('loads a plugin module listed under plugins: relative to the config file, and uses it in a run', async () => {
    const dir = tempTree({
      'conf/exp.yaml': `plugins: [./csv.ts]\nloggers:\n  - {name: csv, columns: [train/loss, val/auc]}\n`,
      'conf/csv.ts': `export * from ${JSON.stringify(EXAMPLE)};\n`,
    });
    const { config, registry } = await loadExperiment(['conf/exp.yaml'], { cwd: dir });
    expect(config.loggers).toEqual([{ name: 'csv', file: 'metrics.csv', columns: ['train/loss', 'val/auc'], delimiter: ',' }]);
    expect(registry.names('logger')).toContain('csv');

    const run = new RunStore(join(dir, 'runs')).open({ experiment: config.name, run: 'r1', config });
    const logger = (await registry.create('logger', config.loggers[0]!, { seed: 0, registry, run })) as {
      start(): void;
      log(r: object): void;
    };
    logger.start();
    logger.log({ step: 1, 'train/loss': 0.5 });
    logger.log({ step: 2, 'train/loss': 0.25, 'val/auc': 0.9 });
    expect(readFileSync(join(run.dir, 'metrics.csv'), 'utf8')).toBe('step,train/loss,val/auc\n1,0.5,\n2,0.25,0.9\n');
  });

  it('validates the third-party plugin options like any other', async () => {
    const dir = tempTree({ 'exp.yaml': `plugins: [${JSON.stringify(EXAMPLE)}]\nloggers: [{name: csv, columns: []}]\n` });
    await expect(loadExperiment(['exp.yaml'], { cwd: dir })).rejects.toThrow(/exp\.yaml: loggers\.0\.columns: /);
  });

  it('explains a module that is missing or exports no ContainerModule', async () => {
    const dir = tempTree({ 'empty.ts': 'export const x = 1;\n' });
    await expect(importPluginModule('./empty.ts', dir)).rejects.toThrow(/exports no ContainerModule/);
    await expect(importPluginModule('./missing.ts', dir)).rejects.toThrow(/plugin module not found/);
    await expect(importPluginModule('dfdet-plugin-that-does-not-exist', dir)).rejects.toThrow(/is not installed/);
  });

  it('resolves a plugin package by npm name', async () => {
    const r = await buildRegistry(['dfdet-plugin-csv-logger']);
    expect(r.names('logger')).toContain('csv');
  });
});

