import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';

/**
 * A small, bounded client for the parts of the W&B API that @wandb/sdk 0.5.1 does not cover:
 * upsertBucket with group, tags and job type, the summary after a run, and `exp wandb sync`
 * (history through file_stream). Every request has a timeout and a fixed number of attempts.
 */

export const DEFAULT_BASE_URL = 'https://api.wandb.ai';

export function baseUrlOf(env: NodeJS.ProcessEnv = process.env): string {
  return (env.WANDB_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, '');
}

/** WANDB_API_KEY, else the password of the base URL's host in ~/.netrc (as `wandb login` writes it). */
export function resolveApiKey(env: NodeJS.ProcessEnv = process.env, baseUrl = baseUrlOf(env)): { key?: string; source?: string } {
  if (env.WANDB_API_KEY) return { key: env.WANDB_API_KEY, source: 'WANDB_API_KEY' };
  const file = env.NETRC || join(env.HOME || homedir(), '.netrc');
  if (!existsSync(file)) return {};
  let host: string;
  let hostname: string;
  try {
    const u = new URL(baseUrl);
    host = u.host;
    hostname = u.hostname;
  } catch {
    return {};
  }
  const machines = parseNetrc(readFileSync(file, 'utf8'));
  const key = machines.get(host) ?? machines.get(hostname);
  return key ? { key, source: file } : {};
}

export function parseNetrc(text: string): Map<string, string> {
  const tokens = text
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('\n')
    .split(/\s+/)
    .filter(Boolean);
  const out = new Map<string, string>();
  let machine: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === 'machine') machine = tokens[++i];
    else if (t === 'default') machine = '*default*';
    else if (t === 'password' && machine) out.set(machine, tokens[++i] ?? '');
  }
  return out;
}

export class WandbHttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'WandbHttpError';
  }
}

export interface WandbClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Per request. */
  timeoutMs?: number;
  /** Attempts per request (network errors, 429 and 5xx are retried). */
  attempts?: number;
}

export interface UpsertRunInput {
  id: string;
  project: string;
  entity: string;
  displayName?: string;
  groupName?: string;
  tags?: string[];
  jobType?: string;
  notes?: string;
  /** Already in W&B's `{key: {value}}` form. */
  config?: Record<string, unknown>;
  summary?: Record<string, unknown>;
  state?: string;
}

const UPSERT = `mutation UpsertBucket($id: String, $name: String, $project: String, $entity: String, $groupName: String, $displayName: String, $notes: String, $config: JSONString, $jobType: String, $state: String, $tags: [String!], $summaryMetrics: JSONString) {
  upsertBucket(input: {id: $id, name: $name, groupName: $groupName, modelName: $project, entityName: $entity, displayName: $displayName, notes: $notes, config: $config, jobType: $jobType, state: $state, tags: $tags, summaryMetrics: $summaryMetrics}) {
    bucket { id name displayName project { id name entity { id name } } }
    inserted
  }
}`;

const VIEWER = `query Viewer { viewer { id entity } }`;

export class WandbClient {
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(private readonly o: WandbClientOptions) {
    this.timeoutMs = o.timeoutMs ?? 15_000;
    this.attempts = Math.max(1, Math.min(o.attempts ?? 3, 10));
  }

  private get auth(): string {
    return `Basic ${Buffer.from(`api:${this.o.apiKey}`).toString('base64')}`;
  }

