import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { lines, meta, ROOT, sweepSetup, waitFor } from '../../packages/core/test/sweep/fixtures/integration.js';
import { runCli } from './cli-run.js';

describe('exp sweep with the local launcher', () => {
  it('runs a grid × seeds in parallel child processes, skips finished runs on a rerun, and tables mean ± std', async () => {
    const { file, runs } = sweepSetup(
      'dfdet-sweep-local-',
      `sweep: grid
name: 'steps{trainer.max_steps}-s{seed}'
experiment: exp.yaml
grid: {trainer.max_steps: [1, 2]}
seeds: [0, 1]
launcher: {name: local, workers: 2}
`,
    );
    const dry = await runCli(['sweep', file, '--dry-run']);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toContain('sweep grid: 4 run(s)');
    expect(dry.out).toMatch(/4\. steps2-s1 {2}trainer\.max_steps=2 seed=1/);
    expect(existsSync(join(runs, 'grid'))).toBe(false);

    const first = await runCli(['sweep', file]);
    expect(first.code, first.err + first.out).toBe(0);
    const sweepDir = join(runs, 'grid');
    for (const name of ['steps1-s0', 'steps1-s1', 'steps2-s0', 'steps2-s1']) {
      const dir = join(sweepDir, name);
      expect(meta(dir).status, name).toBe('completed');
      expect(readFileSync(join(dir, 'stderr.txt'), 'utf8')).toMatch(/completed: /);
      expect(readFileSync(join(dir, 'stdout.txt'), 'utf8')).toMatch(/^--- .* start on cpu/);
      const config = parse(readFileSync(join(dir, 'config.yaml'), 'utf8'));
      expect(config).toMatchObject({ name: 'grid', seed: Number(name.at(-1)), trainer: { max_steps: Number(name[5]) }, engine: { device: 'cpu' } });
      expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).steps).toBe(Number(name[5]));
    }
    expect(first.out).toMatch(/\[\d\/4\] start steps1-s0 on cpu/);
    expect(first.out).toMatch(/\[\d\/4\] completed steps2-s1 in \d+s · best val\/frame\/auroc=/);
    expect(first.out).toContain('[sweep grid] 4/4 completed, 0 failed, 0 interrupted, 0 running, 0 queued');
    expect(first.out).toContain('### Mean ± std over seeds');
    expect(first.out).toMatch(/\| 2 \| 2\/2 \| [\d.]+ ± [\d.]+ \|/);
    const state = JSON.parse(readFileSync(join(sweepDir, 'state.json'), 'utf8'));
    expect(Object.values(state.runs).map((r) => (r as { attempts: number }).attempts)).toEqual([1, 1, 1, 1]);
    const record = parse(readFileSync(join(sweepDir, 'sweep.yaml'), 'utf8'));
    expect(record.runs.map((r: { name: string }) => r.name)).toEqual(['steps1-s0', 'steps1-s1', 'steps2-s0', 'steps2-s1']);
    for (const f of ['results.md', 'results.csv', 'results.json', 'results-seeds.csv']) expect(existsSync(join(sweepDir, f)), f).toBe(true);

    const again = await runCli(['sweep', file]);
    expect(again.code).toBe(0);
    expect(again.out).toContain('4 completed (skipped), 0 failed, 0 to run');
    expect(again.out).not.toContain('start ');

    const table = await runCli(['sweep', file, '--results-only', '--sort', 'final/train/loss']);
    expect(table.code).toBe(0);
    expect(table.out).toContain('sorted by final/train/loss (lowest first)');
    const rows = table.out.split('\n').filter((l) => /^\| steps\d-s\d /.test(l));
    const losses = rows.map((l) => Number(l.split('|').at(-2)));
    expect(losses).toEqual([...losses].sort((a, b) => a - b));
  });

  it('Ctrl-C stops every run at a checkpoint; rerunning finishes the sweep; failed runs wait for --retry-failed', async () => {
    const { file, runs } = sweepSetup(
      'dfdet-sweep-int-',
      `sweep: ctrlc
name: '{index}-{loggers.0.name}'
experiment: exp.yaml
zip:
  loggers: [[{name: sleepy, ms: 400}], [{name: fail-once, at_step: 1, marker: MARKER}]]
launcher: {name: local, workers: 2}
`.replace('MARKER', JSON.stringify(join(mkdtempSync(join(tmpdir(), 'dfdet-marker-')), 'fail-marker'))),
      'epochs: 1, max_steps: 8',
    );
    const slow = join(runs, 'ctrlc', '0-sleepy');
    const flaky = join(runs, 'ctrlc', '1-fail-once');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/core/src/cli/bin.ts'), 'sweep', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    try {
      await waitFor(() => lines(join(slow, 'metrics.jsonl')) >= 2 && existsSync(join(flaky, 'meta.json')) && meta(flaky).status === 'failed', 60_000, 'the slow run to train and the flaky one to fail');
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${out}`);
    }
    child.kill('SIGINT');
    expect(await exited, out).toBe(130);
    expect(out).toContain('stopping the sweep');
    expect(out).toMatch(/interrupted 0-sleepy after/);
    expect(out).toMatch(/FAILED 1-fail-once after \d+s: fail-once: planned failure at step 1/);
    expect(out).toContain('rerun the same command to continue it');
    expect(meta(slow).status).toBe('interrupted');
    expect(existsSync(join(slow, 'checkpoints', 'last.safetensors'))).toBe(true);
    const stepsBefore = lines(join(slow, 'metrics.jsonl'));
    expect(stepsBefore).toBeLessThan(9);

    const resumed = await runCli(['sweep', file]);
    expect(resumed.code, resumed.out).toBe(1);
    expect(resumed.out).toContain('1 failed (skipped; --retry-failed reruns them), 1 to run (1 resuming)');
    expect(resumed.out).toContain('resume 0-sleepy (was interrupted)');
    expect(resumed.out).toContain('rerun with --retry-failed');
    expect(meta(slow).status).toBe('completed');
    expect(meta(slow).sessions).toHaveLength(2);
    expect(meta(flaky).status).toBe('failed');

    const retried = await runCli(['sweep', file, '--retry-failed']);
    expect(retried.code, retried.out).toBe(0);
    expect(retried.out).toContain('resume 1-fail-once (was failed)');
    expect(meta(flaky).status).toBe('completed');
    expect(retried.out).toMatch(/\| 0-sleepy \| \[sleepy\(ms=400\)\] \| completed \|/);
  });
});
