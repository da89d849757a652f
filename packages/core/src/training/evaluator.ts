import type { DataLoader, FrameRecord } from '../contracts/data.js';
import type { Evaluation } from '../contracts/services.js';
import * as tf from '../tf.js';
import type { DetectorModel } from './model.js';

export interface FramePrediction {
  path: string;
  video: string;
  label: number;
  pFake: number;
  dataset: string;
  source: string;
}

/** p(fake) for every frame the loader yields (one pass, no augmentation). */
export async function predictFrames(model: DetectorModel, loader: DataLoader): Promise<FramePrediction[]> {
  model.setTraining(false);
  const out: FramePrediction[] = [];
  for await (const batch of loader.epoch(0)) {
    const scores = tf.tidy(() => model.predictFake(tf.tensor4d(batch.pixels, batch.shape)).dataSync());
    batch.records.forEach((r: FrameRecord, i) =>
      out.push({ path: r.path, video: r.video, label: r.label, pFake: scores[i]!, dataset: r.dataset, source: r.source }),
    );
  }
  return out;
}

/**
 * Frame and video metrics, per dataset and over all datasets together:
 * `<prefix>/<dataset>/frame/<metric>`, `<prefix>/<dataset>/video/<metric>`, `<prefix>/frame/<metric>`, `<prefix>/video/<metric>`.
 * Video ids are scoped by dataset so equal names in two corpora stay distinct videos.
 */
export function scorePredictions(
  evaluation: Evaluation,
  preds: FramePrediction[],
  prefix: string,
  rule: 'argmax' | 'ge',
): Record<string, number> {
  const metrics: Record<string, number> = {};
  const put = (scope: string, frames: FramePrediction[]) => {
    const m = evaluation.frameAndVideoMetrics(
      frames.map((f) => ({ video: `${f.dataset}/${f.video}`, label: f.label, pFake: f.pFake })),
      { rule },
    );
    for (const level of ['frame', 'video'] as const) {
      for (const [k, v] of Object.entries(m[level])) metrics[`${prefix}${scope}/${level}/${k}`] = v;
    }
  };
  const datasets = [...new Set(preds.map((p) => p.dataset))];
  for (const d of datasets) put(`/${d}`, preds.filter((p) => p.dataset === d));
  put('', preds);
  return metrics;
}
