import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../io/atomic.js';
import { definePlugin } from '../plugin/spec.js';
import { UserError } from '../util/errors.js';
import { bestText, expRunCommand, summaryOf, formatElapsed, shellQuote, type LaunchOutcome, type LaunchRequest, type Launcher } from './launcher.js';
import type { SweepPlan, SweepRun } from './plan.js';
import { readMeta, type SweepRunStatus } from './state.js';
import { toOverride } from './spec.js';

export interface SlurmOptions {
  partition?: string;
  account?: string;
  qos?: string;
  gpus: number;
  cpus: number;
  mem?: string;
  time?: string;
  array_throttle?: number;
  job_name?: string;
  sbatch_args: string[];
  setup: string[];
  poll_seconds: number;
  max_requeues: number;
  /** Give up following after this long (the jobs go on; rerun to follow them again). */
  follow_timeout_s?: number;
}

/** Slurm job states after which a run is requeued: it resumes from its last checkpoint. */
const REQUEUE_STATES = new Set(['PREEMPTED', 'NODE_FAIL', 'BOOT_FAIL', 'TIMEOUT', 'REQUEUED', 'DEADLINE']);

export type Exec = (cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }) => Promise<{ code: number; stdout: string; stderr: string }>;

export const execCommand: Exec = (cmd, args, opts = {}) =>
  new Promise((resolve) => {
    execFile(cmd, args, { env: opts.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && !stderr ? err.message : '') });
    });
  });

/** The sbatch script of one job array: task i runs `exp run … --run <runs[i]> --resume`. */
export function sbatchScript(plan: SweepPlan, runs: SweepRun[], o: SlurmOptions, logDir: string): string {
  const lines = ['#!/bin/bash', `#SBATCH --job-name=${o.job_name ?? `sweep-${plan.name}`}`];
  lines.push(`#SBATCH --array=0-${runs.length - 1}${o.array_throttle ? `%${o.array_throttle}` : ''}`);
  lines.push(`#SBATCH --output=${join(logDir, '%A_%a.out')}`);
  if (o.partition) lines.push(`#SBATCH --partition=${o.partition}`);
  if (o.account) lines.push(`#SBATCH --account=${o.account}`);
  if (o.qos) lines.push(`#SBATCH --qos=${o.qos}`);
  lines.push('#SBATCH --ntasks=1', `#SBATCH --cpus-per-task=${o.cpus}`);
  if (o.gpus > 0) lines.push(`#SBATCH --gres=gpu:${o.gpus}`);
  if (o.mem) lines.push(`#SBATCH --mem=${o.mem}`);
  if (o.time) lines.push(`#SBATCH --time=${o.time}`);
  // preempted or node-failed tasks go back to the queue and resume from their checkpoint
  lines.push('#SBATCH --requeue', '#SBATCH --open-mode=append');
  for (const a of o.sbatch_args) lines.push(`#SBATCH ${a}`);
  lines.push('', 'set -u', `cd ${shellQuote(plan.cwd)}`, `export DFDET_SWEEP=${shellQuote(plan.name)}`);
  for (const s of o.setup) lines.push(s);
  lines.push('echo "$(date -Is) task ${SLURM_ARRAY_JOB_ID:-}_${SLURM_ARRAY_TASK_ID:-} on $(hostname), restart ${SLURM_RESTART_COUNT:-0}"', 'case "${SLURM_ARRAY_TASK_ID}" in');
  const device = o.gpus > 0 ? 'cuda:0' : 'cpu';
  runs.forEach((run, i) => {
    const { command, args } = expRunCommand(plan, run, [toOverride('engine.device', device)]);
    const q = (p: string) => shellQuote(join(run.dir, p));
    lines.push(
      `  ${i})`,
      `    mkdir -p ${shellQuote(run.dir)}`,
      `    export DFDET_SWEEP_RUN=${shellQuote(run.name)}`,
      `    exec ${[command, ...args].map(shellQuote).join(' ')} >>${q('stdout.txt')} 2>>${q('stderr.txt')}`,
      '    ;;',
    );
  });
  lines.push('  *) echo "no run for array task ${SLURM_ARRAY_TASK_ID}" >&2; exit 2 ;;', 'esac', '');
  return lines.join('\n');
}

