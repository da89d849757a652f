import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { definePlugin } from '../plugin/spec.js';
import { bestText, expRunCommand, summaryOf, formatElapsed, runEnv, type LaunchOutcome, type LaunchRequest, type Launcher } from './launcher.js';
import type { SweepRun } from './plan.js';
import { readMeta, type SweepRunStatus } from './state.js';
import { toOverride } from './spec.js';

export interface LocalLauncherOptions {
  workers?: number;
  devices?: (number | string)[];
  summary_every_s: number;
  first_alone: boolean;
}

interface Active {
  run: SweepRun;
  child: ChildProcess;
  device: string;
  startedAt: number;
  step?: string;
}

/**
 * Runs each run in a child `exp run … --run <name> --resume` process, N at a time. With `devices`, one
 * run per device at a time (engine.device=cuda:N); without, on the CPU. Ctrl-C sends each child one
 * SIGINT (it checkpoints and stops); a second Ctrl-C sends another (it quits at once).
 */
export class LocalLauncher implements Launcher {
  constructor(private readonly opts: LocalLauncherOptions) {}

  async launch(req: LaunchRequest): Promise<LaunchOutcome> {
    const { plan, state, say } = req;
    const devices = this.opts.devices?.map((d) => (typeof d === 'number' ? `cuda:${d}` : d));
    const workers = req.workers ?? this.opts.workers;
    const concurrency = devices ? Math.min(workers ?? devices.length, devices.length) : (workers ?? 1);
    if (devices && workers !== undefined && workers > devices.length) {
      say(`${workers} workers > ${devices.length} devices: running ${devices.length} at a time (one run per device)`);
    }
    const freeDevices = devices ? [...devices] : undefined;
    const queue = [...req.runs];
    const active = new Map<string, Active>();
    const statuses: Record<string, SweepRunStatus> = {};
    const total = plan.runs.length;

    const counts = () => {
      const c: Record<string, number> = { completed: 0, failed: 0, interrupted: 0 };
      for (const r of plan.runs) {
        const s = statuses[r.name] ?? state.run(r.name).status;
        if (s in c) c[s]! += 1;
      }
      return c;
    };
    const summary = () => {
      const c = counts();
      const running = [...active.values()].map((a) => `${a.run.name}${a.step ? ` ${a.step}` : ''}`);
      return `[sweep ${plan.name}] ${c.completed}/${total} completed, ${c.failed} failed, ${c.interrupted} interrupted, ${active.size} running, ${queue.length} queued${
        running.length ? ` · ${running.join(', ')}` : ''
      }`;
    };

    const ticker = setInterval(() => active.size && say(summary()), this.opts.summary_every_s * 1000);
    ticker.unref();
    // the sweep process going away (an uncaught error, exit) takes its children with it
    const onExit = () => {
      for (const a of active.values()) {
        try {
          process.kill(a.child.pid!, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    };
    process.on('exit', onExit);

    // first_alone: the others wait until the first run has logged a step (its one-time setup is done)
    let gate = this.opts.first_alone && concurrency > 1 && queue.length > 1;
    let gateTimer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolveAll) => {
      const startNext = () => {
        while (!req.signal.aborted && queue.length && active.size < (gate ? 1 : concurrency)) {
          const run = queue.shift()!;
          const device = freeDevices ? freeDevices.shift()! : 'cpu';
          start(run, device);
        }
        if (gate && !gateTimer && active.size === 1) {
          const first = [...active.values()][0]!;
          gateTimer = setInterval(() => {
            if (existsSync(join(first.run.dir, 'metrics.jsonl')) || !active.has(first.run.name)) {
              clearInterval(gateTimer);
              if (gate) say(`[sweep ${plan.name}] ${first.run.name} is training; starting the others`);
              gate = false;
              startNext();
            }
          }, 500);
        }
        if (active.size === 0 && (queue.length === 0 || req.signal.aborted)) {
          clearInterval(gateTimer);
          resolveAll();
        }
      };

      const start = (run: SweepRun, device: string) => {
        mkdirSync(run.dir, { recursive: true });
        const out = createWriteStream(join(run.dir, 'stdout.txt'), { flags: 'a' });
        const err = createWriteStream(join(run.dir, 'stderr.txt'), { flags: 'a' });
        const priorMeta = readMeta(run.dir);
        const prior = priorMeta?.status;
        const sessionsBefore = priorMeta?.sessions?.length ?? 0;
        const { command, args } = expRunCommand(plan, run, [toOverride('engine.device', device)]);
        const stamp = `--- ${new Date().toISOString()} ${prior ? `resume (was ${prior})` : 'start'} on ${device}\n`;
        out.write(stamp);
        err.write(stamp);
        const child = spawn(command, args, {
          cwd: plan.cwd,
          env: runEnv(plan, run, req.env ?? process.env),
          // own process group: a terminal's Ctrl-C reaches only the sweep, which forwards one SIGINT
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const a: Active = { run, child, device, startedAt: Date.now() };
        active.set(run.name, a);
        const attempts = state.run(run.name).attempts + 1;
        state.update(run.name, { status: 'running', attempts, device, started_at: new Date().toISOString(), ended_at: undefined, error: undefined, exit_code: undefined, signal: undefined });
        say(`[${run.index + 1}/${total}] ${prior ? `resume ${run.name} (was ${prior})` : `start ${run.name}`} on ${device}`);
        let tail = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out.write(chunk);
          const m = [...chunk.toString().matchAll(/step (\d+)\/(\d+)/g)].at(-1);
          if (m) a.step = `${m[1]}/${m[2]}`;
        });
        child.stderr!.on('data', (chunk: Buffer) => {
          err.write(chunk);
          tail = (tail + chunk.toString()).slice(-4000);
        });
        child.on('error', (e) => {
          tail += `\n${e.message}`;
        });
        child.on('close', (code, signal) => {
          out.end();
          err.end();
          active.delete(run.name);
          if (gate) {
            gate = false;
            clearInterval(gateTimer);
          }
          if (freeDevices) freeDevices.push(device);
          const meta = readMeta(run.dir);
          // did this attempt open the run? (a child can fail before it does, e.g. on a plugin that no longer loads)
          const opened = (meta?.sessions?.length ?? 0) > sessionsBefore;
          let status: SweepRunStatus;
          if (meta?.status === 'completed' && code === 0) status = 'completed';
          else if (opened && meta?.status === 'failed') status = 'failed';
          else if (code === 130 || (opened && meta?.status === 'interrupted')) status = 'interrupted';
          // killed by a signal (Ctrl-C before it could checkpoint, the OOM killer): resumable
          else if (signal !== null) status = 'interrupted';
          else status = 'failed';
          const error = status === 'failed' ? (meta?.error ?? lastError(tail) ?? `exit code ${code ?? signal}`) : undefined;
          statuses[run.name] = status;
          state.update(run.name, { status, exit_code: code, signal, ended_at: new Date().toISOString(), error });
          const took = formatElapsed(Date.now() - a.startedAt);
          const where = relative(plan.cwd, run.dir) || run.dir;
          if (status === 'completed') say(`[${run.index + 1}/${total}] completed ${run.name} in ${took}${bestText(summaryOf(run.dir), plan.monitor)}`);
          else if (status === 'interrupted') say(`[${run.index + 1}/${total}] interrupted ${run.name} after ${took} (resumes from its last checkpoint on the next exp sweep)`);
          else say(`[${run.index + 1}/${total}] FAILED ${run.name} after ${took}: ${error} (see ${join(where, 'stderr.txt')})`);
          say(summary());
          startNext();
        });
      };

      let forwarded = 0;
      const forward = () => {
        forwarded += 1;
        for (const a of active.values()) {
          if (a.child.exitCode !== null || a.child.signalCode !== null) continue;
          try {
            process.kill(a.child.pid!, 'SIGINT');
          } catch {
            // already gone
          }
        }
        if (forwarded === 1 && active.size) say(`[sweep ${plan.name}] stopping ${active.size} running run(s) at their next step (Ctrl-C again to stop them at once)…`);
        if (active.size === 0) resolveAll();
      };
      req.signal.addEventListener('abort', forward, { once: true });
      req.forceSignal?.addEventListener('abort', forward, { once: true });

      startNext();
    });
    clearInterval(ticker);
    process.off('exit', onExit);
    return { statuses };
  }
}

function lastError(tail: string): string | undefined {
  const lines = tail.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.reverse().find((l) => l.startsWith('error:'))?.slice(6).trim() ?? lines[0];
}

export const localLauncher = definePlugin({
  kind: 'launcher',
  name: 'local',
  description: 'runs each sweep run as a child exp run process on this machine, N at a time, one per device',
  options: z.object({
    workers: z.number().int().positive().optional().describe('runs at a time (default: 1, or one per device)'),
    devices: z
      .array(z.union([z.number().int().min(0), z.string()]))
      .min(1)
      .optional()
      .describe('GPU indices (engine.device=cuda:N) or device strings; one run per device at a time; none: cpu'),
    summary_every_s: z.number().positive().default(30).describe('how often the progress summary line is printed while runs are going'),
    first_alone: z
      .boolean()
      .default(false)
      .describe('start the first run alone, the others once it logs its first step (one-time setup such as dataset generation happens once)'),
  }),
  create: (opts) => new LocalLauncher(opts),
});
