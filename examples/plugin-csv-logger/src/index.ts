import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin, pluginModule, type Logger, type MetricRecord, type Run } from '@dfdet/core';
import { z } from 'zod';

/**
 * A logger that appends chosen metrics to `<run>/<file>` as CSV, one row per logged record.
 * Columns are fixed up front so the file stays rectangular.
 */
class CsvLogger implements Logger {
  private readonly file: string;

  constructor(
    run: Run,
    file: string,
    private readonly columns: string[],
    private readonly delimiter: string,
  ) {
    this.file = join(run.dir, file);
  }

  start(): void {
    if (!existsSync(this.file)) appendFileSync(this.file, `${['step', ...this.columns].join(this.delimiter)}\n`);
  }

  log(record: MetricRecord): void {
    const cells = [record.step, ...this.columns.map((c) => record[c] ?? '')];
    appendFileSync(this.file, `${cells.join(this.delimiter)}\n`);
  }

  finish(): void {}
}

export const csvLogger = definePlugin({
  kind: 'logger',
  name: 'csv',
  description: 'appends chosen metrics to a CSV file in the run folder (example third-party plugin)',
  options: z.object({
    file: z.string().default('metrics.csv').describe('file name inside the run folder'),
    columns: z.array(z.string()).min(1).describe('metric keys to write, e.g. [train/loss, val/video/mAP]'),
    delimiter: z.enum([',', ';', '\t']).default(','),
  }),
  create: (opts, ctx) => {
    if (!ctx.run) throw new Error('the csv logger needs a run folder');
    return new CsvLogger(ctx.run as Run, opts.file, opts.columns, opts.delimiter);
  },
});

/** The module dfdet loads when a config lists this package under `plugins:`. */
export const plugins = pluginModule(csvLogger);
