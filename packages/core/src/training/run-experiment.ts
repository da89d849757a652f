import type { LoadedExperiment } from '../config/load-experiment.js';
import { describeChoice, selectEngine } from '../engine/select.js';
import type { Logger, MetricRecord } from '../loggers/logger.js';
import { RunStore, type OpenMode, type Run } from '../runstore/run-store.js';
import { train, type TrainResult } from './trainer.js';
import { loadDetector } from './load-detector.js';
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
    if (result.status === 'completed') await testAfterTraining(exp, run, loggers, result);
    for (const l of loggers) await l.finish(result.summary, result.status);
    run.finish(result.status);
    return { run, result };
  } catch (err) {
    run.finish('failed', err);
    throw err;
  }
}

export type { TrainingConfig };

/** With `data.test`, the best checkpoint is evaluated across those datasets into <run>/eval/. */
async function testAfterTraining(exp: LoadedExperiment, run: Run, loggers: Logger[], result: TrainResult): Promise<void> {
  const cfg = exp.config as unknown as TrainingConfig;
  if (!cfg.data.test.length) return;
  const loaded = await loadDetector(exp.registry, run.dir, { seed: cfg.seed });
  try {
    const out = await exp.registry.service('evaluateDatasets')({
      registry: exp.registry,
      model: loaded.model,
      datasets: cfg.data.test,
      split: 'test',
      outDir: run.path('eval'),
      rule: cfg.trainer.decision_rule,
      batchSize: cfg.data.eval_batch_size,
      workers: cfg.data.workers,
      onBadFile: cfg.data.on_bad_file,
      plugins: cfg.plugins,
      seed: cfg.seed,
    });
    const record: MetricRecord = { step: result.summary.steps as number };
    for (const r of out.results) {
      for (const level of ['frame', 'video'] as const) {
        for (const [k, v] of Object.entries(r[level])) record[`test/${r.dataset}/${level}/${k}`] = v;
      }
    }
    for (const l of loggers) await l.log(record);
    const text = `test results (${loaded.path.endsWith('best.safetensors') ? 'best' : 'last'} checkpoint), metrics in %:\n${out.markdown}`;
    run.log(text);
    for (const l of loggers) l.message?.(text);
    result.summary.test = out.results;
  } finally {
    loaded.model.dispose();
  }
}
