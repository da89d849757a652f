import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** The reference fixtures live at the repository root (test/fixtures/metrics); tests only read from there. */
const DIR = fileURLToPath(new URL('../../../../test/fixtures/metrics/', import.meta.url));

export function loadFixture<T = any>(file: 'metrics_ref.json' | 'official_metrics_ref.json'): T {
  return JSON.parse(readFileSync(DIR + file, 'utf8')) as T;
}

export const TOL = 1e-9;

export function expectClose(actual: number, expected: number, what: string, tol = TOL): void {
  if (Number.isNaN(expected)) {
    expect(actual, what).toBeNaN();
    return;
  }
  expect(Number.isFinite(actual), `${what}: ${actual} is not finite`).toBe(true);
  expect(Math.abs(actual - expected), `${what}: got ${actual}, expected ${expected}`).toBeLessThanOrEqual(tol);
}

export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = TOL): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expectClose(actual[i]!, expected[i]!, `${what}[${i}]`, tol);
}

export interface GenericBlock {
  n: number;
  n_pos: number;
  n_neg: number;
  roc_auc: number;
  average_precision: number;
  eer: number;
  eer_threshold: number;
  eer_nearest_point_mean: number;
  'accuracy_at_0.5_ge': number;
  'accuracy_at_0.5_gt': number;
  roc_curve: { fpr: number[]; tpr: number[]; thresholds: number[] };
  crosschecks: { auc_mann_whitney: number; eer_brentq_polyline: number; eer_brentq_interp1d_snippet: number };
}

export interface RuleBlock {
  accuracy: number;
  balanced_accuracy: number;
  f1_macro: number;
  confusion: [[number, number], [number, number]];
  n_pred_fake: number;
}

export interface OfficialBlock {
  n: number;
  n_pos_fake: number;
  n_neg_real: number;
  'n_p_fake_exactly_0.5': number;
  mAP: number;
  ap_fake: number;
  ap_real: number;
  auroc: number;
  auroc_fake: number;
  auroc_real: number;
  eer: number;
  argmax: RuleBlock;
  'ge_0.5': RuleBlock;
}

export interface VideosBlock {
  video_id: string[];
  label_first_frame: number[];
  frame_labels: number[][];
  p_fake_mean: number[];
  p_real_mean: number[];
  n_frames: number[];
}
