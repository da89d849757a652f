import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultTemplate, expandAxes, formatValue, renderName, sanitizeName, sweepFileSchema } from '../../src/sweep/spec.js';
import { UserError } from '../../src/util/errors.js';
import { loadSweepFile } from '../../src/sweep/spec.js';

const spec = (s: Record<string, unknown>) => sweepFileSchema.parse({ experiment: 'x.yaml', ...s });

describe('sweep axes', () => {
  it('grid is the cartesian product (first key outermost), zip goes in lockstep, seeds repeat, blocks multiply', () => {
    const { axes, assignments } = expandAxes(
      spec({ grid: { 'model.peft.name': ['ln-tuning', 'lora'], 'loss.uniformity.weight': [0, 0.5] }, zip: { 'optim.lr': [1e-4, 3e-4], 'schedule.warmup_steps': [0, 10] }, seeds: [1, 2] }),
    );
    expect(axes).toEqual(['model.peft.name', 'loss.uniformity.weight', 'optim.lr', 'schedule.warmup_steps', 'seed']);
    expect(assignments).toHaveLength(2 * 2 * 2 * 2);
    expect(assignments[0]).toEqual({ 'model.peft.name': 'ln-tuning', 'loss.uniformity.weight': 0, 'optim.lr': 1e-4, 'schedule.warmup_steps': 0, seed: 1 });
    expect(assignments[1]).toEqual({ 'model.peft.name': 'ln-tuning', 'loss.uniformity.weight': 0, 'optim.lr': 1e-4, 'schedule.warmup_steps': 0, seed: 2 });
    expect(assignments[2]).toMatchObject({ 'optim.lr': 3e-4, 'schedule.warmup_steps': 10 });
    expect(assignments.at(-1)).toMatchObject({ 'model.peft.name': 'lora', 'loss.uniformity.weight': 0.5 });
    expect(new Set(assignments.map((a) => JSON.stringify(a))).size).toBe(16);
    expect(expandAxes(spec({})).assignments).toEqual([{}]);
  });

  it('random samples are seeded, inside their ranges, log-uniform and integer when asked, or picked from lists', () => {
    const s = spec({
      random: {
        count: 200,
        seed: 7,
        params: { 'optim.lr': { low: 1e-5, high: 1e-2, log: true }, 'model.peft.rank': { low: 2, high: 16, int: true }, 'head.name': ['linear', 'linear-norm'], 'optim.weight_decay': { low: 0, high: 0.1 } },
      },
    });
    const a = expandAxes(s).assignments;
    expect(expandAxes(s).assignments).toEqual(a);
    expect(a).toHaveLength(200);
    const lrs = a.map((x) => x['optim.lr'] as number);
    expect(Math.min(...lrs)).toBeGreaterThanOrEqual(1e-5);
    expect(Math.max(...lrs)).toBeLessThanOrEqual(1e-2);
    // log-uniform: about a third of the samples per decade
    expect(lrs.filter((v) => v < 1e-4).length).toBeGreaterThan(40);
    const ranks = a.map((x) => x['model.peft.rank'] as number);
    expect(ranks.every((r) => Number.isInteger(r) && r >= 2 && r <= 16)).toBe(true);
    expect(new Set(ranks).size).toBeGreaterThan(10);
    expect(new Set(a.map((x) => x['head.name']))).toEqual(new Set(['linear', 'linear-norm']));
    const other = expandAxes(spec({ random: { ...s.random!, seed: 8 } })).assignments;
    expect(other).not.toEqual(a);
  });

  it('rejects unequal zip lists, a key in two blocks, and bad ranges', () => {
    expect(() => expandAxes(spec({ zip: { a: [1, 2], b: [1] } }))).toThrow(/same length; a has 2, b has 1/);
    expect(() => expandAxes(spec({ grid: { 'optim.lr': [1] }, zip: { 'optim.lr': [2] } }))).toThrow(/optim.lr is also set by grid/);
    expect(() => expandAxes(spec({ set: { optim: { lr: 1 } } as never, grid: { 'optim.lr': [1] } }))).toThrow(UserError);
    expect(() => expandAxes(spec({ grid: { seed: [1] }, seeds: [1, 2] }))).toThrow(/seed is also set by grid/);
    expect(() => expandAxes(spec({ random: { count: 1, params: { x: { low: 0, high: 1, log: true } } } }))).toThrow(/log ranges need low > 0/);
    expect(() => sweepFileSchema.parse({ experiment: 'x', grid: { 'not a key': [1] } })).toThrow();
    expect(() => sweepFileSchema.parse({ experiment: 'x', grid: { a: [] } })).toThrow();
  });
});

describe('run names', () => {
  it('fill {dotted.key}, {seed} and {index}, format numbers and plugin instances, and are folder-safe', () => {
    const axes: Record<string, unknown> = { 'model.peft.name': 'lora', 'loss.uniformity.weight': 0.30000000000000004, seed: 3 };
    const lookup = (k: string) => axes[k];
    expect(renderName('{model.peft.name}-{loss.uniformity.weight}-s{seed}', lookup, 0)).toBe('lora-0.3-s3');
    expect(renderName('#{index} {model.peft.name}/x', lookup, 5)).toBe('5_lora_x');
    expect(() => renderName('{nope}', lookup, 2)).toThrow(/\{nope\} is neither an axis nor a config key of run #2/);
    expect(sanitizeName('../a b:c//d..')).toBe('a_b_c_d');
    expect(sanitizeName('***')).toBe('run');
    expect(formatValue({ name: 'lora', rank: 4, target_modules: ['q_proj', 'v_proj'] })).toBe('lora(rank=4,target_modules=[q_proj,v_proj])');
    expect(formatValue(1e-4)).toBe('0.0001');
    expect(defaultTemplate(['model.peft.name', 'optim.lr', 'seed'])).toBe('peft-{model.peft.name}_lr-{optim.lr}_seed-{seed}');
  });

  it('a sweep file: experiment paths relative to it, name from the file, launcher defaults to local', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-sweepfile-'));
    writeFileSync(join(dir, 'my sweep.yaml'), 'experiment: [../base.yaml, more.yaml]\ngrid: {optim.lr: [1, 2]}\n');
    const s = loadSweepFile(join(dir, 'my sweep.yaml'));
    expect(s.name).toBe('my-sweep');
    expect(s.experiment).toEqual([join(dir, '../base.yaml'), join(dir, 'more.yaml')]);
    expect(s.spec.launcher).toEqual({ name: 'local' });
    // name: without placeholders is the sweep name (run_name: the template); with them, the template
    writeFileSync(join(dir, 'a.yaml'), "experiment: x.yaml\nname: abl\nrun_name: '{optim.lr}'\n");
    expect(loadSweepFile(join(dir, 'a.yaml'))).toMatchObject({ name: 'abl', template: '{optim.lr}' });
    writeFileSync(join(dir, 'b.yaml'), "experiment: x.yaml\nsweep: s\nname: 'r{optim.lr}'\n");
    expect(loadSweepFile(join(dir, 'b.yaml'))).toMatchObject({ name: 's', template: 'r{optim.lr}' });
    writeFileSync(join(dir, 'c.yaml'), "experiment: x.yaml\nname: a\nsweep: b\n");
    expect(() => loadSweepFile(join(dir, 'c.yaml'))).toThrow(/disagree/);
    writeFileSync(join(dir, 'bad.yaml'), 'experiment: a.yaml\ngird: {a: [1]}\n');
    expect(() => loadSweepFile(join(dir, 'bad.yaml'))).toThrow(/gird/);
  });
});
