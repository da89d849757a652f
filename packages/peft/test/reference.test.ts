import { describe, expect, it } from 'vitest';
import { availableEngines, buildRegistry, tf } from '@dfdet/core';
import type { ClipVisionModel } from '@dfdet/models';
import { FullFineTuning, Lora, LoraLinear, LnTuning, mergeLora, trainableParameters } from '../src/index.js';
import { expectClose, headVariables, loadTiny, maxAbsDiff, namedGrads, officialLoss, pixels, trainRef } from './helpers.js';

const engines = Object.fromEntries(Object.entries(await availableEngines(await buildRegistry([]))).map(([n, e]) => [n, () => e]));

/** Sets A/B from train_ref inputs.lora.weights (`….lora_A.weight` there, `….lora_A` here). */
function assignFixtureLora(model: ClipVisionModel): void {
  const params = new Map(model.namedParameters());
  const weights = trainRef().inputs.lora.weights as Record<string, number[][]>;
  for (const [name, value] of Object.entries(weights)) {
    const ours = name.replace(/\.(lora_[AB])\.weight$/, '.$1');
    const v = params.get(ours);
    if (!v) throw new Error(`no parameter ${ours}`);
    tf.tidy(() => v.assign(tf.tensor2d(value)));
  }
}

function fixtureLora(): Lora {
  const l = trainRef().inputs.lora;
  return new Lora({ rank: l.rank, alpha: l.alpha, dropout: l.dropout, targetModules: l.target_modules, rslora: false, init: 'kaiming', seed: 0 });
}

