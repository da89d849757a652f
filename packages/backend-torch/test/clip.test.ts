import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cpuEngine, tf } from '@dfdet/core';
import { ClipVisionModel, loadState, readClipVisionConfig, readSafetensors } from '@dfdet/models';
import { nativeTensorCount, useTorchBackend } from '../src/index.js';
import { useFusedOps } from '../bench/fused-model.js';
import { DEVICE, describeTorch, relErr } from './helpers.js';

const FIXTURE_DIR = resolve(__dirname, '../../../test/fixtures/clip-tiny');
const ref = JSON.parse(readFileSync(resolve(FIXTURE_DIR, 'clip_ref.json'), 'utf8'));

function loadTiny(): ClipVisionModel {
  const model = new ClipVisionModel(readClipVisionConfig(resolve(FIXTURE_DIR, 'config.json')));
  loadState(model, readSafetensors(resolve(FIXTURE_DIR, 'model.safetensors')), { source: 'model.safetensors' });
  return model;
}

function maxAbsDiff(a: ArrayLike<number>, b: number[]): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The models package's reference check (packages/models/test/clip/vision-model.test.ts), on torch. */
function checkForward(model: ClipVisionModel, withInternals: boolean): void {
  const r = ref.reference_f64;
  tf.tidy(() => {
    const pixels = tf.tensor4d(ref.inputs.pixel_values.flat(3), [3, 3, 28, 28]);
    const out = model.forward(pixels, { outputHiddenStates: withInternals, outputAttentions: withInternals });
    const pooled = out.poolerOutput.arraySync();
    const embeds = out.imageEmbeds!.arraySync();
    const normed = tf.div(out.imageEmbeds!, tf.norm(out.imageEmbeds!, 2, 1, true)).arraySync() as number[][];
    for (let i = 0; i < 3; i++) {
      expect(maxAbsDiff(pooled[i]!, r.per_image[i].pooler_output)).toBeLessThan(5e-5);
      expect(maxAbsDiff(embeds[i]!, r.per_image[i].image_embeds)).toBeLessThan(5e-5);
      expect(maxAbsDiff(normed[i]!, r.per_image[i].image_embeds_normalized)).toBeLessThan(1e-5);
    }
    const img0 = r.image0;
    if (withInternals) {
      out.hiddenStates!.forEach((h, l) => expect(maxAbsDiff(h.slice([0, 0, 0], [1, 5, 32]).dataSync(), img0.hidden_states[l].flat())).toBeLessThan(1e-4));
      out.attentions!.forEach((a, l) => expect(maxAbsDiff(a.slice([0, 0, 0, 0], [1, 4, 5, 5]).dataSync(), img0.attention_probs[l].flat(2))).toBeLessThan(1e-5));
    }
    expect(maxAbsDiff(out.lastHiddenState.slice([0, 0, 0], [1, 5, 32]).dataSync(), img0.last_hidden_state.flat())).toBeLessThan(1e-4);
  });
}

/** Gradients of an LN-tuning loss (CE of a fixed head on the normalized embeddings) for every LayerNorm parameter. */
function lnGrads(model: ClipVisionModel): Map<string, number[]> {
  const params = model.namedParameters().filter(([n]) => /layer_?norm|layrnorm/.test(n));
  let out = new Map<string, number[]>();
  tf.tidy(() => {
    const pixels = tf.tensor4d(ref.inputs.pixel_values.flat(3), [3, 3, 28, 28]);
    const head = tf.tensor2d(Float32Array.from({ length: 2 * model.config.projection_dim }, (_, i) => Math.sin(i)), [model.config.projection_dim, 2]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 1], 'int32'), 2);
    const { grads } = tf.variableGrads(() => {
      const z = model.forward(pixels).imageEmbeds!;
      const logits = tf.matMul(tf.div(z, tf.norm(z, 2, 1, true)), head);
      return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    }, params.map(([, v]) => v));
    out = new Map(params.map(([n, v]) => [n, Array.from(grads[v.name]!.dataSync())]));
  });
  return out;
}

describeTorch('tiny CLIP on torch', () => {
  beforeAll(() => useTorchBackend({ device: DEVICE }));
  afterAll(() => useTorchBackend({ device: DEVICE }));

  it('matches the Hugging Face reference (clip_ref.json), with no leaked tensors', async () => {
    await useTorchBackend({ device: DEVICE });
    const model = loadTiny();
    const before = tf.memory().numTensors;
    const native = nativeTensorCount();
    checkForward(model, true);
    expect(tf.memory().numTensors).toBe(before);
    expect(nativeTensorCount()).toBe(native);
    model.dispose();
  });

  it('matches the reference with the fused ops', async () => {
    await useTorchBackend({ device: DEVICE });
    const model = loadTiny();
    useFusedOps(model);
    checkForward(model, false);
    model.dispose();
  });

  it('gives the cpu backend LN-tuning gradients, per-op and fused', async () => {
    await cpuEngine().init({ device: 'cpu' });
    const m0 = loadTiny();
    const want = lnGrads(m0);
    m0.dispose();
    await useTorchBackend({ device: DEVICE });
    for (const fused of [false, true]) {
      const m = loadTiny();
      if (fused) useFusedOps(m);
      const got = lnGrads(m);
      for (const [name, g] of want) expect(relErr(got.get(name)!, g), `${fused ? 'fused' : 'per-op'} ${name}`).toBeLessThanOrEqual(1e-4);
      m.dispose();
    }
  });
});