  /** POST JSON with a per-request timeout and bounded retries. */
  async post(path: string, body: unknown): Promise<unknown> {
    let last: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        const res = await fetch(`${this.o.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: this.auth, 'user-agent': 'dfdet wandb client' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await res.text();
        if (res.ok) return text ? JSON.parse(text) : {};
        last = new WandbHttpError(`${path}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status);
        if (res.status !== 429 && res.status < 500) break;
      } catch (err) {
        last = err;
      }
      if (attempt < this.attempts) await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  async graphql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown>): Promise<T> {
    const out = (await this.post('/graphql', { query, variables })) as { data?: T; errors?: { message: string }[] };
    if (out.errors?.length) throw new WandbHttpError(`graphql: ${out.errors.map((e) => e.message).join('; ')}`);
    if (!out.data) throw new WandbHttpError('graphql: no data in the response');
    return out.data;
  }

  /** The default entity of the API key's user. */
  async viewerEntity(): Promise<string | undefined> {
    const d = await this.graphql<{ viewer?: { entity?: string } | null }>(VIEWER, {});
    return d.viewer?.entity ?? undefined;
  }

  async upsertRun(r: UpsertRunInput): Promise<void> {
    const vars: Record<string, unknown> = { name: r.id, project: r.project, entity: r.entity };
    if (r.displayName) vars.displayName = r.displayName;
    if (r.groupName) vars.groupName = r.groupName;
    if (r.tags?.length) vars.tags = r.tags;
    if (r.jobType) vars.jobType = r.jobType;
    if (r.notes) vars.notes = r.notes;
    if (r.state) vars.state = r.state;
    if (r.config) vars.config = JSON.stringify(r.config);
    if (r.summary) vars.summaryMetrics = JSON.stringify(r.summary);
    await this.graphql(UPSERT, vars);
  }

  /** One file_stream request: history lines from `offset`, and/or the summary, and/or completion. */
  async fileStream(r: { entity: string; project: string; id: string }, body: Record<string, unknown>): Promise<void> {
    await this.post(`/files/${encodeURIComponent(r.entity)}/${encodeURIComponent(r.project)}/${encodeURIComponent(r.id)}/file_stream`, body);
  }
}

/** W&B's config form: every top-level key as `{value}`. */
export function wandbConfig(config: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, { value: unknown }> {
  return Object.fromEntries(Object.entries({ ...config, ...extra }).map(([k, v]) => [k, { value: v }]));
}

/** summary.json → flat W&B summary keys (best/<monitor>, final metrics, test results, status). */
export function wandbSummary(summary: Record<string, unknown>, status?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const monitor = typeof summary.monitor === 'string' ? summary.monitor : 'monitor';
  const best = summary.best as { value?: number; step?: number } | null | undefined;
  if (typeof best?.value === 'number') out[`best/${monitor}`] = best.value;
  if (typeof best?.step === 'number') out['best/step'] = best.step;
  for (const [k, v] of Object.entries((summary.final as Record<string, unknown> | undefined) ?? {})) if (typeof v === 'number') out[k] = v;
  if (Array.isArray(summary.test)) {
    for (const r of summary.test as { dataset?: string; frame?: Record<string, unknown>; video?: Record<string, unknown> }[]) {
      for (const level of ['frame', 'video'] as const) {
        for (const [k, v] of Object.entries(r[level] ?? {})) if (typeof v === 'number') out[`test/${r.dataset}/${level}/${k}`] = v;
      }
    }
  }
  for (const k of ['steps', 'total_steps', 'epochs'] as const) if (typeof summary[k] === 'number') out[k] = summary[k];
  if (status ?? summary.status) out.status = status ?? summary.status;
  return out;
}

/** Metric records merged per step, in step order: one W&B history row per step. */
export function historyRows(records: Record<string, unknown>[]): Record<string, number | string>[] {
  const bySteps = new Map<number, Record<string, number | string>>();
  for (const r of records) {
    if (typeof r.step !== 'number') continue;
    const row = bySteps.get(r.step) ?? {};
    for (const [k, v] of Object.entries(r)) if (k !== 'time' && k !== 'step' && (typeof v === 'number' || typeof v === 'string')) row[k] = v;
    bySteps.set(r.step, row);
  }
  return [...bySteps.entries()].sort((a, b) => a[0] - b[0]).map(([step, row]) => ({ ...row, _step: step }));
}

/** `<run>/wandb.json`: the W&B run id (stable across resumes and sync) and whether it is uploaded. */
export interface WandbRunState {
  id: string;
  project?: string;
  entity?: string;
  base_url?: string;
  name?: string;
  group?: string;
  tags?: string[];
  job_type?: string;
  /** pending: not (fully) uploaded, `exp wandb sync` uploads it; live: logged while training; synced: uploaded. */
  status: 'pending' | 'live' | 'synced' | 'disabled';
  reason?: string;
  updated_at: string;
}

export function readWandbState(runDir: string): WandbRunState | undefined {
  const f = join(runDir, 'wandb.json');
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as WandbRunState;
  } catch {
    return undefined;
  }
}

export function writeWandbState(runDir: string, s: Omit<WandbRunState, 'updated_at'>): WandbRunState {
  const full = { ...s, updated_at: new Date().toISOString() } as WandbRunState;
  writeJsonAtomic(join(runDir, 'wandb.json'), full);
  return full;
}

/** W&B run ids: 8 lowercase letters and digits. */
export function newRunId(): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => chars[b % chars.length]).join('');
}
