import type { RunStatus } from '../runstore/meta.js';

/** What a logger learns when a run starts. */
export interface RunInfo {
  experiment: string;
  run: string;
  dir: string;
  config: Record<string, unknown>;
  /** Sweep name when the run belongs to one (wandb group). */
  group?: string;
  resumed: boolean;
}

/** The live state of training, sent every step for progress display. */
export interface ProgressState {
  step: number;
  totalSteps: number;
  epoch: number;
  totalEpochs: number;
  /** Values shown beside the bar, e.g. loss and lr. */
  values: Record<string, number>;
}

/** One logged record: a step and its metrics (`train/loss`, `val/video/mAP`, …). */
export interface MetricRecord {
  step: number;
  epoch?: number;
  [metric: string]: number | string | undefined;
}

/** The logger contract. JSONL is always on; console and wandb plug in under the `logger` kind. */
export interface Logger {
  start(info: RunInfo): void | Promise<void>;
  progress?(state: ProgressState): void;
  log(record: MetricRecord): void | Promise<void>;
  /** Free-text messages (eval tables, warnings). */
  message?(text: string): void;
  finish(summary: Record<string, unknown>, status: Exclude<RunStatus, 'running'>): void | Promise<void>;
}
