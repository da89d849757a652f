import { existsSync } from 'node:fs';
import type { Batch, DatasetAdapter, FrameRecord, Split } from '../contracts/data.js';
import type { LossTerm } from '../contracts/training.js';
import type { ResolvedConfig } from '../config/experiment.js';
import type { EngineChoice } from '../engine/engine.js';
import type { Logger, MetricRecord } from '../loggers/logger.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { PluginInstanceConfig } from '../plugin/spec.js';
import type { Run } from '../runstore/run-store.js';
import * as tf from '../tf.js';
import { UserError } from '../util/errors.js';
import { SeededRng } from '../util/rng.js';
import { AdamW, clipGradNorm } from './adamw.js';
import { assignParams, loadCheckpoint, saveCheckpoint, snapshot, type CheckpointMeta } from './checkpoint.js';
import { predictFrames, scorePredictions } from './evaluator.js';
import { buildModel, namedModulesOf, type DetectorModel, type ModelConfig } from './model.js';
import { learningRate } from './schedule.js';
import type { TrainingConfig } from './training-config.js';

export interface TrainOptions {
  registry: PluginRegistry;
  config: ResolvedConfig;
  run: Run;
  loggers: Logger[];
  engine: EngineChoice;
  resume: boolean;
  /** Aborting stops after the current step with a resumable checkpoint. */
  signal?: AbortSignal;
}

export interface TrainResult {
  status: 'completed' | 'interrupted';
  summary: Record<string, unknown>;
}

/** Indexes every dataset of a split and concatenates their frames. */
export async function indexDatasets(registry: PluginRegistry, configs: PluginInstanceConfig[], split: Split, seed: number): Promise<FrameRecord[]> {
  const out: FrameRecord[] = [];
  for (const c of configs) {
    const adapter = await registry.create<DatasetAdapter>('dataset', c, { seed, registry });
    const records = await adapter.index(split);
    if (records.length === 0) throw new UserError(`dataset "${c.name}" (${adapter.name}) has no ${split} frames; check its paths and split`);
    out.push(...records);
  }
  return out;
}

/** Loads a named subset of a safetensors file into the model (warm start). */
export function warmStart(registry: PluginRegistry, model: DetectorModel, spec: { path: string; include: string[] }): string[] {
  const files = registry.service('tensorFiles');
  if (!existsSync(spec.path)) throw new UserError(`model.init_from.path: ${spec.path} does not exist`);
  const patterns = spec.include.map((p) => new RegExp(p));
  const tensors = files.read(spec.path, (n) => patterns.some((re) => re.test(n)) && !n.startsWith('optimizer.'));
  if (tensors.size === 0) throw new UserError(`model.init_from: no tensor of ${spec.path} matches ${JSON.stringify(spec.include)}`);
  assignParams(new Map(model.namedParameters()), tensors, spec.path);
  return [...tensors.keys()];
}

const better = (mode: 'max' | 'min', a: number, b: number | undefined) => b === undefined || Number.isNaN(b) || (mode === 'max' ? a > b : a < b);

