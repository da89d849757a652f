import cliProgress from 'cli-progress';
import { z } from 'zod';
import { definePlugin } from '../plugin/spec.js';
import type { Logger, MetricRecord, ProgressState, RunInfo } from './logger.js';

export interface ConsoleLoggerOptions {
  /** Plain-line interval when stdout is not a TTY. */
  every_n_steps: number;
  every_seconds: number;
  /** Force the bar on or off; default: on when the stream is a TTY. */
  bar?: boolean;
}

type Stream = NodeJS.WritableStream & { isTTY?: boolean };

/** Progress bar (epoch/step, loss, it/s, ETA) on a TTY, periodic plain lines otherwise. */
export class ConsoleLogger implements Logger {
  private bar?: cliProgress.SingleBar;
  private rate = new RateMeter();
  private lastLineAt = 0;
  private lastLineStep = -1;

  constructor(
    private readonly opts: ConsoleLoggerOptions,
    private readonly out: Stream = process.stdout,
  ) {}

  private get useBar(): boolean {
    return this.opts.bar ?? Boolean(this.out.isTTY);
  }

  start(info: RunInfo): void {
    this.write(`${info.resumed ? 'resuming' : 'starting'} ${info.experiment}/${info.run} -> ${info.dir}`);
  }

  progress(s: ProgressState): void {
    const itps = this.rate.tick(s.step);
    const eta = itps > 0 ? (s.totalSteps - s.step) / itps : Number.NaN;
    const values = Object.entries(s.values)
      .map(([k, v]) => `${k} ${formatNumber(v)}`)
      .join(' | ');
    if (this.useBar) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          {
            stream: this.out as NodeJS.WriteStream,
            format: 'epoch {epoch} |{bar}| step {value}/{total} | {values} | {rate} it/s | ETA {eta_text}',
            hideCursor: true,
            clearOnComplete: false,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(s.totalSteps, s.step, { epoch: '', values: '', rate: '', eta_text: '' });
      }
      this.bar.update(s.step, {
        epoch: `${s.epoch}/${s.totalEpochs}`,
        values,
        rate: itps.toFixed(2),
        eta_text: formatDuration(eta),
      });
      return;
    }
    const now = Date.now();
    const due =
      s.step === s.totalSteps ||
      this.lastLineStep < 0 ||
      s.step - this.lastLineStep >= this.opts.every_n_steps ||
      now - this.lastLineAt >= this.opts.every_seconds * 1000;
    if (!due) return;
    this.lastLineAt = now;
    this.lastLineStep = s.step;
    this.write(
      `[epoch ${s.epoch}/${s.totalEpochs} step ${s.step}/${s.totalSteps}] ${values}${values ? ' | ' : ''}${itps.toFixed(2)} it/s | ETA ${formatDuration(eta)}`,
    );
  }

  /** Evaluation records, compactly: the headline metrics over all datasets (every metric is in metrics.jsonl). */
  log(record: MetricRecord): void {
    const evals = Object.entries(record).filter(([k, v]) => typeof v === 'number' && HEADLINE.test(k));
    if (evals.length === 0) return;
    this.write(`[step ${record.step}] ${evals.map(([k, v]) => `${k}=${formatNumber(v as number)}`).join(' ')}`);
  }

  message(text: string): void {
    this.write(text);
  }

  finish(_summary: Record<string, unknown>, status: string): void {
    this.bar?.stop();
    this.bar = undefined;
    this.write(`run ${status}`);
  }

  private write(line: string): void {
    if (this.bar) {
      // keep the bar on its own line: clear it, print, redraw
      this.out.write(`\r\x1b[K${line}\n`);
      this.bar.render();
    } else {
      this.out.write(`${line}\n`);
    }
  }
}

const HEADLINE = /^(val|test)\/(frame|video)\/(mAP|auroc|eer|accuracy)$/;

/** Iterations per second over a sliding window of recent steps. */
export class RateMeter {
  private samples: { step: number; t: number }[] = [];

  constructor(private readonly window = 20) {}

  tick(step: number, t = performance.now()): number {
    this.samples.push({ step, t });
    if (this.samples.length > this.window) this.samples.shift();
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const dt = (last.t - first.t) / 1000;
    return dt > 0 ? (last.step - first.step) / dt : 0;
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

export const consoleLogger = definePlugin({
  kind: 'logger',
  name: 'console',
  description: 'progress bar with epoch/step, loss, it/s and ETA; plain periodic lines when stdout is not a TTY',
  options: z.object({
    every_n_steps: z.number().int().positive().default(10).describe('plain-line interval in steps (non-TTY)'),
    every_seconds: z.number().positive().default(30).describe('plain-line interval in seconds (non-TTY)'),
    bar: z.boolean().optional().describe('force the progress bar on or off (default: on a TTY)'),
  }),
  create: (opts, ctx) => new ConsoleLogger(opts, (ctx.stdout as Stream | undefined) ?? process.stdout),
});
