import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { UserError } from '../util/errors.js';
import { gitState, newSession, packageVersions, type RunMeta, type RunStatus } from './meta.js';

export type OpenMode = 'new' | 'resume' | 'force';

export interface CreateRunOptions {
  experiment: string;
  /** Run folder name; default: a timestamp (or, with `resume`, the newest run of the experiment). */
  run?: string;
  config: unknown;
  mode?: OpenMode;
}

/** `<root>/<experiment>/<run>/` folders: config, metrics, summary, checkpoints, log, meta. */
export class RunStore {
  readonly root: string;

  constructor(root = 'runs') {
    this.root = resolve(root);
  }

  dir(experiment: string, run: string): string {
    return join(this.root, experiment, run);
  }

  /** Runs of an experiment, oldest first by name (timestamps sort). */
  runs(experiment: string): string[] {
    const dir = join(this.root, experiment);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => !name.startsWith('.') && existsSync(join(dir, name, 'meta.json')))
      .sort();
  }

  /**
   * Opens a run folder. `new` refuses an existing run, `force` replaces it, `resume` continues it
   * (and starts it when it does not exist yet, so a requeued job runs the same command).
   */
  open(opts: CreateRunOptions): Run {
    const mode = opts.mode ?? 'new';
    const run = opts.run ?? (mode === 'resume' ? this.runs(opts.experiment).at(-1) : undefined) ?? this.freshName(opts.experiment);
    const dir = this.dir(opts.experiment, run);
    const exists = existsSync(join(dir, 'meta.json'));
    if (exists && mode === 'new') {
      throw new UserError(`run ${dir} already exists; pass --resume to continue it or --force to replace it`);
    }
    if (exists && mode === 'force') {
      // rename first so a crash mid-delete never leaves a half-deleted run under the real name
      const trash = join(this.root, opts.experiment, `.deleted-${run}-${process.pid}-${Date.now()}`);
      renameSync(dir, trash);
      rmSync(trash, { recursive: true, force: true });
    }
    if (exists && mode === 'resume') return Run.resume(dir, opts.config);
    return Run.create(dir, opts.experiment, run, opts.config);
  }

  private freshName(experiment: string): string {
    const base = timestamp();
    let name = base;
    for (let i = 1; existsSync(this.dir(experiment, name)); i++) name = `${base}-${i}`;
    return name;
  }

  /** Opens an existing run folder for reading (eval, reports, sync). */
  static read(dir: string): Run {
    if (!existsSync(join(dir, 'meta.json'))) throw new UserError(`${dir} is not a run folder (no meta.json)`);
    return new Run(resolve(dir));
  }
}

export class Run {
  constructor(readonly dir: string) {}

  static create(dir: string, experiment: string, run: string, config: unknown): Run {
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    const r = new Run(dir);
    r.writeConfig(config);
    const now = new Date().toISOString();
    const meta: RunMeta = {
      experiment,
      run,
      status: 'running',
      started_at: now,
      sessions: [newSession()],
      git: gitState(),
      packages: packageVersions(),
      host: hostname(),
      node: process.version,
    };
    writeJsonAtomic(r.path('meta.json'), meta);
    r.log(`started ${experiment}/${run}`);
    return r;
  }

  static resume(dir: string, config: unknown): Run {
    const r = new Run(dir);
    r.repairMetrics();
    const meta = r.meta();
    if (config !== undefined) r.writeConfig(config);
    r.updateMeta({
      status: 'running',
      ended_at: undefined,
      exit_code: undefined,
      error: undefined,
      sessions: [...(meta.sessions ?? []), newSession()],
      git: gitState(),
    });
    r.log(`resumed (previous status: ${meta.status})`);
    return r;
  }

  get name(): string {
    return this.meta().run;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  checkpointPath(name: string): string {
    return this.path('checkpoints', name);
  }

  writeConfig(config: unknown): void {
    writeFileAtomic(this.path('config.yaml'), stringify(config, { lineWidth: 0 }));
  }

  meta(): RunMeta {
    return readJson(this.path('meta.json')) as RunMeta;
  }

  updateMeta(patch: Partial<RunMeta>): RunMeta {
    const next = { ...this.meta(), ...patch } as RunMeta;
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
    writeJsonAtomic(this.path('meta.json'), next);
    return next;
  }

  /** One JSON object per line; a line is written by a single append so readers never see half of one. */
  appendMetrics(record: Record<string, unknown>): void {
    appendFileSync(this.path('metrics.jsonl'), `${JSON.stringify(record)}\n`);
  }

  metrics(): Record<string, unknown>[] {
    const file = this.path('metrics.jsonl');
    if (!existsSync(file)) return [];
    const out: Record<string, unknown>[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a torn last line from a kill; repairMetrics removes it on resume
      }
    }
    return out;
  }

  /** Drops metric records logged after `step` (they are recomputed when a resumed run replays them). */
  truncateMetricsAfter(step: number): void {
    const kept = this.metrics().filter((r) => typeof r.step !== 'number' || r.step <= step);
    writeFileAtomic(this.path('metrics.jsonl'), kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  writeSummary(summary: Record<string, unknown>): void {
    writeJsonAtomic(this.path('summary.json'), summary);
  }

  summary(): Record<string, unknown> | undefined {
    return existsSync(this.path('summary.json')) ? (readJson(this.path('summary.json')) as Record<string, unknown>) : undefined;
  }

  log(line: string): void {
    appendFileSync(this.path('log.txt'), `${new Date().toISOString()} ${line}\n`);
  }

  finish(status: Exclude<RunStatus, 'running'>, error?: unknown): void {
    const message = error === undefined ? undefined : error instanceof Error ? error.message : String(error);
    this.updateMeta({
      status,
      ended_at: new Date().toISOString(),
      exit_code: status === 'completed' ? 0 : status === 'interrupted' ? 130 : 1,
      error: message,
    });
    this.log(`${status}${message ? `: ${message}` : ''}`);
  }

  private repairMetrics(): void {
    const file = this.path('metrics.jsonl');
    if (!existsSync(file)) return;
    const text = readFileSync(file, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) {
      const lastNewline = text.lastIndexOf('\n');
      truncateSync(file, lastNewline + 1);
    }
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:T]/g, '-').replace(/\..*$/, '');
}
