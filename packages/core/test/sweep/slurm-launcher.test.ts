import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SweepPlan } from '../../src/sweep/plan.js';
import { sbatchScript, SlurmLauncher, type Exec, type SlurmOptions } from '../../src/sweep/slurm.js';
import { SweepState } from '../../src/sweep/state.js';

function plan(): SweepPlan {
  const dir = join(mkdtempSync(join(tmpdir(), 'dfdet-slurm-')), 'runs', 'sw');
  mkdirSync(dir, { recursive: true });
  const runs = ['a', 'b'].map((name, index) => ({ index, name, axes: { 'optim.lr': index }, overrides: [`optim.lr=${index}`, 'name="sw"'], dir: join(dir, name) }));
  return { name: 'sw', file: '/x/sweep.yaml', experiment: ['/x/exp.yaml'], outputDir: join(dir, '..'), dir, axes: ['optim.lr'], runs, monitor: 'val/video/mAP', mode: 'max', launcher: { name: 'slurm' }, results: {}, cwd: '/work dir' };
}

const OPTS: SlurmOptions = { gpus: 1, cpus: 8, mem: '32G', time: '04:00:00', partition: 'gpu', array_throttle: 2, sbatch_args: ['--constraint=a100'], setup: ['module load cuda'], poll_seconds: 0.01, max_requeues: 2 };

function meta(dir: string, status: string, sessions = 1, error?: string) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ experiment: 'sw', run: 'x', status, error, started_at: '', sessions: Array.from({ length: sessions }, () => ({})) }));
}

