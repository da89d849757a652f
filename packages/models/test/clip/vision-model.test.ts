import { describe, expect, it } from 'vitest';
import { availableEngines, buildRegistry, cpuEngine, tf } from '@dfdet/core';
import { ClipVisionModel } from '../../src/clip/vision-model.js';
import { readClipVisionConfig } from '../../src/clip/config.js';
import { loadState } from '../../src/nn/state.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { clipRef, fixturePath, maxAbsDiff } from './fixture.js';

function loadTiny(): ClipVisionModel {
  const model = new ClipVisionModel(readClipVisionConfig(fixturePath('config.json')));
  loadState(model, readSafetensors(fixturePath('model.safetensors')), { source: 'model.safetensors' });
  return model;
}

const engines = Object.fromEntries(Object.entries(await availableEngines(await buildRegistry([]))).map(([n, e]) => [n, () => e]));

describe.each(Object.keys(engines) as (keyof typeof engines)[])('CLIP vision tower on %s', (name) => {
  it('matches Hugging Face outputs on the reference pixel values', async () => {
    await engines[name]().init({ device: 'cpu' });
    const ref = clipRef().reference_f64;
    const model = loadTiny();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const pixels = tf.tensor4d(clipRef().inputs.pixel_values.flat(3), [3, 3, 28, 28]);
      const out = model.forward(pixels, { outputHiddenStates: true, outputAttentions: true });
      const pooled = out.poolerOutput.arraySync();
      const embeds = out.imageEmbeds!.arraySync();
      const normed = tf.div(out.imageEmbeds!, tf.norm(out.imageEmbeds!, 2, 1, true)).arraySync() as number[][];
      for (let i = 0; i < 3; i++) {
        expect(maxAbsDiff(pooled[i]!, ref.per_image[i].pooler_output)).toBeLessThan(5e-5);
        expect(maxAbsDiff(embeds[i]!, ref.per_image[i].image_embeds)).toBeLessThan(5e-5);
        expect(maxAbsDiff(normed[i]!, ref.per_image[i].image_embeds_normalized)).toBeLessThan(1e-5);
      }
      const img0 = ref.image0;
      out.hiddenStates!.forEach((h, l) => expect(maxAbsDiff(h.slice([0, 0, 0], [1, 5, 32]).dataSync(), img0.hidden_states[l].flat())).toBeLessThan(1e-4));
      out.attentions!.forEach((a, l) => expect(maxAbsDiff(a.slice([0, 0, 0, 0], [1, 4, 5, 5]).dataSync(), img0.attention_probs[l].flat(2))).toBeLessThan(1e-5));
      expect(maxAbsDiff(out.lastHiddenState.slice([0, 0, 0], [1, 5, 32]).dataSync(), img0.last_hidden_state.flat())).toBeLessThan(1e-4);
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('CLIP vision tower', () => {
  it('names parameters exactly like Hugging Face', () => {
    const model = loadTiny();
    const names = model.namedParameters().map(([n]) => n);
    expect(names).toContain('vision_model.embeddings.patch_embedding.weight');
    expect(names).toContain('vision_model.pre_layrnorm.weight');
    expect(names).toContain('vision_model.encoder.layers.1.self_attn.q_proj.bias');
    expect(names).toContain('vision_model.encoder.layers.0.mlp.fc1.weight');
    expect(names).toContain('vision_model.post_layernorm.bias');
    expect(names).toContain('visual_projection.weight');
    expect(names).toHaveLength(readSafetensors(fixturePath('model.safetensors')).size);
    model.dispose();
  });

  it('reports a shape mismatch by tensor name', () => {
    const model = new ClipVisionModel({ ...readClipVisionConfig(fixturePath('config.json')), intermediate_size: 48 });
    expect(() => loadState(model, readSafetensors(fixturePath('model.safetensors')), { source: 'model.safetensors' })).toThrow(
      /model\.safetensors: weights do not match the model[\s\S]*vision_model\.encoder\.layers\.0\.mlp\.fc1\.weight: expected \[48, 32\], got \[64, 32\]/,
    );
    model.dispose();
  });

  it('interpolates position embeddings for another input size, leaving the native size unchanged', async () => {
    await cpuEngine().init({ device: 'cpu' });
    const model = loadTiny();
    tf.tidy(() => {
      const px = tf.randomNormal([1, 3, 42, 56], 0, 1, 'float32', 3) as tf.Tensor4D;
      const out = model.forward(px);
      expect(out.lastHiddenState.shape).toEqual([1, 1 + 3 * 4, 32]);
      expect(Number.isFinite(out.poolerOutput.sum().dataSync()[0])).toBe(true);
    });
    model.dispose();
  });
});

describe('bicubic position interpolation', () => {
  it('matches torch.nn.functional.interpolate(mode="bicubic", align_corners=False)', async () => {
    const { bicubicGridMatrix } = await import('../../src/clip/interpolate.js');
    const { readFileSync } = await import('node:fs');
    const ref = JSON.parse(readFileSync(`${__dirname}/../fixtures/interp_ref.json`, 'utf8'));
    for (const c of ref.cases) {
      const [ih, iw] = c.in;
      const [oh, ow] = c.out;
      const m = bicubicGridMatrix(ih, iw, oh, ow);
      for (let ch = 0; ch < c.grid_chw.length; ch++) {
        const src = (c.grid_chw[ch] as number[][]).flat();
        const want = (c.expected_chw[ch] as number[][]).flat();
        const got = want.map((_, o) => src.reduce((acc, v, i) => acc + m[o * src.length + i]! * v, 0));
        expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
      }
    }
  });
});