/** The training loop: forward → losses → grads of trainable params → AdamW, with validation and checkpoints. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { registry, run, loggers } = opts;
  const cfg = opts.config as unknown as TrainingConfig & ResolvedConfig;
  if (!cfg.model) throw new UserError('the config has no model section (model.backbone is required to train)');
  if (cfg.data.train.length === 0) throw new UserError('data.train lists no dataset');
  const seed = cfg.seed;
  const files = registry.service('tensorFiles');
  const evaluation = registry.service('evaluation');
  const emit = async (r: MetricRecord) => {
    for (const l of loggers) await l.log(r);
  };
  const say = (text: string) => {
    run.log(text);
    for (const l of loggers) l.message?.(text);
  };

  const model = await buildModel(registry, cfg.model as ModelConfig, seed);
  const loaders: { close(): Promise<void> }[] = [];
  try {
    say(model.peftSummary);
    if (cfg.model.init_from) say(`warm start: ${warmStart(registry, model, cfg.model.init_from).length} tensors from ${cfg.model.init_from.path}`);

    const trainRecords = await indexDatasets(registry, cfg.data.train, 'train', seed);
    const valRecords = cfg.data.val.length ? await indexDatasets(registry, cfg.data.val, 'val', seed) : [];
    const makeLoader = registry.service('dataLoader');
    const common = { preprocessing: model.backbone.preprocessing, workers: cfg.data.workers, onBadFile: cfg.data.on_bad_file, plugins: cfg.plugins, seed };
    const trainLoader = makeLoader({ ...common, records: trainRecords, batchSize: cfg.data.batch_size, shuffle: true, augmentations: cfg.data.augmentations, dropLast: false, balanced: cfg.data.balanced });
    loaders.push(trainLoader);
    const valLoader = valRecords.length
      ? makeLoader({ ...common, records: valRecords, batchSize: cfg.data.eval_batch_size, shuffle: false, augmentations: [], dropLast: false })
      : undefined;
    if (valLoader) loaders.push(valLoader);

    const perEpoch = trainLoader.batchesPerEpoch;
    const totalSteps = cfg.trainer.max_steps ?? cfg.trainer.epochs * perEpoch;
    const totalEpochs = Math.ceil(totalSteps / perEpoch);
    const trainable = model.trainableParameters();
    if (trainable.size === 0) throw new UserError('nothing to train: the PEFT method froze every parameter and the head has none');
    const varNames = new Map([...trainable].map(([n, v]) => [v.name, n]));
    const optimizer = new AdamW(trainable, { lr: cfg.optim.lr, betas: cfg.optim.betas, eps: cfg.optim.eps, weight_decay: cfg.optim.weight_decay, no_decay: cfg.optim.no_decay });
    const terms: LossTerm[] = [];
    for (const [name, options] of Object.entries(cfg.loss ?? { ce: {} })) {
      if (options) terms.push(await registry.create<LossTerm>('loss', { ...(options as object), name }, { seed, registry }));
    }
    say(`training ${trainRecords.length} frames, ${perEpoch} steps/epoch of ${cfg.data.batch_size}, ${totalSteps} steps; ${valRecords.length} validation frames`);

    let step = 0;
    let epoch = 0;
    let nextBatch = 0;
    let best: number | undefined;
    let bestStep: number | undefined;
    let stale = 0;
    let lastVal: Record<string, number> = {};
    let lastValStep = -1;
    const lastPath = run.checkpointPath('last.safetensors');
    const bestPath = run.checkpointPath('best.safetensors');

    const rngModules = () => namedModulesOf(model.backbone).filter(([, m]) => typeof (m as { rngState?: unknown }).rngState === 'function') as [string, { rngState(): unknown; restoreRng(s: unknown): void }][];

    if (opts.resume && existsSync(lastPath)) {
      const ck = loadCheckpoint(files, lastPath);
      assignParams(trainable, ck.params, lastPath, trainable.keys());
      if (!ck.optimizer) throw new UserError(`${lastPath}: no optimizer state to resume from`);
      optimizer.loadState(ck.optimizer, lastPath);
      ({ step, epoch, next_batch: nextBatch } = ck.meta);
      const t = ck.meta.trainer as { best?: number; best_step?: number; stale?: number; rng?: Record<string, unknown>; last_val?: Record<string, number> };
      best = t.best ?? undefined;
      bestStep = t.best_step;
      stale = t.stale ?? 0;
      lastVal = t.last_val ?? {};
      for (const [path, m] of rngModules()) if (t.rng?.[path] !== undefined) m.restoreRng(t.rng[path]);
      run.truncateMetricsAfter(step);
      say(`resumed at step ${step} (epoch ${epoch}, batch ${nextBatch})`);
    }

    const meta = (kind: CheckpointMeta['kind']): CheckpointMeta => ({
      format: 'dfdet-checkpoint/1',
      kind,
      step,
      epoch,
      next_batch: nextBatch,
      metrics: lastVal,
      trainer: { best, best_step: bestStep, stale, rng: Object.fromEntries(rngModules().map(([p, m]) => [p, m.rngState()])), last_val: lastVal },
      config: cfg,
    });
    const saveLast = () => saveCheckpoint(files, lastPath, { params: snapshot(trainable), optimizer: optimizer.state(), meta: meta('last') });

    const validate = async (): Promise<boolean> => {
      if (!valLoader) return false;
      lastValStep = step;
      const preds = await predictFrames(model, valLoader);
      lastVal = scorePredictions(evaluation, preds, 'val', cfg.trainer.decision_rule);
      await emit({ step, epoch, ...lastVal });
      const value = lastVal[cfg.trainer.monitor];
      if (value === undefined) {
        throw new UserError(`trainer.monitor: "${cfg.trainer.monitor}" is not a validation metric; available: ${Object.keys(lastVal).slice(0, 12).join(', ')}, …`);
      }
      if (better(cfg.trainer.mode, value, best)) {
        best = value;
        bestStep = step;
        stale = 0;
        saveCheckpoint(files, bestPath, { params: snapshot(trainable), meta: meta('best') });
        say(`new best ${cfg.trainer.monitor} = ${value.toFixed(4)} at step ${step}`);
      } else stale += 1;
      return cfg.trainer.early_stopping_patience !== undefined && stale >= cfg.trainer.early_stopping_patience;
    };

    const micro = Math.min(cfg.data.micro_batch_size ?? cfg.data.batch_size, cfg.data.batch_size);
    let stopped = false;
    let interrupted = false;
    const lossValues = new Map<string, number>();
    // (epoch, nextBatch) is always the next batch to train: what a checkpoint resumes from
    const endEpoch = async (e: number) => {
      epoch = e + 1;
      nextBatch = 0;
      if (!cfg.trainer.val_every_n_steps) stopped = (await validate()) || stopped;
      saveLast();
    };
    while (step < totalSteps && epoch < totalEpochs && !stopped && !interrupted) {
      const e = epoch;
      let broke = false;
      for await (const batch of trainLoader.epoch(e, nextBatch)) {
        const lr = learningRate(step, cfg.optim.lr, totalSteps, cfg.schedule);
        const stepRng = SeededRng.derive(seed, `step:${step}`);
        model.setTraining(true);
        const total = trainStep(batch, lr, stepRng);
        step += 1;
        nextBatch = batch.index + 1;
        for (const l of loggers) l.progress?.({ step, totalSteps, epoch: e + 1, totalEpochs, values: { loss: total.loss, lr } });
        if (step % cfg.trainer.log_every_n_steps === 0 || step === totalSteps) {
          const rec: MetricRecord = { step, epoch: e, 'train/loss': total.loss, 'train/lr': lr };
          for (const t of terms) rec[`train/loss/${t.name}`] = lossValues.get(t.name)!;
          if (total.gradNorm !== undefined) rec['train/grad_norm'] = total.gradNorm;
          await emit(rec);
        }
        if (cfg.trainer.val_every_n_steps && step % cfg.trainer.val_every_n_steps === 0) stopped = await validate();
        if (nextBatch >= perEpoch) {
          await endEpoch(e);
        } else if (step % cfg.trainer.checkpoint_every_n_steps === 0) saveLast();
        if (step >= totalSteps || stopped || opts.signal?.aborted) {
          interrupted = Boolean(opts.signal?.aborted) && step < totalSteps && !stopped;
          broke = true;
          break;
        }
      }
      // an epoch whose last batches were all unreadable (skipped) ends here
      if (!broke && epoch === e) await endEpoch(e);
    }
    // the final parameters are always validated once (max_steps mid-epoch, off-cadence end)
    if (!interrupted && !stopped && valLoader && lastValStep !== step) await validate();
    saveLast();
    if (interrupted) say(`interrupted at step ${step}; rerun with --resume to continue`);
    if (stopped) say(`early stopping at step ${step}: ${cfg.trainer.monitor} did not improve in ${cfg.trainer.early_stopping_patience} validations`);

    function trainStep(batch: Batch, lr: number, stepRng: SeededRng): { loss: number; gradNorm?: number } {
      const n = batch.shape[0];
      const per = batch.shape[1] * batch.shape[2] * batch.shape[3];
      let acc: Map<string, tf.Tensor> | undefined;
      lossValues.clear();
      for (let start = 0; start < n; start += micro) {
        const m = Math.min(micro, n - start);
        const labels = batch.labels.subarray(start, start + m);
        const kept: tf.Scalar[] = [];
        const { value, grads } = tf.tidy(() => {
          const px = tf.tensor4d(batch.pixels.subarray(start * per, (start + m) * per), [m, batch.shape[1], batch.shape[2], batch.shape[3]]);
          const labelsT = tf.tensor1d(labels, 'int32');
          return tf.variableGrads(() => {
            let features = model.backbone.forward(px).features;
            if (model.featureAugmentation) features = model.featureAugmentation.apply(features, labels, stepRng);
            const logits = model.head.forward(features);
            const normalized = tf.div(features, tf.maximum(tf.norm(features, 2, 1, true), 1e-12)) as tf.Tensor2D;
            let sum: tf.Tensor = tf.scalar(0);
            for (const t of terms) {
              const v = t.compute({ features, normalized, logits, labels: labelsT });
              // each micro-batch's mean, weighted by its share of the batch: the batch mean
              kept.push(tf.keep(tf.mul(v, m / n) as tf.Scalar));
              sum = tf.add(sum, tf.mul(v, t.weight));
            }
            return tf.mul(sum, m / n) as tf.Scalar;
          }, [...trainable.values()]);
        });
        terms.forEach((t, i) => lossValues.set(t.name, (lossValues.get(t.name) ?? 0) + kept[i]!.dataSync()[0]!));
        kept.forEach((k) => k.dispose());
        const v = value.dataSync()[0]!;
        value.dispose();
        lossValues.set('total', (lossValues.get('total') ?? 0) + v);
        if (!Number.isFinite(v)) {
          for (const g of Object.values(grads)) g.dispose();
          acc?.forEach((g) => g.dispose());
          throw new UserError(
            `loss is ${v} at step ${step + 1} (epoch ${epoch}, batch ${batch.index}); training stopped${existsSync(lastPath) ? `, the last good checkpoint is ${lastPath}` : ''}`,
          );
        }
        const named = new Map(Object.entries(grads).map(([k, g]) => [varNames.get(k)!, g]));
        if (!acc) acc = named;
        else {
          for (const [k, g] of named) {
            const summed = tf.add(acc.get(k)!, g);
            acc.get(k)!.dispose();
            g.dispose();
            acc.set(k, summed);
          }
        }
      }
      const gradNorm = cfg.optim.grad_clip !== undefined ? clipGradNorm(acc!, cfg.optim.grad_clip) : undefined;
      optimizer.step(acc!, lr);
      acc!.forEach((g) => g.dispose());
      return { loss: lossValues.get('total')!, gradNorm };
    }

    const summary: Record<string, unknown> = {
      status: interrupted ? 'interrupted' : 'completed',
      steps: step,
      total_steps: totalSteps,
      epochs: totalEpochs,
      peft: model.peftSummary,
      engine: { backend: opts.engine.backend, device: opts.engine.device },
      monitor: cfg.trainer.monitor,
      best: best === undefined ? null : { value: best, step: bestStep },
      final: { 'train/loss': lossValues.get('total'), ...lastVal },
      bad_files: { count: trainLoader.badFiles.length + (valLoader?.badFiles.length ?? 0), examples: [...trainLoader.badFiles, ...(valLoader?.badFiles ?? [])].slice(0, 20) },
    };
    return { status: interrupted ? 'interrupted' : 'completed', summary };
  } finally {
    for (const l of loaders) await l.close();
    model.dispose();
  }
}
