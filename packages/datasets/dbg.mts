import { tf, wasmEngine, AdamW, buildRegistry, type DatasetAdapter } from '@dfdet/core';
import { ClipVisionModel, defaultInit, LinearHead, clipProcessorDefaults } from '@dfdet/models';
import { FrameLoader } from './src/loader/loader.ts';
await wasmEngine().init({ device: 'cpu' });
const r = await buildRegistry([]);
const method = process.argv[2] ?? 'blend';
const a = await r.create<DatasetAdapter>('dataset', { name: 'synthetic', root: '/tmp/synth2', methods: [method] }, { seed: 0, registry: r });
const recs = await a.index('train');
const size = Number(process.argv[3] ?? 32), patch = Number(process.argv[4] ?? 4);
const loader = new FrameLoader({ records: recs, preprocessing: clipProcessorDefaults(size), batchSize: 32, shuffle: true, seed: 1, augmentations: [], workers: 0, onBadFile: 'error', dropLast: false });
const cfg = { hidden_size: 64, intermediate_size: 128, num_attention_heads: 2, num_hidden_layers: 2, image_size: size, patch_size: patch, num_channels: 3, projection_dim: 0, layer_norm_eps: 1e-5, hidden_act: 'quick_gelu' as const };
const m = new ClipVisionModel(cfg, defaultInit(0));
const head = new LinearHead(64, 2, 1);
const params = new Map([...m.namedParameters(), ...head.namedParameters()]);
const names = new Map([...params].map(([n, v]) => [v.name, n]));
const lr = Number(process.argv[5] ?? 2e-3);
const opt = new AdamW(params, { lr, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, no_decay: [] });
const t0 = performance.now();
for (let e = 0; e < 15; e++) {
  let tot = 0, n = 0;
  for await (const b of loader.epoch(e)) {
    const x = tf.tensor4d(b.pixels, b.shape);
    const y = tf.oneHot(tf.tensor1d(b.labels, 'int32'), 2).toFloat();
    const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(head.forward(m.forward(x).poolerOutput))), 1))) as tf.Scalar, [...params.values()]);
    const g = new Map(Object.entries(grads).map(([k, v]) => [names.get(k)!, v]));
    opt.step(g, lr);
    tot += value.dataSync()[0]!; n++;
    value.dispose(); g.forEach((t) => t.dispose()); x.dispose(); y.dispose();
  }
  if (e % 3 === 2) console.log(method, 'epoch', e, 'mean loss', (tot / n).toFixed(4), ((performance.now() - t0) / 1000).toFixed(0), 's');
}
