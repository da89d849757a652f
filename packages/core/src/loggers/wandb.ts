import wandb from '@wandb/sdk';
import { z } from 'zod';
import { definePlugin } from '../plugin/spec.js';
import { RunStore } from '../runstore/run-store.js';
import type { Logger, MetricRecord, RunInfo } from './logger.js';
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
  type WandbRunState,
} from './wandb-api.js';

type SdkRun = Awaited<ReturnType<typeof wandb.init>>;

export interface WandbLoggerOptions {
  project: string;
  entity?: string;
  run_name?: string;
  group?: string;
  tags: string[];
  job_type?: string;
  notes?: string;
  mode: 'online' | 'disabled';
  timeout_s: number;
}

let warned = false;

/** One warning per process, however many runs or loggers hit the same problem. */
export function warnOnce(text: string, out: NodeJS.WritableStream = process.stderr): void {
  if (warned) return;
  warned = true;
  out.write(`warning: ${text}\n`);
}

/** Tests: forget that the warning was printed. */
export function resetWandbWarning(): void {
  warned = false;
}

/** Signals and exit hooks @wandb/sdk's init installs: its SIGINT hook calls process.exit(), which would skip our checkpoint. */
const HOOKED = ['SIGINT', 'SIGTERM', 'beforeExit'] as const;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000}s`)), ms);
      timer.unref();
    }),
  ]);
}

/**
 * Weights & Biases logging on @wandb/sdk 0.5.1 (init/log/finish), with what that SDK lacks done through
 * W&B's API directly: group, tags and job type (upsertBucket), the summary after the run, and a check
 * that the server is reachable before the SDK is started. Records of one step are merged into one
 * W&B history row, and the last row is given time to reach the SDK's sender before finish (0.5.1 drops
 * a log issued right before finish). Without an API key or a reachable server the run trains anyway,
 * warns once, and is marked pending in <run>/wandb.json for `exp wandb sync`. The local run store stays
 * the source of truth.
 */
export class WandbLogger implements Logger {
  private sdkRun?: SdkRun;
  private client?: WandbClient;
  private ids?: { entity: string; project: string; id: string };
  private row?: { step: number; data: Record<string, number | string> };
  private first = true;
  private info?: RunInfo;
  private state?: WandbRunState;
  private lastValues: Record<string, number | string> = {};
  private failed = false;

  constructor(
    private readonly opts: WandbLoggerOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  async start(info: RunInfo): Promise<void> {
    this.info = info;
    const envMode = this.env.WANDB_MODE;
    if (this.opts.mode === 'disabled' || envMode === 'disabled') return;
    const baseUrl = baseUrlOf(this.env);
    const prior = readWandbState(info.dir);
    const id = prior?.id ?? newRunId();
    const group = this.opts.group ?? info.group ?? this.env.DFDET_SWEEP ?? prior?.group;
    const base: Omit<WandbRunState, 'updated_at' | 'status'> = {
      id,
      project: this.opts.project,
      entity: this.opts.entity ?? prior?.entity,
      base_url: baseUrl,
      name: this.opts.run_name ?? info.run,
      group,
      tags: this.opts.tags,
      job_type: this.opts.job_type,
    };
    const pending = (reason: string) => {
      warnOnce(`W&B: ${reason}; the run trains and logs locally — upload it later with: exp wandb sync ${info.dir}`, this.err);
      this.state = writeWandbState(info.dir, { ...base, status: 'pending', reason });
    };
    if (envMode === 'offline') return pending('WANDB_MODE=offline');
    const { key } = resolveApiKey(this.env, baseUrl);
    if (!key) return pending('no API key (set WANDB_API_KEY, or run `wandb login` to write ~/.netrc)');

    const timeoutMs = this.opts.timeout_s * 1000;
    const client = new WandbClient({ baseUrl, apiKey: key, timeoutMs: Math.min(timeoutMs, 10_000), attempts: 2 });
    const config = wandbConfig(info.config, group ? { _group: group } : {});
    let entity = base.entity;
    try {
      entity ??= await client.viewerEntity();
      if (!entity) throw new Error('the API key has no default entity; set entity: in the logger options');
      // group, tags and job type: @wandb/sdk 0.5.1 drops them, so the run is created with them first
      await client.upsertRun({ id, project: this.opts.project, entity, displayName: base.name, groupName: group, tags: this.opts.tags, jobType: this.opts.job_type, notes: this.opts.notes, config });
    } catch (err) {
      return pending(`cannot reach ${baseUrl} (${(err as Error).message})`);
    }

    const before = new Map(HOOKED.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]));
    try {
      this.sdkRun = await withTimeout(
        wandb.init({ project: this.opts.project, entity, id, name: base.name, config, settings: { apiKey: key, baseUrl, silent: true } }),
        timeoutMs,
        'wandb.init',
      );
    } catch (err) {
      return pending(`@wandb/sdk init failed (${(err as Error).message})`);
    } finally {
      for (const s of HOOKED) for (const l of process.listeners(s as NodeJS.Signals)) if (!before.get(s)!.has(l)) process.off(s, l as () => void);
    }
    this.client = client;
    this.ids = { entity, project: this.opts.project, id };
    this.state = writeWandbState(info.dir, { ...base, entity, status: 'live' });
  }

  log(record: MetricRecord): void {
    if (!this.sdkRun) return;
    if (this.first) {
      this.first = false;
      // a resumed run re-sends its history so far: W&B rows are line offsets from 0 in every session
      if (this.info?.resumed) {
        const earlier = RunStore.read(this.info.dir).metrics().filter((r) => typeof r.step === 'number' && (r.step as number) < record.step);
        for (const row of historyRows(earlier)) {
          const { _step, ...data } = row;
          this.send(_step as number, data);
        }
      }
    }
    if (this.row && this.row.step !== record.step) this.flush();
    this.row ??= { step: record.step, data: {} };
    for (const [k, v] of Object.entries(record)) if (k !== 'step' && (typeof v === 'number' || typeof v === 'string')) this.row.data[k] = v;
  }

  private flush(): void {
    if (!this.row) return;
    this.send(this.row.step, this.row.data);
    this.row = undefined;
  }

  private send(step: number, data: Record<string, number | string>): void {
    Object.assign(this.lastValues, data);
    try {
      this.sdkRun!.log({ ...data }, step);
    } catch (err) {
      if (!this.failed) this.err.write(`warning: W&B log failed (${(err as Error).message}); exp wandb sync ${this.info?.dir} uploads the run later\n`);
      this.failed = true;
    }
  }

  async finish(summary: Record<string, unknown>, status: string): Promise<void> {
    if (!this.sdkRun || !this.ids || !this.info) return;
    this.flush();
    // @wandb/sdk 0.5.1 closes its message channel in finish(); give the last row time to reach its sender
    await new Promise((r) => setTimeout(r, 150));
    const timeoutMs = this.opts.timeout_s * 1000;
    try {
      await withTimeout(this.sdkRun.finish(status === 'completed' ? 0 : 1), timeoutMs, 'wandb.finish');
    } catch (err) {
      this.failed = true;
      this.err.write(`warning: W&B finish failed (${(err as Error).message})\n`);
    }
    try {
      // the summary the SDK cannot send: best, final and test metrics, status
      await this.client!.upsertRun({ ...this.ids, summary: { ...this.lastValues, ...wandbSummary(summary, status) } });
    } catch (err) {
      this.failed = true;
      this.err.write(`warning: W&B summary upload failed (${(err as Error).message})\n`);
    }
    const { updated_at: _u, ...prev } = this.state!;
    this.state = writeWandbState(this.info.dir, {
      ...prev,
      status: this.failed || status !== 'completed' ? 'pending' : 'synced',
      reason: this.failed ? 'an upload failed while training' : status !== 'completed' ? `run ${status}` : undefined,
    });
    this.sdkRun = undefined;
  }
}

export const wandbLogger = definePlugin({
  kind: 'logger',
  name: 'wandb',
  description: 'Weights & Biases (@wandb/sdk): config, every metric per step, summary; without a key or network the run stays local and syncable (exp wandb sync)',
  options: z.object({
    project: z.string().default('dfdet'),
    entity: z.string().optional().describe('team or user (default: the API key\'s default entity)'),
    run_name: z.string().optional().describe('W&B display name (default: the run folder name; "name" is the plugin\'s own key)'),
    group: z.string().optional().describe('run group (default: the sweep name)'),
    tags: z.array(z.string()).default([]),
    job_type: z.string().optional(),
    notes: z.string().optional(),
    mode: z.enum(['online', 'disabled']).default('online').describe('disabled: log nothing to W&B (WANDB_MODE=disabled does the same)'),
    timeout_s: z.number().positive().default(30).describe('limit for init and finish'),
  }),
  create: (opts, ctx) => new WandbLogger(opts, (ctx.env as NodeJS.ProcessEnv | undefined) ?? process.env, (ctx.stderr as NodeJS.WritableStream | undefined) ?? process.stderr),
});