interface Tracked {
  run: SweepRun;
  job: string; // <arrayjob>_<task>
  state: string; // last squeue state
  started?: number;
  /** Sessions in the run's meta.json when submitted (undefined: followed from an earlier invocation). */
  sessions?: number;
}

/**
 * Submits a sweep as a Slurm job array (one task per run), follows it with squeue (and sacct or
 * scontrol for finished tasks), resubmits preempted / node-failed tasks, and returns when every run
 * finished. Ctrl-C stops following; the jobs keep going and rerunning the command follows them again.
 */
export class SlurmLauncher implements Launcher {
  constructor(
    private readonly o: SlurmOptions,
    private readonly exec: Exec = execCommand,
  ) {}

  async launch(req: LaunchRequest): Promise<LaunchOutcome> {
    const { plan, state, say } = req;
    const env = req.env ?? process.env;
    const statuses: Record<string, SweepRunStatus> = {};
    const tracked = new Map<string, Tracked>();
    const total = plan.runs.length;

    // tasks of an earlier invocation that are still queued or running are followed, not resubmitted
    const known = (state.data.jobs ?? []).map((j) => j.id);
    const alive = known.length ? await this.squeue(known, env) : new Map<string, string>();
    const toSubmit: SweepRun[] = [];
    for (const run of req.runs) {
      const job = state.run(run.name).job;
      if (job && alive.has(job)) {
        tracked.set(run.name, { run, job, state: alive.get(job)! });
        say(`[${run.index + 1}/${total}] following ${run.name}: Slurm task ${job} is ${alive.get(job)}`);
      } else toSubmit.push(run);
    }
    if (toSubmit.length) await this.submit(plan, toSubmit, req, tracked, false);

    const deadline = this.o.follow_timeout_s ? Date.now() + this.o.follow_timeout_s * 1000 : Infinity;
    while (tracked.size && !req.signal.aborted) {
      await sleep(this.o.poll_seconds * 1000, req.signal);
      if (req.signal.aborted) break;
      if (Date.now() > deadline) {
        say(`[sweep ${plan.name}] stopped following after ${this.o.follow_timeout_s}s; the jobs go on — rerun the command to follow them`);
        break;
      }
      const jobIds = [...new Set([...tracked.values()].map((t) => t.job.split('_')[0]!))];
      const queue = await this.squeue(jobIds, env);
      const requeue: SweepRun[] = [];
      for (const t of [...tracked.values()]) {
        const s = queue.get(t.job);
        if (s) {
          if (s !== t.state) {
            if (s === 'RUNNING') {
              t.started = Date.now();
              say(`[${t.run.index + 1}/${total}] start ${t.run.name} (Slurm task ${t.job})`);
              state.update(t.run.name, { status: 'running', started_at: new Date().toISOString() });
            } else if (s !== 'PENDING') say(`[${t.run.index + 1}/${total}] ${t.run.name}: Slurm task ${t.job} ${s}`);
            t.state = s;
          }
          continue;
        }
        // gone from the queue: finished one way or another
        tracked.delete(t.run.name);
        const slurmState = await this.finalState(t.job, env);
        const meta = readMeta(t.run.dir);
        const took = t.started ? ` in ${formatElapsed(Date.now() - t.started)}` : '';
        const requeues = state.run(t.run.name).requeues ?? 0;
        let status: SweepRunStatus;
        // a task that never opened its run (it failed on startup) is failed, whatever meta.json says from before
        const opened = t.sessions === undefined || (meta?.sessions?.length ?? 0) > t.sessions;
        const stopped = REQUEUE_STATES.has(slurmState.state) || (opened && (meta?.status === 'interrupted' || meta?.status === 'running'));
        if (meta?.status === 'completed') status = 'completed';
        else if (stopped && slurmState.state !== 'CANCELLED' && requeues < this.o.max_requeues) {
          say(`[${t.run.index + 1}/${total}] ${t.run.name} stopped (${slurmState.state || meta?.status || 'unknown'}); requeueing, it resumes from its last checkpoint`);
          state.update(t.run.name, { requeues: requeues + 1 });
          requeue.push(t.run);
          continue;
        } else if (stopped || slurmState.state === 'CANCELLED') status = 'interrupted';
        else status = 'failed';
        const error =
          status === 'failed'
            ? ((opened ? meta?.error : undefined) ?? lastErrorLine(join(t.run.dir, 'stderr.txt')) ?? `Slurm ${slurmState.state || 'state unknown'}, exit ${slurmState.exit || '?'}`)
            : undefined;
        statuses[t.run.name] = status;
        state.update(t.run.name, { status, ended_at: new Date().toISOString(), error, exit_code: slurmState.exit ? Number(slurmState.exit.split(':')[0]) : undefined });
        if (status === 'completed') say(`[${t.run.index + 1}/${total}] completed ${t.run.name}${took}${bestText(summaryOf(t.run.dir), plan.monitor)}`);
        else if (status === 'interrupted') say(`[${t.run.index + 1}/${total}] interrupted ${t.run.name} (${slurmState.state || 'stopped'})`);
        else say(`[${t.run.index + 1}/${total}] FAILED ${t.run.name}: ${error} (see ${join(t.run.dir, 'stderr.txt')})`);
        say(this.summary(plan, statuses, state, tracked));
      }
      if (requeue.length) await this.submit(plan, requeue, req, tracked, true);
    }
    if (req.signal.aborted && tracked.size) {
      const jobs = [...new Set([...tracked.values()].map((t) => t.job.split('_')[0]!))];
      say(
        `[sweep ${plan.name}] stopped following; ${tracked.size} run(s) are still in Slurm (job ${jobs.join(', ')}). ` +
          `Rerun the same command to follow and collect them, or cancel with: scancel ${jobs.join(' ')}`,
      );
      for (const t of tracked.values()) statuses[t.run.name] = t.state === 'RUNNING' ? 'running' : 'queued';
    }
    return { statuses };
  }

