import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import type { RunMeta } from '../runstore/meta.js';
import { UserError } from '../util/errors.js';

export type SweepRunStatus = 'pending' | 'queued' | 'running' | 'completed' | 'failed' | 'interrupted';

export interface RunState {
  status: SweepRunStatus;
  /** Launches of this run (first start, resumes, retries, requeues). */
  attempts: number;
  exit_code?: number | null;
  signal?: string | null;
  device?: string;
  started_at?: string;
  ended_at?: string;
  error?: string;
  /** Slurm: `<jobid>_<task>` of the latest submission. */
  job?: string;
  /** Slurm: resubmissions after preemption or a node failure. */
  requeues?: number;
}

export interface SweepStateFile {
  sweep: string;
  launcher: string;
  updated_at: string;
  runs: Record<string, RunState>;
  /** Slurm job ids this sweep submitted, newest last. */
  jobs?: { id: string; runs: string[]; submitted_at: string; script: string }[];
}

/** state.json of a sweep folder; only the sweep process writes it (atomically, after every change). */
export class SweepState {
  readonly file: string;
  data: SweepStateFile;

  constructor(
    readonly dir: string,
    sweep: string,
    launcher: string,
  ) {
    this.file = join(dir, 'state.json');
    this.data = existsSync(this.file)
      ? (JSON.parse(readFileSync(this.file, 'utf8')) as SweepStateFile)
      : { sweep, launcher, updated_at: new Date().toISOString(), runs: {} };
    this.data.launcher = launcher;
    this.data.runs ??= {};
  }

  run(name: string): RunState {
    return (this.data.runs[name] ??= { status: 'pending', attempts: 0 });
  }

  update(name: string, patch: Partial<RunState>): RunState {
    const next = { ...this.run(name), ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete (next as Record<string, unknown>)[k];
    this.data.runs[name] = next;
    this.save();
    return next;
  }

  save(): void {
    this.data.updated_at = new Date().toISOString();
    writeJsonAtomic(this.file, this.data);
  }
}

export function readMeta(runDir: string): RunMeta | undefined {
  const file = join(runDir, 'meta.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunMeta;
  } catch {
    return undefined;
  }
}

/**
 * A run's status: the run folder's meta.json decides (the run store is the source of truth); without
 * one, what the sweep recorded (a child that failed before creating its folder), else pending.
 */
export function runStatus(runDir: string, state?: RunState): SweepRunStatus {
  const meta = readMeta(runDir);
  if (meta) return meta.status;
  if (state?.status === 'failed') return 'failed';
  return 'pending';
}

/** A lock file against two sweep processes driving the same sweep folder. */
export function lockSweep(dir: string): () => void {
  const file = join(dir, '.lock');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new UserError(`another exp sweep (pid ${pid}) is driving ${dir}; wait for it or stop it first`);
    }
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
