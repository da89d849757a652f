import type { LoadedExperiment } from '../config/load-experiment.js';
import { describeChoice, selectEngine } from '../engine/select.js';
import type { Logger } from '../loggers/logger.js';
import { RunStore, type OpenMode, type Run } from '../runstore/run-store.js';
import { train, type TrainResult } from './trainer.js';
import type { TrainingConfig } from './training-config.js';

export interface RunExperimentOptions {
  mode: OpenMode;
  run?: string;
  signal?: AbortSignal;
  /** Extra context for logger plugins (tests pass a stream). */
  loggerContext?: Record<string, unknown>;
  group?: string;
}

/** `exp run`: open the run folder, pick the engine, build loggers, train, record the outcome. */
export async function runExperiment(exp: LoadedExperiment, opts: RunExperimentOptions): Promise<{ run: Run; result: TrainResult }> {
  const { config, registry } = exp;
  const store = new RunStore(config.output.dir);
  const run = store.open({ experiment: config.name, run: opts.run ?? config.output.run, config, mode: opts.mode });
  const resumed = run.meta().sessions.length > 1;
  try {
    const engineCfg = (config as unknown as { engine: { backend: string; device: string; threads?: number } }).engine;
    const engine = await selectEngine(registry, engineCfg);
    run.updateMeta({ engine: { backend: engine.backend, device: engine.device, reason: engine.reason } });
    run.log(describeChoice(engine));
    const ctx = { seed: config.seed, registry, run, ...opts.loggerContext };
    const loggers: Logger[] = [await registry.create<Logger>('logger', { name: 'jsonl' }, ctx)];
    for (const l of config.loggers) if (l.name !== 'jsonl') loggers.push(await registry.create<Logger>('logger', l, ctx));
    const info = { experiment: config.name, run: run.name, dir: run.dir, config, group: opts.group, resumed };
    for (const l of loggers) await l.start(info);
    for (const l of loggers) l.message?.(describeChoice(engine));
    let result: TrainResult;
    try {
      result = await train({ registry, config, run, loggers, engine, resume: opts.mode === 'resume', signal: opts.signal });
    } catch (err) {
      for (const l of loggers) await l.finish({ status: 'failed', error: (err as Error).message }, 'failed');
      throw err;
    }
    for (const l of loggers) await l.finish(result.summary, result.status);
    run.finish(result.status);
    return { run, result };
  } catch (err) {
    run.finish('failed', err);
    throw err;
  }
}

export type { TrainingConfig };
