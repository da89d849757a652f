import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { planSweep, writeSweepRecord } from '../../src/sweep/plan.js';
import { expRunCommand } from '../../src/sweep/launcher.js';

const ROOT = resolve(__dirname, '../../../..');

function setup(sweepYaml: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dfdet-plan-'));
  mkdirSync(join(dir, 'exps'));
  writeFileSync(
    join(dir, 'exps', 'base.yaml'),
    `name: base
plugins: [${JSON.stringify(join(ROOT, 'test/integration/fixture-dataset.ts'))}]
engine: {backend: wasm}
output: {dir: runs}
loggers: []
model:
  backbone: {name: clip-vit, weights: ${JSON.stringify(join(ROOT, 'test/fixtures/clip-tiny'))}}
  peft: {name: lora, rank: 2, alpha: 4, target_modules: [out_proj]}
  head: {name: linear-norm}
data: {train: [{name: clip-tiny-images}], val: [{name: clip-tiny-images}], batch_size: 2, workers: 0}
trainer: {epochs: 1, max_steps: 1, monitor: val/frame/auroc, mode: max}
`,
  );
  const file = join(dir, 'sweep.yaml');
  writeFileSync(file, sweepYaml);
  return { dir, file };
}

describe('sweep plan', () => {
  it('expands, names and validates every run; runs go to <output.dir>/<sweep>/<run>', async () => {
    const { dir, file } = setup(`experiment: exps/base.yaml
sweep: abl
name: '{model.peft.name}-r{model.peft.rank}-lr{optim.lr}-s{seed}'
set: {trainer.max_steps: 2}
grid:
  model.peft.rank: [2, 4]
  optim.lr: [0.01, 0.001]
seeds: [0, 1]
`);
    const { plan } = await planSweep(file, { cwd: dir, overrides: ['schedule.warmup_steps=1'] });
    expect(plan.name).toBe('abl');
    expect(plan.dir).toBe(join(dir, 'runs', 'abl'));
    expect(plan.monitor).toBe('val/frame/auroc');
    expect(plan.runs).toHaveLength(8);
    expect(plan.runs.map((r) => r.name).slice(0, 3)).toEqual(['lora-r2-lr0.01-s0', 'lora-r2-lr0.01-s1', 'lora-r2-lr0.001-s0']);
    expect(plan.runs[0]!.overrides).toEqual([
      'trainer.max_steps=2',
      'schedule.warmup_steps=1',
      'model.peft.rank=2',
      'optim.lr=0.01',
      'seed=0',
      'name="abl"',
      `output.dir=${JSON.stringify(join(dir, 'runs'))}`,
    ]);
    expect(plan.runs[7]!.dir).toBe(join(dir, 'runs', 'abl', 'lora-r4-lr0.001-s1'));
    const cmd = expRunCommand(plan, plan.runs[0]!, ['engine.device="cpu"']);
    expect(cmd.args.slice(-4)).toEqual(['engine.device="cpu"', '--run', 'lora-r2-lr0.01-s0', '--resume']);
    expect(cmd.args).toContain(join(dir, 'exps', 'base.yaml'));
  });

  it('errors on duplicate names, on invalid run configs (naming the run) and on --set of an axis', async () => {
    const dup = setup(`experiment: exps/base.yaml\nname: 'r{optim.lr}'\ngrid: {optim.lr: [0.01, 0.02]}\nseeds: [0, 1]\n`);
    await expect(planSweep(dup.file, { cwd: dup.dir })).rejects.toThrow(/duplicate run name "r0.01" for runs #0 and #1 .* e\.g\. \{seed\}/);
    const bad = setup(`experiment: exps/base.yaml\ngrid: {model.peft.rnak: [2, 4]}\n`);
    await expect(planSweep(bad.file, { cwd: bad.dir })).rejects.toThrow(/run #0 \(model.peft.rnak=2\).*did you mean "rank"/s);
    const axis = setup(`experiment: exps/base.yaml\ngrid: {optim.lr: [0.01, 0.02]}\n`);
    await expect(planSweep(axis.file, { cwd: axis.dir, overrides: ['optim.lr=1'] })).rejects.toThrow(/optim.lr is a sweep axis/);
    const launcher = setup(`experiment: exps/base.yaml\nlauncher: {name: slurm, gpu: 1}\n`);
    await expect(planSweep(launcher.file, { cwd: launcher.dir })).rejects.toThrow(/launcher "slurm".*gpu/);
    const unknown = setup(`experiment: exps/base.yaml\nlauncher: {name: pbs}\n`);
    await expect(planSweep(unknown.file, { cwd: unknown.dir })).rejects.toThrow(/unknown launcher plugin "pbs".*local, slurm/);
    const missing = setup(`experiment: nope.yaml\n`);
    await expect(planSweep(missing.file, { cwd: missing.dir })).rejects.toThrow(/experiment file not found/);
  });

  it('sweep.yaml records the runs; a run started with other overrides cannot be silently reused', async () => {
    const { dir, file } = setup(`experiment: exps/base.yaml\nsweep: s\ngrid: {optim.lr: [0.01, 0.02]}\n`);
    const { plan } = await planSweep(file, { cwd: dir });
    mkdirSync(plan.dir, { recursive: true });
    writeSweepRecord(plan);
    const rec = parse(readFileSync(join(plan.dir, 'sweep.yaml'), 'utf8'));
    expect(rec.runs.map((r: { name: string }) => r.name)).toEqual(['lr-0.01', 'lr-0.02']);
    expect(rec.axes).toEqual(['optim.lr']);
    mkdirSync(plan.runs[0]!.dir, { recursive: true });
    writeFileSync(join(plan.runs[0]!.dir, 'meta.json'), '{"status":"completed"}');
    writeSweepRecord(plan); // same plan: fine
    const { plan: changed } = await planSweep(file, { cwd: dir, overrides: ['trainer.max_steps=3'] });
    expect(() => writeSweepRecord(changed)).toThrow(/run lr-0.01 of sweep s was started with other overrides \(now trainer.max_steps=3\)/);
  });

  it('experiments/quickstart-sweep.yaml plans a PEFT × loss grid on the quickstart', async () => {
    const { plan } = await planSweep(join(ROOT, 'experiments/quickstart-sweep.yaml'), { cwd: ROOT });
    expect(plan.name).toBe('quickstart-sweep');
    expect(plan.dir).toBe(join(ROOT, 'runs', 'quickstart-sweep'));
    expect(plan.runs.map((r) => r.name)).toEqual(['ln-tuning-unif0-align0', 'ln-tuning-unif0.5-align0.1', 'lora-unif0-align0', 'lora-unif0.5-align0.1']);
    expect(plan.launcher).toMatchObject({ name: 'local', workers: 2 });
  });
});
