import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { RunStore } from '../runstore/run-store.js';
import { UserError } from '../util/errors.js';
import {
  baseUrlOf,
  historyRows,
  newRunId,
  readWandbState,
  resolveApiKey,
  WandbClient,
  wandbConfig,
  wandbSummary,
  writeWandbState,
} from './wandb-api.js';

export interface SyncOptions {
  project?: string;
  entity?: string;
  group?: string;
  tags?: string[];
  jobType?: string;
  /** Upload runs whose meta.json still says running. */
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  /** History lines per file_stream request. */
  chunk?: number;
  say?: (line: string) => void;
}

export interface SyncReport {
  synced: { dir: string; id: string; rows: number }[];
  skipped: { dir: string; reason: string }[];
}

/** Run folders under the given paths: a run folder itself, or every run of a sweep / experiment folder. */
export function expandRunDirs(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths.map((x) => resolve(x))) {
    if (existsSync(join(p, 'meta.json'))) out.push(p);
    else if (existsSync(p)) {
      const runs = readdirSync(p, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith('.') && existsSync(join(p, d.name, 'meta.json')))
        .map((d) => join(p, d.name))
        .sort();
      if (!runs.length) throw new UserError(`${p}: neither a run folder (meta.json) nor a folder of runs`);
      out.push(...runs);
    } else throw new UserError(`${p}: no such folder`);
  }
  return [...new Set(out)];
}

/** The sweep name when the run sits in a sweep folder (sweep.yaml beside it). */
function sweepOf(runDir: string): string | undefined {
  const f = join(dirname(runDir), 'sweep.yaml');
  if (!existsSync(f)) return undefined;
  try {
    return (parse(readFileSync(f, 'utf8')) as { sweep?: string }).sweep ?? basename(dirname(runDir));
  } catch {
    return basename(dirname(runDir));
  }
}

/**
 * `exp wandb sync`: uploads finished local runs — config, every metrics.jsonl record (merged per step,
 * one history row each), the summary — to the same W&B run id the live logger used (wandb.json), so a
 * partly logged run is completed, not duplicated.
 */
export async function syncRuns(paths: string[], opts: SyncOptions = {}): Promise<SyncReport> {
  const env = opts.env ?? process.env;
  const say = opts.say ?? ((l: string) => process.stdout.write(`${l}\n`));
  const baseUrl = baseUrlOf(env);
  const { key } = resolveApiKey(env, baseUrl);
  if (!key) throw new UserError(`no W&B API key for ${baseUrl}: set WANDB_API_KEY, or run \`wandb login\` to write ~/.netrc`);
  const client = new WandbClient({ baseUrl, apiKey: key, timeoutMs: 30_000, attempts: 3 });
  const report: SyncReport = { synced: [], skipped: [] };
  let viewer: string | undefined;
  const chunk = Math.max(1, opts.chunk ?? 1000);

  for (const dir of expandRunDirs(paths)) {
    const run = RunStore.read(dir);
    const meta = run.meta();
    if (meta.status === 'running' && !opts.force) {
      report.skipped.push({ dir, reason: 'still running (finish or resume it first, or pass --force)' });
      say(`skip ${dir}: still running`);
      continue;
    }
    const config = (existsSync(run.path('config.yaml')) ? parse(readFileSync(run.path('config.yaml'), 'utf8')) : {}) as Record<string, unknown>;
    const loggerCfg = ((config.loggers as { name?: string; [k: string]: unknown }[] | undefined) ?? []).find((l) => l.name === 'wandb') ?? {};
    const state = readWandbState(dir);
    const id = state?.id ?? newRunId();
    const project = opts.project ?? (loggerCfg.project as string | undefined) ?? state?.project ?? 'dfdet';
    const group = opts.group ?? (loggerCfg.group as string | undefined) ?? state?.group ?? sweepOf(dir);
    const tags = opts.tags ?? (loggerCfg.tags as string[] | undefined) ?? state?.tags ?? [];
    const jobType = opts.jobType ?? (loggerCfg.job_type as string | undefined) ?? state?.job_type;
    const name = (loggerCfg.run_name as string | undefined) ?? state?.name ?? meta.run;
    let entity = opts.entity ?? (loggerCfg.entity as string | undefined) ?? state?.entity;
    if (!entity) {
      viewer ??= await client.viewerEntity();
      entity = viewer;
    }
    if (!entity) throw new UserError('the API key has no default entity; pass --entity');
    const ids = { id, project, entity };
    await client.upsertRun({ ...ids, displayName: name, groupName: group, tags, jobType, config: wandbConfig(config, group ? { _group: group } : {}) });

    const records = run.metrics();
    const t0 = Date.parse(meta.started_at);
    const timeOf = new Map<number, number>();
    for (const r of records) if (typeof r.step === 'number' && typeof r.time === 'string') timeOf.set(r.step, Date.parse(r.time));
    const rows = historyRows(records).map((r) => {
      const t = timeOf.get(r._step as number);
      return t === undefined || Number.isNaN(t) ? r : { ...r, _timestamp: t / 1000, _runtime: Number.isNaN(t0) ? 0 : (t - t0) / 1000 };
    });
    for (let off = 0; off < rows.length; off += chunk) {
      const lines = rows.slice(off, off + chunk).map((r) => JSON.stringify(r));
      await client.fileStream(ids, { files: { 'wandb-history.jsonl': { offset: off, content: lines } } });
    }
    const last: Record<string, unknown> = {};
    for (const r of rows) Object.assign(last, r);
    const summary = { ...last, ...wandbSummary(run.summary() ?? {}, meta.status) };
    await client.fileStream(ids, { files: { 'wandb-summary.json': { offset: 0, content: [JSON.stringify(summary)] } } });
    await client.fileStream(ids, { complete: true, exitcode: meta.status === 'completed' ? 0 : 1 });
    await client.upsertRun({ ...ids, summary });
    writeWandbState(dir, { id, project, entity, base_url: baseUrl, name, group, tags, job_type: jobType, status: 'synced' });
    report.synced.push({ dir, id, rows: rows.length });
    say(`synced ${dir} -> ${entity}/${project}/${id} (${rows.length} steps${group ? `, group ${group}` : ''})`);
  }
  return report;
}
