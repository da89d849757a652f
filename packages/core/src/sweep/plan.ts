import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { composeConfig } from '../config/compose.js';
import { loadExperiment, validateConfig } from '../config/load-experiment.js';
import type { ResolvedConfig } from '../config/experiment.js';
import { parseOptions, type PluginRegistry } from '../plugin/registry.js';
import type { PluginInstanceConfig } from '../plugin/spec.js';
import { writeFileAtomic } from '../io/atomic.js';
import { UserError } from '../util/errors.js';
import { defaultTemplate, expandAxes, getPath, loadSweepFile, renderName, toOverride, type Assignment, type LoadedSweepFile } from './spec.js';

/** One run of a sweep: its name, its axis values and every override the child `exp run` gets. */
export interface SweepRun {
  index: number;
  name: string;
  /** Axis values (`seed` included when the sweep has `seeds:`). */
  axes: Assignment;
  /** `--set` strings: the sweep's fixed ones, then this run's axis values (launchers add the device). */
  overrides: string[];
  /** Absolute run folder. */
  dir: string;
}

export interface SweepPlan {
  name: string;
  /** The sweep file, absolute. */
  file: string;
  /** Base experiment files, absolute. */
  experiment: string[];
  /** The run store root, absolute: runs go to <outputDir>/<name>/<run>. */
  outputDir: string;
  /** The sweep folder: <outputDir>/<name>. */
  dir: string;
  axes: string[];
  runs: SweepRun[];
  monitor: string;
  mode: 'max' | 'min';
  launcher: { name: string; [option: string]: unknown };
  results: { sort?: string; metrics?: string[] };
  /** The working directory that runs are launched from. */
  cwd: string;
}