  private summary(plan: SweepPlan, statuses: Record<string, SweepRunStatus>, state: LaunchRequest['state'], tracked: Map<string, Tracked>): string {
    const c: Record<string, number> = { completed: 0, failed: 0, interrupted: 0 };
    for (const r of plan.runs) {
      const s = statuses[r.name] ?? state.run(r.name).status;
      if (s in c) c[s]! += 1;
    }
    const running = [...tracked.values()].filter((t) => t.state === 'RUNNING').length;
    return `[sweep ${plan.name}] ${c.completed}/${plan.runs.length} completed, ${c.failed} failed, ${c.interrupted} interrupted, ${running} running, ${tracked.size - running} queued in Slurm`;
  }

  private async submit(plan: SweepPlan, runs: SweepRun[], req: LaunchRequest, tracked: Map<string, Tracked>, isRequeue: boolean): Promise<void> {
    const logDir = join(plan.dir, 'slurm');
    mkdirSync(logDir, { recursive: true });
    for (const r of runs) mkdirSync(r.dir, { recursive: true });
    const script = join(logDir, `job-${new Date().toISOString().replace(/[:.]/g, '-')}.sbatch`);
    writeFileAtomic(script, sbatchScript(plan, runs, this.o, logDir));
    chmodSync(script, 0o755);
    const res = await this.exec('sbatch', ['--parsable', script], { env: req.env ?? process.env });
    if (res.code !== 0) throw new UserError(`sbatch failed (exit ${res.code}): ${res.stderr.trim() || res.stdout.trim()}\nscript: ${script}`);
    const id = res.stdout.trim().split(';')[0]!.split('\n').pop()!.trim();
    if (!/^\d+$/.test(id)) throw new UserError(`sbatch --parsable printed "${res.stdout.trim()}", not a job id`);
    req.state.data.jobs = [...(req.state.data.jobs ?? []), { id, runs: runs.map((r) => r.name), submitted_at: new Date().toISOString(), script }];
    runs.forEach((run, i) => {
      const job = `${id}_${i}`;
      tracked.set(run.name, { run, job, state: 'PENDING', sessions: readMeta(run.dir)?.sessions?.length ?? 0 });
      const prior = req.state.run(run.name);
      req.state.update(run.name, { status: 'queued', job, attempts: prior.attempts + 1, error: undefined, ended_at: undefined });
    });
    req.say(`[sweep ${plan.name}] ${isRequeue ? 'resubmitted' : 'submitted'} ${runs.length} run(s) as Slurm job array ${id} (${script})`);
  }

