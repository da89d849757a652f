import { z } from 'zod';
import { definePlugin } from '../plugin/spec.js';
import type { Run } from '../runstore/run-store.js';
import type { Logger, MetricRecord } from './logger.js';

/** Appends every record to the run's metrics.jsonl and writes summary.json at the end. */
export class JsonlLogger implements Logger {
  constructor(private readonly run: Run) {}

  start(): void {}

  log(record: MetricRecord): void {
    this.run.appendMetrics({ ...record, time: new Date().toISOString() });
  }

  finish(summary: Record<string, unknown>): void {
    this.run.writeSummary(summary);
  }
}

export const jsonlLogger = definePlugin({
  kind: 'logger',
  name: 'jsonl',
  description: 'metrics.jsonl and summary.json in the run folder (always on; listing it changes nothing)',
  options: z.object({}),
  create: (_opts, ctx) => {
    const run = ctx.run as Run | undefined;
    if (!run) throw new Error('the jsonl logger needs a run folder (ctx.run)');
    return new JsonlLogger(run);
  },
});
