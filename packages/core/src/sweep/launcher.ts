import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SweepPlan, SweepRun } from './plan.js';
import type { SweepState, SweepRunStatus } from './state.js';

/** What a launcher gets: the plan, the runs to (re)start now, the sweep's state file and a console. */
export interface LaunchRequest {
  plan: SweepPlan;
  runs: SweepRun[];
  state: SweepState;
  /** One line of sweep progress (the console). */
  say(line: string): void;
  /** Ctrl-C: stop launching; ask running runs to checkpoint and stop. A second abort is `forceSignal`. */
  signal: AbortSignal;
  /** A second Ctrl-C. */
  forceSignal?: AbortSignal;
  /** `exp sweep --workers N` (local launcher). */
  workers?: number;
  env?: NodeJS.ProcessEnv;
}

export interface LaunchOutcome {
  /** Final status of each launched run. */
  statuses: Record<string, SweepRunStatus>;
}

/** The `launcher` plugin kind: runs a sweep's runs somewhere (child processes, a Slurm cluster). */
export interface Launcher {
  launch(req: LaunchRequest): Promise<LaunchOutcome>;
}

/** The `exp run` command line of one run: the same path a user would type, resumable. */
export function expRunCommand(plan: SweepPlan, run: SweepRun, extraOverrides: string[] = []): { command: string; args: string[] } {
  const args = [
    '--import',
    tsxLoader(),
    binPath(),
    'run',
    ...plan.experiment,
    ...[...run.overrides, ...extraOverrides].flatMap((o) => ['--set', o]),
    '--run',
    run.name,
    '--resume',
  ];
  return { command: process.execPath, args };
}

/** Environment every run's process gets: the sweep name (wandb's default group) and the run name. */
export function runEnv(plan: SweepPlan, run: SweepRun, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, DFDET_SWEEP: plan.name, DFDET_SWEEP_RUN: run.name };
}

export function binPath(): string {
  return fileURLToPath(new URL('../cli/bin.ts', import.meta.url));
}

/** tsx's ESM loader, as a file URL, so the child needs no particular working directory. */
export function tsxLoader(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return 'tsx';
  }
}

/** POSIX shell quoting for generated scripts. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** `best val/video/mAP=0.9123` from a finished run's summary.json, for the finish line. */
export function bestText(summary: Record<string, unknown> | undefined, monitor: string): string {
  const best = summary?.best as { value?: number } | null | undefined;
  return typeof best?.value === 'number' ? ` · best ${monitor}=${best.value.toFixed(4)}` : '';
}

/** A run folder's summary.json, if it has one. */
export function summaryOf(dir: string): Record<string, unknown> | undefined {
  const f = join(dir, 'summary.json');
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