  /** `<job>_<task>` → state of the tasks still known to squeue. */
  private async squeue(jobIds: string[], env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!jobIds.length) return out;
    const res = await this.exec('squeue', ['-h', '-r', '-j', jobIds.join(','), '-o', '%i|%T'], { env });
    if (res.code !== 0) {
      // squeue errors for job ids it no longer knows; then ask one id at a time
      if (jobIds.length > 1) {
        for (const id of jobIds) for (const [k, v] of await this.squeue([id], env)) out.set(k, v);
      }
      return out;
    }
    for (const line of res.stdout.split('\n')) {
      const [job, st] = line.trim().split('|');
      if (job && st) out.set(job, st);
    }
    return out;
  }

  /** The final Slurm state of a task: sacct when accounting is on, else scontrol (recently finished jobs). */
  private async finalState(job: string, env: NodeJS.ProcessEnv): Promise<{ state: string; exit: string }> {
    const acct = await this.exec('sacct', ['-n', '-P', '-X', '-j', job, '-o', 'State,ExitCode'], { env });
    if (acct.code === 0) {
      const line = acct.stdout.split('\n').map((l) => l.trim()).filter(Boolean).at(-1);
      if (line) {
        const [st, exit] = line.split('|');
        return { state: (st ?? '').split(' ')[0]!, exit: exit ?? '' };
      }
    }
    const sc = await this.exec('scontrol', ['show', 'job', '-o', job], { env });
    if (sc.code === 0) {
      const st = /JobState=(\S+)/.exec(sc.stdout)?.[1] ?? '';
      const exit = /ExitCode=(\S+)/.exec(sc.stdout)?.[1] ?? '';
      return { state: st, exit };
    }
    return { state: '', exit: '' };
  }
}

/** The last `error: …` line of a run's stderr.txt (what exp run printed before exiting). */
function lastErrorLine(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8').slice(-8000);
  return text
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('error:'))
    ?.slice(6)
    .trim();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export const slurmLauncher = definePlugin({
  kind: 'launcher',
  name: 'slurm',
  description: 'submits the sweep as a Slurm job array (sbatch), follows it with squeue/sacct, requeues preempted runs',
  options: z.object({
    partition: z.string().optional(),
    account: z.string().optional(),
    qos: z.string().optional(),
    gpus: z.number().int().min(0).default(1).describe('GPUs per run (--gres=gpu:N); 0: the run uses the CPU'),
    cpus: z.number().int().positive().default(4).describe('--cpus-per-task'),
    mem: z.string().optional().describe('--mem, e.g. 32G'),
    time: z.string().optional().describe('--time, e.g. 12:00:00'),
    array_throttle: z.number().int().positive().optional().describe('at most this many runs at once (--array=0-N%T)'),
    job_name: z.string().optional(),
    sbatch_args: z.array(z.string()).default([]).describe('extra #SBATCH lines, e.g. ["--constraint=a100"]'),
    setup: z.array(z.string()).default([]).describe('shell lines before each run, e.g. ["module load cuda"]'),
    poll_seconds: z.number().positive().default(15).describe('how often squeue is asked'),
    max_requeues: z.number().int().min(0).default(3).describe('resubmissions per run after preemption, node failure or timeout'),
    follow_timeout_s: z.number().positive().optional().describe('stop following after this long (the jobs go on)'),
  }),
  create: (opts) => new SlurmLauncher(opts),
});