describe.each(Object.keys(engines) as (keyof typeof engines)[])('PEFT vs the official reference on %s', (engine) => {
  it('(a) ln-tuning: gradients of the 12 LayerNorm tensors and the head', async () => {
    await engines[engine]().init({ device: 'cpu' });
    const ref = trainRef();
    const model = loadTiny();
    const head = headVariables();
    const before = tf.memory().numTensors;
    const res = new LnTuning().apply(model);
    expect(res.trainable).toEqual(ref.trainable_sets.ln_tuning.filter((n: string) => !n.startsWith('head.')));
    const px = pixels();
    // every parameter goes in: the frozen ones must come back without a gradient
    const vars: [string, tf.Variable][] = [...model.namedParameters(), ['head.W', head.W], ['head.b', head.b]];
    const { loss, grads } = namedGrads(() => officialLoss(model.forward(px).poolerOutput, head.W, head.b, ref.inputs.labels).loss, vars);
    px.dispose();
    expect([...grads.keys()].sort()).toEqual([...ref.trainable_sets.ln_tuning].sort());
    expect(Math.abs(loss - ref.f64.a_ce.loss)).toBeLessThan(1e-5);
    for (const [name, want] of Object.entries(ref.f64.a_ce.grad)) expectClose(name, grads.get(name)!, want);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    head.W.dispose();
    head.b.dispose();
  });

  it('(e) LoRA r=2, alpha=4 on out_proj: pooled, z, logits, loss and grads of every A and B', async () => {
    await engines[engine]().init({ device: 'cpu' });
    const ref = trainRef();
    const e = ref.f64.e_lora;
    const model = loadTiny();
    const head = headVariables();
    const res = fixtureLora().apply(model);
    expect(res.trainable).toEqual(ref.trainable_sets.lora.map((n: string) => n.replace(/\.weight$/, '')));
    assignFixtureLora(model);
    const px = pixels();
    tf.tidy(() => {
      const pooled = model.forward(px).poolerOutput;
      const { z, logits, loss } = officialLoss(pooled, head.W, head.b, ref.inputs.labels);
      expectClose('pooler_output', pooled.dataSync(), e.pooler_output, 5e-5);
      expectClose('z', z.dataSync(), e.z);
      expectClose('logits', logits.dataSync(), e.logits);
      expectClose('probs', tf.softmax(logits).dataSync(), e.probs);
      expect(Math.abs(loss.dataSync()[0]! - e.loss)).toBeLessThan(1e-5);
    });
    const before = tf.memory().numTensors;
    const vars: [string, tf.Variable][] = [...trainableParameters(model), ['head.W', head.W], ['head.b', head.b]];
    const { grads } = namedGrads(() => officialLoss(model.forward(px).poolerOutput, head.W, head.b, ref.inputs.labels).loss, vars);
    expect(tf.memory().numTensors).toBe(before);
    px.dispose();
    for (const [name, want] of Object.entries(e.grad)) {
      expectClose(name, grads.get(name.replace(/\.weight$/, ''))!, want);
    }
    for (const [name, want] of Object.entries(e.grad_head_informative)) expectClose(name, grads.get(name)!, want);
    model.dispose();
    head.W.dispose();
    head.b.dispose();
  });

  it('(f) full fine-tuning: gradients of patch/class/position embeddings and a q_proj weight', async () => {
    await engines[engine]().init({ device: 'cpu' });
    const ref = trainRef();
    const model = loadTiny();
    const head = headVariables();
    const res = new FullFineTuning().apply(model);
    expect(res.trainable).toHaveLength(model.namedParameters().length);
    const px = pixels();
    const vars: [string, tf.Variable][] = [...trainableParameters(model), ['head.W', head.W], ['head.b', head.b]];
    const { loss, grads } = namedGrads(() => officialLoss(model.forward(px).poolerOutput, head.W, head.b, ref.inputs.labels).loss, vars);
    px.dispose();
    // everything but visual_projection (the loss uses pooler_output, not image_embeds) gets a gradient
    expect([...vars.map(([n]) => n)].filter((n) => !grads.has(n))).toEqual(['visual_projection.weight']);
    expect(Math.abs(loss - ref.f64.f_full_ft.loss)).toBeLessThan(1e-5);
    for (const [name, want] of Object.entries(ref.f64.f_full_ft.grad)) expectClose(name, grads.get(name)!, want);
    model.dispose();
    head.W.dispose();
    head.b.dispose();
  });

  it('LoRA: default init leaves the output unchanged; merging keeps the forward; no tensor leaks', async () => {
    await engines[engine]().init({ device: 'cpu' });
    const start = tf.memory().numTensors;
    const model = loadTiny();
    const px = pixels();
    const base = tf.tidy(() => model.forward(px).poolerOutput);
    const lora = new Lora({ rank: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj,v_proj', 'out_proj', 'fc1'], rslora: false, init: 'kaiming', seed: 7 });
    const afterLoad = tf.memory().numTensors;
    const res = lora.apply(model);
    const wrapped = model.namedModules().filter(([, m]) => m instanceof LoraLinear);
    expect(wrapped).toHaveLength(8);
    expect(tf.memory().numTensors).toBe(afterLoad + 2 * wrapped.length); // the base variables moved, not copied
    expect(res.trainable).toHaveLength(16);
    const withInit = tf.tidy(() => model.forward(px).poolerOutput);
    expect(maxAbsDiff(withInit.dataSync(), base.dataSync())).toBe(0); // B = 0

    // nonzero B, then compare unmerged and merged forwards (eval mode: no dropout)
    for (const [, v] of model.namedParameters().filter(([n]) => n.endsWith('.lora_B'))) {
      tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 3)));
    }
    const unmerged = tf.tidy(() => model.forward(px).poolerOutput);
    expect(maxAbsDiff(unmerged.dataSync(), base.dataSync())).toBeGreaterThan(1e-3);
    const beforeMerge = tf.memory().numTensors;
    const paths = mergeLora(model);
    expect(paths.sort()).toEqual(wrapped.map(([p]) => p).sort());
    expect(tf.memory().numTensors).toBe(beforeMerge - 2 * wrapped.length);
    expect(model.namedModules().some(([, m]) => m instanceof LoraLinear)).toBe(false);
    expect(model.namedParameters().map(([n]) => n)).toEqual(loadTinyNames());
    const merged = tf.tidy(() => model.forward(px).poolerOutput);
    expect(maxAbsDiff(merged.dataSync(), unmerged.dataSync())).toBeLessThan(1e-5);

    for (const t of [px, base, withInit, unmerged, merged]) t.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

let baseNames: string[] | undefined;
function loadTinyNames(): string[] {
  if (!baseNames) {
    const m = loadTiny();
    baseNames = m.namedParameters().map(([n]) => n);
    m.dispose();
  }
  return baseNames;
}
