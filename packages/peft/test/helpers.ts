import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { tf } from '@dfdet/core';
import { ClipVisionModel, loadState, readClipVisionConfig, readSafetensors } from '@dfdet/models';

export const FIXTURE_DIR = resolve(__dirname, '../../../test/fixtures/clip-tiny');
export const fixturePath = (name: string) => resolve(FIXTURE_DIR, name);

let train: any;
/** train_ref.json (test/fixtures/README.md, section (c)). */
export function trainRef(): any {
  return (train ??= JSON.parse(readFileSync(fixturePath('train_ref.json'), 'utf8')));
}

export function loadTiny(): ClipVisionModel {
  const model = new ClipVisionModel(readClipVisionConfig(fixturePath('config.json')));
  loadState(model, readSafetensors(fixturePath('model.safetensors')), { source: 'model.safetensors' });
  return model;
}

/** pixel_values.safetensors [3, 3, 28, 28]; the caller disposes. */
export function pixels(): tf.Tensor4D {
  const t = readSafetensors(fixturePath('pixel_values.safetensors')).get('pixel_values')!;
  return tf.tensor4d(t.data as Float32Array, t.shape as [number, number, number, number]);
}

/** The head of train_ref inputs as variables ("head.W" [2, H], "head.b" [2]). */
export function headVariables(): { W: tf.Variable; b: tf.Variable } {
  const h = trainRef().inputs.head;
  return { W: tf.variable(tf.tensor2d(h.W), true), b: tf.variable(tf.tensor1d(h.b), true) };
}

/**
 * The official (a) loss: z = pooled / max(‖pooled‖, 1e-12); logits = z Wᵀ + b;
 * loss = mean CE via log-softmax and a constant one-hot (no gather in the differentiable path).
 */
export function officialLoss(pooled: tf.Tensor2D, W: tf.Tensor, b: tf.Tensor, labels: number[]) {
  const z = tf.div(pooled, tf.maximum(tf.norm(pooled, 2, 1, true), 1e-12)) as tf.Tensor2D;
  const logits = tf.add(tf.matMul(z, W, false, true), b) as tf.Tensor2D;
  const oneHot = tf.tensor2d(labels.map((y) => [y === 0 ? 1 : 0, y === 1 ? 1 : 0]));
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  return { z, logits, loss };
}

export function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x as number];
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** |got − want| ≤ 1e-5 absolute, or ≤ 1e-4 relative to the reference tensor's largest entry. */
export function expectClose(label: string, got: ArrayLike<number>, want: unknown, abs = 1e-5, rel = 1e-4): void {
  const w = flat(want);
  const d = maxAbsDiff(got, w);
  const tol = Math.max(abs, rel * maxAbs(w));
  expect(d, `${label}: max |diff| ${d.toExponential(2)} > ${tol.toExponential(2)}`).toBeLessThanOrEqual(tol);
}

/** `tf.variableGrads` over named variables; returns the grads keyed by our names (host arrays). */
export function namedGrads(f: () => tf.Scalar, vars: [string, tf.Variable][]): { loss: number; grads: Map<string, Float32Array> } {
  const { value, grads } = tf.variableGrads(f, vars.map(([, v]) => v));
  const out = new Map<string, Float32Array>();
  for (const [n, v] of vars) {
    const g = grads[v.name];
    if (g) out.set(n, g.dataSync() as Float32Array);
  }
  const loss = value.dataSync()[0]!;
  value.dispose();
  for (const g of Object.values(grads)) g?.dispose();
  return { loss, grads: out };
}