export interface PlanOptions {
  /** `exp sweep --set`: overrides for every run, after the file's `set:`. */
  overrides?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Reads a sweep file, expands its axes, names the runs and validates every run's config. */
export async function planSweep(path: string, opts: PlanOptions = {}): Promise<{ plan: SweepPlan; registry: PluginRegistry; sweep: LoadedSweepFile }> {
  const cwd = opts.cwd ?? process.cwd();
  const sweep = loadSweepFile(path, cwd);
  const { spec } = sweep;
  for (const f of sweep.experiment) if (!existsSync(f)) throw new UserError(`${path}: experiment file not found: ${f}`);
  const { axes, assignments } = expandAxes(spec);

  const cliKeys = (opts.overrides ?? []).map((o) => o.slice(0, Math.max(0, o.indexOf('='))).trim());
  for (const k of cliKeys) {
    if (axes.includes(k)) throw new UserError(`--set ${k}: ${k} is a sweep axis; change it in the sweep file`);
  }
  const fixed = [...Object.entries(spec.set).map(([k, v]) => toOverride(k, v)), ...(opts.overrides ?? [])];

  // the base config decides the run store root, the monitor, and validates the plugins once
  const base = await loadExperiment(sweep.experiment, { overrides: fixed, cwd, env: opts.env });
  const outputDir = resolve(cwd, spec.output?.dir ?? base.config.output.dir);
  const dir = join(outputDir, sweep.name);
  const forced = [toOverride('name', sweep.name), toOverride('output.dir', outputDir)];
  // launcher options are checked now, not after the runs were planned and the folder written
  parseOptions(base.registry.spec('launcher', spec.launcher.name), spec.launcher as PluginInstanceConfig);
  const template = sweep.template ?? defaultTemplate(axes);

  const runs: SweepRun[] = [];
  const byName = new Map<string, number>();
  assignments.forEach((axesValues, index) => {
    const overrides = [...fixed, ...Object.entries(axesValues).map(([k, v]) => toOverride(k, v)), ...forced];
    const composed = composeConfig(sweep.experiment, { overrides, cwd, env: opts.env });
    let config: ResolvedConfig;
    try {
      config = validateConfig(base.registry, composed);
    } catch (err) {
      throw new UserError(`run #${index} (${describeAssignment(axesValues)}): ${(err as Error).message}`);
    }
    const lookup = (key: string) => (key in axesValues ? axesValues[key] : getPath(config, key));
    const name = renderName(template, lookup, index);
    if (name === 'sweep.yaml' || name === 'state.json' || name.startsWith('results')) {
      throw new UserError(`run name "${name}" is reserved in the sweep folder; change name:`);
    }
    const prior = byName.get(name);
    if (prior !== undefined) {
      const differing = axes.filter((k) => JSON.stringify(assignments[prior]![k]) !== JSON.stringify(axesValues[k]));
      throw new UserError(
        `duplicate run name "${name}" for runs #${prior} and #${index} (name: '${template}'); add the keys that tell them apart, e.g. ${differing.map((k) => `{${k}}`).join(' ') || '{index}'}`,
      );
    }
    byName.set(name, index);
    runs.push({ index, name, axes: axesValues, overrides, dir: join(dir, name) });
  });

  const trainer = (base.config as unknown as { trainer?: { monitor?: string; mode?: 'max' | 'min' } }).trainer;
  const plan: SweepPlan = {
    name: sweep.name,
    file: sweep.file,
    experiment: sweep.experiment,
    outputDir,
    dir,
    axes,
    runs,
    monitor: trainer?.monitor ?? 'val/video/mAP',
    mode: trainer?.mode ?? 'max',
    launcher: spec.launcher as SweepPlan['launcher'],
    results: spec.results ?? {},
    cwd,
  };
  return { plan, registry: base.registry, sweep };
}

function describeAssignment(a: Assignment): string {
  return Object.entries(a).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') || 'no axes';
}

/** What sweep.yaml in the sweep folder records: enough to collect results and report without the sweep file. */
export interface SweepRecord {
  sweep: string;
  file: string;
  experiment: string[];
  output_dir: string;
  axes: string[];
  monitor: string;
  mode: 'max' | 'min';
  launcher: SweepPlan['launcher'];
  results: SweepPlan['results'];
  runs: { name: string; axes: Assignment; overrides: string[] }[];
}

export function toRecord(plan: SweepPlan): SweepRecord {
  return {
    sweep: plan.name,
    file: plan.file,
    experiment: plan.experiment,
    output_dir: plan.outputDir,
    axes: plan.axes,
    monitor: plan.monitor,
    mode: plan.mode,
    launcher: plan.launcher,
    results: plan.results,
    runs: plan.runs.map((r) => ({ name: r.name, axes: r.axes, overrides: r.overrides })),
  };
}

export function readSweepRecord(sweepDir: string): SweepRecord {
  const file = join(sweepDir, 'sweep.yaml');
  if (!existsSync(file)) throw new UserError(`${sweepDir} is not a sweep folder (no sweep.yaml)`);
  return parse(readFileSync(file, 'utf8')) as SweepRecord;
}

/**
 * Writes sweep.yaml. A run that an earlier invocation defined differently (same name, other
 * overrides) is an error: its folder holds results of another configuration.
 */
export function writeSweepRecord(plan: SweepPlan): void {
  const file = join(plan.dir, 'sweep.yaml');
  const next = toRecord(plan);
  if (existsSync(file)) {
    const prior = parse(readFileSync(file, 'utf8')) as SweepRecord;
    const was = new Map((prior.runs ?? []).map((r) => [r.name, r]));
    for (const r of next.runs) {
      const p = was.get(r.name);
      if (p && JSON.stringify(sortedSets(p.overrides)) !== JSON.stringify(sortedSets(r.overrides)) && existsSync(join(plan.dir, r.name, 'meta.json'))) {
        throw new UserError(
          `run ${r.name} of sweep ${plan.name} was started with other overrides (${diffSets(p.overrides, r.overrides)}); ` +
            `give the sweep another name (sweep: …) or remove ${join(plan.dir, r.name)}`,
        );
      }
    }
    // keep runs an earlier version of the file had, so their results stay listed
    for (const p of prior.runs ?? []) if (!next.runs.some((r) => r.name === p.name) && existsSync(join(plan.dir, p.name, 'meta.json'))) next.runs.push(p);
  }
  writeFileAtomic(file, `# written by exp sweep: the resolved runs of ${plan.file}\n${stringify(next, { lineWidth: 0 })}`);
}

function sortedSets(s: string[]): string[] {
  return [...s].sort();
}

function diffSets(a: string[], b: string[]): string {
  const onlyA = a.filter((x) => !b.includes(x));
  const onlyB = b.filter((x) => !a.includes(x));
  return [...onlyA.map((x) => `was ${x}`), ...onlyB.map((x) => `now ${x}`)].join(', ');
}
