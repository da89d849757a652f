import { mkdirSync } from 'node:fs';
import { relative } from 'node:path';
import type { Launcher } from './launcher.js';
import { planSweep, writeSweepRecord, type SweepPlan, type SweepRun } from './plan.js';
import { collectResults, resultsMarkdown, writeResults, type SweepResults } from './results.js';
import { lockSweep, runStatus, SweepState, type SweepRunStatus } from './state.js';

export interface RunSweepOptions {
  overrides?: string[];
  dryRun?: boolean;
  retryFailed?: boolean;
  /** Overrides the local launcher's `workers`. */
  workers?: number;
  resultsOnly?: boolean;
  sort?: string;
  metrics?: string[];
  signal?: AbortSignal;
  forceSignal?: AbortSignal;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where progress lines and the results table go (default: stdout). */
  out?: (line: string) => void;
}

export interface RunSweepResult {
  plan: SweepPlan;
  /** Final status of every run of the plan. */
  statuses: Record<string, SweepRunStatus>;
  results?: SweepResults;
  /** 0: all completed; 1: some failed; 130: interrupted (rerun to finish). */
  exitCode: number;
}

/**
 * `exp sweep`: plan, skip what is done, launch the rest (resuming interrupted runs, retrying failed ones
 * only when asked), then collect and print the results table.
 */
export async function runSweep(file: string, opts: RunSweepOptions = {}): Promise<RunSweepResult> {
  const say = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const { plan, registry } = await planSweep(file, { overrides: opts.overrides, cwd: opts.cwd, env: opts.env });
  const rel = (p: string) => relative(plan.cwd, p) || '.';

  if (opts.dryRun) {
    say(`sweep ${plan.name}: ${plan.runs.length} run(s) into ${rel(plan.dir)}/ with launcher ${plan.launcher.name}`);
    say(`experiment: ${plan.experiment.map(rel).join(' + ')}`);
    for (const r of plan.runs) {
      const status = runStatus(r.dir);
      const axes = Object.entries(r.axes).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
      say(`  ${String(r.index + 1).padStart(3)}. ${r.name}  ${axes || '(no axes)'}${status !== 'pending' ? `  [${status}]` : ''}`);
    }
    const fixed = plan.runs[0]?.overrides.filter((o) => !Object.keys(plan.runs[0]!.axes).some((k) => o.startsWith(`${k}=`))) ?? [];
    if (fixed.length) say(`every run: ${fixed.map((o) => `--set ${o}`).join(' ')}`);
    return { plan, statuses: Object.fromEntries(plan.runs.map((r) => [r.name, runStatus(r.dir)])), exitCode: 0 };
  }

  mkdirSync(plan.dir, { recursive: true });
  if (opts.resultsOnly) {
    writeSweepRecord(plan);
    return finishWithResults(plan, Object.fromEntries(plan.runs.map((r) => [r.name, runStatus(r.dir)])), opts, say, 0);
  }

  const unlock = lockSweep(plan.dir);
  try {
    writeSweepRecord(plan);
    const state = new SweepState(plan.dir, plan.name, plan.launcher.name);
    const statuses: Record<string, SweepRunStatus> = {};
    const todo: SweepRun[] = [];
    const skipped = { completed: 0, failed: 0 };
    for (const r of plan.runs) {
      const s = runStatus(r.dir, state.data.runs[r.name]);
      statuses[r.name] = s;
      if (s === 'completed') {
        skipped.completed += 1;
        if (state.run(r.name).status !== 'completed') state.update(r.name, { status: 'completed' });
      } else if (s === 'failed' && !opts.retryFailed) {
        skipped.failed += 1;
      } else todo.push(r);
    }
    state.save();
    const resumable = todo.filter((r) => statuses[r.name] !== 'pending').length;
    say(
      `sweep ${plan.name}: ${plan.runs.length} run(s) in ${rel(plan.dir)}/ — ${skipped.completed} completed (skipped), ` +
        `${skipped.failed} failed${skipped.failed ? ' (skipped; --retry-failed reruns them)' : ''}, ${todo.length} to run` +
        `${resumable ? ` (${resumable} resuming)` : ''} with launcher ${plan.launcher.name}`,
    );
    let interrupted = false;
    if (todo.length) {
      const launcherCfg = { ...plan.launcher };
      const launcher = await registry.create<Launcher>('launcher', launcherCfg, { seed: 0, registry });
      const controller = new AbortController();
      const outcome = await launcher.launch({
        plan,
        runs: todo,
        state,
        say,
        signal: opts.signal ?? controller.signal,
        forceSignal: opts.forceSignal,
        workers: opts.workers,
        env: opts.env,
      });
      Object.assign(statuses, outcome.statuses);
      interrupted = Boolean(opts.signal?.aborted);
    }
    // the run folders decide
    for (const r of plan.runs) {
      const s = runStatus(r.dir, state.data.runs[r.name]);
      if (s !== 'pending' || statuses[r.name] === undefined) statuses[r.name] = s === 'running' && interrupted ? 'interrupted' : s;
    }
    const all = Object.values(statuses);
    const exitCode = all.every((s) => s === 'completed') ? 0 : interrupted || all.some((s) => s === 'interrupted' || s === 'running' || s === 'queued' || s === 'pending') ? 130 : 1;
    const res = finishWithResults(plan, statuses, opts, say, exitCode);
    if (exitCode === 130) say(`sweep ${plan.name} is not finished; rerun the same command to continue it`);
    else if (exitCode === 1) say(`sweep ${plan.name}: ${all.filter((s) => s === 'failed').length} run(s) failed; rerun with --retry-failed to retry them`);
    return res;
  } finally {
    unlock();
  }
}

function finishWithResults(
  plan: SweepPlan,
  statuses: Record<string, SweepRunStatus>,
  opts: RunSweepOptions,
  say: (l: string) => void,
  exitCode: number,
): RunSweepResult {
  const results = collectResults(plan.dir, { sort: opts.sort, metrics: opts.metrics });
  const files = writeResults(plan.dir, results);
  say('');
  say(resultsMarkdown(results).trimEnd());
  say('');
  say(`results: ${files.map((f) => relative(plan.cwd, f) || f).join(', ')}`);
  return { plan, statuses, results, exitCode };
}