describe('slurm launcher', () => {
  it('writes a job array script: one task per run, each an exp run --resume of its run', () => {
    const p = plan();
    const s = sbatchScript(p, p.runs, OPTS, '/logs');
    expect(s).toContain('#SBATCH --array=0-1%2');
    expect(s).toContain('#SBATCH --partition=gpu');
    expect(s).toContain('#SBATCH --gres=gpu:1');
    expect(s).toContain('#SBATCH --cpus-per-task=8');
    expect(s).toContain('#SBATCH --mem=32G');
    expect(s).toContain('#SBATCH --time=04:00:00');
    expect(s).toContain('#SBATCH --requeue');
    expect(s).toContain('#SBATCH --constraint=a100');
    expect(s).toContain('#SBATCH --output=/logs/%A_%a.out');
    expect(s).toContain("cd '/work dir'");
    expect(s).toContain('module load cuda');
    expect(s).toMatch(/ {2}1\)\n.*\n.*DFDET_SWEEP_RUN=b\n {4}exec .* run \/x\/exp.yaml --set optim.lr=1 --set 'name="sw"' --set 'engine.device="cuda:0"' --run b --resume >>.*\/b\/stdout.txt 2>>.*\/b\/stderr.txt/);
    expect(sbatchScript(p, p.runs, { ...OPTS, gpus: 0, array_throttle: undefined }, '/logs')).toContain(`--set 'engine.device="cpu"'`);
  });

  it('follows squeue, requeues a run whose node failed (it resumes), and records what Slurm did', async () => {
    const p = plan();
    const calls: string[][] = [];
    let polls = 0;
    const jobs: string[] = [];
    const exec: Exec = async (cmd, args) => {
      calls.push([cmd, ...args]);
      if (cmd === 'sbatch') {
        const id = String(100 + jobs.length);
        jobs.push(readFileSync(args[1]!, 'utf8'));
        return { code: 0, stdout: `${id}\n`, stderr: '' };
      }
      if (cmd === 'squeue') {
        polls += 1;
        const ids = args[args.indexOf('-j') + 1]!.split(',');
        if (ids.includes('100')) {
          // job 100: both running at first; then a completes and b's node dies
          if (polls <= 2) return { code: 0, stdout: '100_0|RUNNING\n100_1|RUNNING\n', stderr: '' };
          meta(p.runs[0]!.dir, 'completed');
          meta(p.runs[1]!.dir, 'running');
          return { code: 0, stdout: '', stderr: '' };
        }
        if (ids.includes('101')) {
          if (polls <= 4) return { code: 0, stdout: '101_0|PENDING\n', stderr: '' };
          meta(p.runs[1]!.dir, 'completed', 2);
          return { code: 0, stdout: '', stderr: '' };
        }
        return { code: 1, stdout: '', stderr: 'Invalid job id specified' };
      }
      if (cmd === 'sacct') return { code: 1, stdout: '', stderr: 'Slurm accounting storage is disabled' };
      if (cmd === 'scontrol') {
        const job = args.at(-1)!;
        return { code: 0, stdout: `JobId=1 ArrayJobId=100 JobState=${job === '100_1' ? 'NODE_FAIL' : 'COMPLETED'} Reason=None ExitCode=0:0`, stderr: '' };
      }
      throw new Error(`unexpected ${cmd}`);
    };
    const lines: string[] = [];
    const state = new SweepState(p.dir, 'sw', 'slurm');
    const out = await new SlurmLauncher(OPTS, exec).launch({ plan: p, runs: p.runs, state, say: (l) => lines.push(l), signal: new AbortController().signal });
    expect(out.statuses).toEqual({ a: 'completed', b: 'completed' });
    expect(jobs).toHaveLength(2);
    expect(jobs[1]).toContain('#SBATCH --array=0-0%2');
    expect(jobs[1]).toContain('--run b --resume');
    expect(jobs[1]).not.toContain('--run a ');
    expect(state.data.runs.b).toMatchObject({ status: 'completed', requeues: 1, attempts: 2, job: '101_0' });
    expect(state.data.runs.a).toMatchObject({ status: 'completed', attempts: 1, job: '100_0' });
    expect(state.data.jobs!.map((j) => j.id)).toEqual(['100', '101']);
    expect(lines.join('\n')).toMatch(/b stopped \(NODE_FAIL\); requeueing, it resumes from its last checkpoint/);
    expect(lines.join('\n')).toMatch(/resubmitted 1 run\(s\) as Slurm job array 101/);
  });

  it('a rerun follows tasks that are still queued instead of submitting them again; Ctrl-C leaves them running', async () => {
    const p = plan();
    const state = new SweepState(p.dir, 'sw', 'slurm');
    state.data.jobs = [{ id: '7', runs: ['a', 'b'], submitted_at: '', script: '' }];
    state.update('a', { status: 'queued', attempts: 1, job: '7_0' });
    state.update('b', { status: 'queued', attempts: 1, job: '7_1' });
    const abort = new AbortController();
    const cmds: string[] = [];
    const exec: Exec = async (cmd) => {
      cmds.push(cmd);
      if (cmd === 'squeue') {
        setTimeout(() => abort.abort(), 5);
        return { code: 0, stdout: '7_0|RUNNING\n7_1|PENDING\n', stderr: '' };
      }
      return { code: 1, stdout: '', stderr: '' };
    };
    const lines: string[] = [];
    const out = await new SlurmLauncher({ ...OPTS, poll_seconds: 1 }, exec).launch({ plan: p, runs: p.runs, state, say: (l) => lines.push(l), signal: abort.signal });
    expect(cmds).not.toContain('sbatch');
    expect(out.statuses).toEqual({ a: 'running', b: 'queued' });
    expect(lines.join('\n')).toContain('scancel 7');
  });

  it('a run that fails in training is failed, not requeued', async () => {
    const p = plan();
    p.runs = p.runs.slice(0, 1);
    let n = 0;
    const exec: Exec = async (cmd) => {
      if (cmd === 'sbatch') return { code: 0, stdout: '5;cluster\n', stderr: '' };
      if (cmd === 'squeue') {
        n += 1;
        if (n > 1) {
          meta(p.runs[0]!.dir, 'failed', 1, 'loss is NaN at step 3');
          return { code: 0, stdout: '', stderr: '' };
        }
        return { code: 0, stdout: '5_0|RUNNING\n', stderr: '' };
      }
      if (cmd === 'sacct') return { code: 0, stdout: 'FAILED|1:0\n', stderr: '' };
      return { code: 1, stdout: '', stderr: '' };
    };
    const state = new SweepState(p.dir, 'sw', 'slurm');
    const out = await new SlurmLauncher(OPTS, exec).launch({ plan: p, runs: p.runs, state, say: () => {}, signal: new AbortController().signal });
    expect(out.statuses).toEqual({ a: 'failed' });
    expect(state.data.runs.a).toMatchObject({ status: 'failed', error: 'loss is NaN at step 3', exit_code: 1 });
  });

  it('a task that fails before opening its run (an interrupted run that no longer starts) is failed, not requeued', async () => {
    const p = plan();
    p.runs = p.runs.slice(0, 1);
    meta(p.runs[0]!.dir, 'interrupted', 1);
    writeFileSync(join(p.runs[0]!.dir, 'stderr.txt'), 'error: plugin "x" failed to load\n(run with --verbose for the stack trace)\n');
    let n = 0;
    const exec: Exec = async (cmd) => {
      if (cmd === 'sbatch') return { code: 0, stdout: '9\n', stderr: '' };
      if (cmd === 'squeue') return (n += 1) > 1 ? { code: 0, stdout: '', stderr: '' } : { code: 0, stdout: '9_0|RUNNING\n', stderr: '' };
      if (cmd === 'sacct') return { code: 0, stdout: 'FAILED|1:0\n', stderr: '' };
      return { code: 1, stdout: '', stderr: '' };
    };
    const state = new SweepState(p.dir, 'sw', 'slurm');
    const out = await new SlurmLauncher(OPTS, exec).launch({ plan: p, runs: p.runs, state, say: () => {}, signal: new AbortController().signal });
    expect(out.statuses).toEqual({ a: 'failed' });
    expect(state.data.runs.a).toMatchObject({ status: 'failed', error: 'plugin "x" failed to load', attempts: 1 });
    expect(state.data.runs.a!.requeues).toBeUndefined();
  });
});
