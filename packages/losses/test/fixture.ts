import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { availableEngines, buildRegistry } from '@dfdet/core';

/** The repo's reference fixtures (test/fixtures/README.md section (c)); read only from there. */
export const TRAIN_REF = resolve(__dirname, '../../../test/fixtures/clip-tiny/train_ref.json');

type M = number[][];
export interface SlerpRef {
  pairs: [number, number][];
  t: number[];
  omega: number[];
  coeff_a: number[];
  coeff_b: number[];
  augmented: M;
  augmented_l2norm: number[];
  head_logits_of_augmented: M;
}
export interface TrainRef {
  inputs: {
    labels: number[];
    head: { W: M; b: number[] };
    label_smoothing: number;
    hypersphere: { uniformity_t: number; uniformity_clamp_min: number; alignment_alpha: number; weight_uniformity: number; weight_alignment: number };
    slerp: { raw: { pairs: [number, number][]; t: number[] }; normalized_official: { pairs: [number, number][]; t: number[] }; clamp_official: number };
  };
  f64: {
    features: { pooler_output: M; pooler_output_l2norm: number[]; z: M };
    a_ce: { logits: M; probs: M; loss: number; grad: Record<string, unknown> };
    b_ce_label_smoothing: { loss: number; label_smoothing: number };
    c_hypersphere: {
      pdist_pairs: [number, number][];
      pdist_sq: number[];
      uniformity_mean_exp_before_clamp: number;
      uniformity: number;
      alignment_pairs: [number, number][];
      alignment: number;
      ce: number;
      total: number;
      total_with_label_smoothing_value_only: number;
      grad_total: Record<string, unknown>;
    };
    d_slerp: { raw: SlerpRef; normalized_official: SlerpRef };
  };
  f32: { d_slerp: { raw: SlerpRef; normalized_official: SlerpRef } };
}

let cached: TrainRef | undefined;
export function trainRef(): TrainRef {
  cached ??= JSON.parse(readFileSync(TRAIN_REF, 'utf8')) as TrainRef;
  return cached;
}

/** cpu, wasm, and every other engine available here (torch where libtorch is installed). */
const available = await availableEngines(await buildRegistry([]));
export const engines = Object.fromEntries(Object.entries(available).map(([n, e]) => [n, () => e]));
export type EngineName = string;
export const engineNames = Object.keys(engines);

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
