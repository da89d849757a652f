import { beforeAll, describe, expect, it } from 'vitest';
import { cpuEngine, PluginRegistry, tf, UserError, type BuildContext } from '@dfdet/core';
import { Linear } from '@dfdet/models';
import {
  BitFit,
  formatSummary,
  FullFineTuning,
  LinearProbe,
  LnTuning,
  Lora,
  LoraLinear,
  parseTargetModules,
  plugins,
  setTraining,
  Unfreeze,
  type PeftMethod,
} from '../src/index.js';
import { loadTiny, maxAbsDiff, pixels, trainRef } from './helpers.js';

// tiny CLIP: H = 32, MLP 64, 2 layers, 5 tokens, projection 16
const TOTAL = 32 + 32 * 3 * 14 * 14 + 5 * 32 + 64 + 2 * (4 * (32 * 32 + 32) + 64 + 64 + (64 * 32 + 64) + (32 * 64 + 32)) + 64 + 16 * 32;

const ctx: BuildContext = {
  seed: 1234,
  registry: { create: () => Promise.reject(new Error('unused')) },
};

function loraMethod(over: Partial<ConstructorParameters<typeof Lora>[0]> = {}): Lora {
  return new Lora({ rank: 1, alpha: 32, dropout: 0, targetModules: ['out_proj'], rslora: false, init: 'kaiming', seed: 0, ...over });
}

beforeAll(async () => {
  await cpuEngine().init({ device: 'cpu' });
});

describe('trainable sets on the tiny CLIP', () => {
  const cases: [string, () => PeftMethod, number, number][] = [
    ['ln-tuning', () => new LnTuning(), 12, 12 * 32],
    ['bitfit', () => new BitFit(), 6 + 2 * 6, 6 * 32 + 2 * (4 * 32 + 64 + 32)],
    ['full', () => new FullFineTuning(), 40, TOTAL],
    ['linear-probe', () => new LinearProbe(), 0, 0],
    ['lora', () => loraMethod(), 4, 2 * (32 + 32)],
  ];

  it.each(cases)('%s: tensor and element counts, flags on every parameter', (name, make, tensors, elements) => {
    const model = loadTiny();
    const res = make().apply(model);
    const params = model.namedParameters();
    const total = params.reduce((s, [, v]) => s + v.size, 0);
    expect(total).toBe(name === 'lora' ? TOTAL + elements : TOTAL);
    expect(res.trainable).toHaveLength(tensors);
    expect(res.counts).toEqual({ trainable: elements, total });
    expect(params.filter(([, v]) => v.trainable).map(([n]) => n)).toEqual(res.trainable);
    expect(res.summary).toBe(formatSummary(name, elements, total));
    model.dispose();
  });

  it('ln-tuning trains exactly the fixture LN set; target_modules restricts it', () => {
    const model = loadTiny();
    expect(new LnTuning().apply(model).trainable).toEqual(trainRef().trainable_sets.ln_tuning.filter((n: string) => !n.startsWith('head.')));
    const res = new LnTuning(['layer_norm2$', 'post_']).apply(model);
    expect(res.trainable).toEqual([
      'vision_model.encoder.layers.0.layer_norm2.weight',
      'vision_model.encoder.layers.0.layer_norm2.bias',
      'vision_model.encoder.layers.1.layer_norm2.weight',
      'vision_model.encoder.layers.1.layer_norm2.bias',
      'vision_model.post_layernorm.weight',
      'vision_model.post_layernorm.bias',
    ]);
    // re-applying resets every flag: the earlier LN set is frozen again
    expect(model.namedParameters().find(([n]) => n === 'vision_model.pre_layrnorm.weight')![1].trainable).toBe(false);
    expect(() => new LnTuning(['nope']).apply(model)).toThrow(/match no LayerNorm/);
    model.dispose();
  });

  it('bitfit trains every bias and nothing else', () => {
    const model = loadTiny();
    const res = new BitFit().apply(model);
    expect(res.trainable.every((n) => n.endsWith('.bias'))).toBe(true);
    expect(res.trainable).toContain('vision_model.encoder.layers.1.self_attn.q_proj.bias');
    expect(res.trainable).toContain('vision_model.encoder.layers.0.mlp.fc2.bias');
    expect(res.trainable).toContain('vision_model.pre_layrnorm.bias');
    expect(res.trainable).toEqual(model.namedParameters().map(([n]) => n).filter((n) => n.endsWith('.bias')));
    model.dispose();
  });

  it('unfreeze trains the matching names; a pattern matching nothing is an error', () => {
    const model = loadTiny();
    const res = new Unfreeze(['layers\\.1\\.mlp\\.', 'class_embedding$']).apply(model);
    expect(res.trainable).toEqual([
      'vision_model.embeddings.class_embedding',
      'vision_model.encoder.layers.1.mlp.fc1.weight',
      'vision_model.encoder.layers.1.mlp.fc1.bias',
      'vision_model.encoder.layers.1.mlp.fc2.weight',
      'vision_model.encoder.layers.1.mlp.fc2.bias',
    ]);
    expect(res.counts.trainable).toBe(32 + 64 * 32 + 64 + 32 * 64 + 32);
    expect(() => new Unfreeze(['class_embedding', 'layers\\.7\\.']).apply(model)).toThrow(UserError);
    expect(() => new Unfreeze([])).toThrow(/at least one pattern/);
    model.dispose();
  });

  it('formats the summary like the brief', () => {
    expect(formatSummary('ln-tuning', 49_152, 303_179_776)).toBe('ln-tuning: 49,152 / 303,179,776 parameters trainable (0.016%)');
    expect(formatSummary('linear-probe', 0, 0)).toBe('linear-probe: 0 / 0 parameters trainable (0.000%)');
  });
});

describe('LoRA', () => {
  it('names A [r, in] and B [out, r] after the wrapped module and keeps the base names', () => {
    const model = loadTiny();
    const before = model.namedParameters().map(([n]) => n);
    const res = loraMethod({ rank: 3 }).apply(model);
    const params = new Map(model.namedParameters());
    const p = 'vision_model.encoder.layers.0.self_attn.out_proj';
    expect(params.get(`${p}.lora_A`)!.shape).toEqual([3, 32]);
    expect(params.get(`${p}.lora_B`)!.shape).toEqual([32, 3]);
    expect(res.trainable).toEqual([0, 1].flatMap((i) => [`vision_model.encoder.layers.${i}.self_attn.out_proj.lora_A`, `vision_model.encoder.layers.${i}.self_attn.out_proj.lora_B`]));
    // the base names are all still there, in the same order
    expect([...params.keys()].filter((n) => !/\.lora_[AB]$/.test(n))).toEqual(before);
    expect(params.get(`${p}.weight`)!.trainable).toBe(false);
    model.dispose();
  });

  it('target_modules: comma lists, dotted suffixes, did-you-mean, Linear only', () => {
    expect(parseTargetModules('q_proj, v_proj')).toEqual(['q_proj', 'v_proj']);
    expect(parseTargetModules(['q_proj,v_proj', 'fc1'])).toEqual(['q_proj', 'v_proj', 'fc1']);
    const model = loadTiny();
    const res = loraMethod({ targetModules: ['q_proj,v_proj', 'mlp.fc2'] }).apply(model);
    expect(res.trainable.filter((n) => n.endsWith('lora_A'))).toEqual([
      'vision_model.encoder.layers.0.self_attn.v_proj.lora_A',
      'vision_model.encoder.layers.0.self_attn.q_proj.lora_A',
      'vision_model.encoder.layers.0.mlp.fc2.lora_A',
      'vision_model.encoder.layers.1.self_attn.v_proj.lora_A',
      'vision_model.encoder.layers.1.self_attn.q_proj.lora_A',
      'vision_model.encoder.layers.1.mlp.fc2.lora_A',
    ]);
    expect(() => loraMethod({ targetModules: ['out_prj'] }).apply(model)).toThrow(/did you mean out_proj/);
    expect(() => loraMethod({ targetModules: ['layer_norm1'] }).apply(model)).toThrow(/LayerNorm, but LoRA wraps only Linear/);
    model.dispose();
  });

  it('applying twice keeps the existing adapters', () => {
    const model = loadTiny();
    loraMethod().apply(model);
    const n = tf.memory().numTensors;
    const res = loraMethod().apply(model);
    expect(tf.memory().numTensors).toBe(n);
    expect(res.trainable).toHaveLength(4);
    model.dispose();
  });

  it('scaling alpha / r, or alpha / √r with rslora', () => {
    expect(loraMethod({ rank: 4, alpha: 8 }).scaling).toBe(2);
    expect(loraMethod({ rank: 4, alpha: 8, rslora: true }).scaling).toBe(4);
    const model = loadTiny();
    loraMethod({ rank: 4, alpha: 8, rslora: true }).apply(model);
    expect(model.getModule('vision_model.encoder.layers.0.self_attn.out_proj')).toBeInstanceOf(LoraLinear);
    expect((model.getModule('vision_model.encoder.layers.0.self_attn.out_proj') as LoraLinear).scaling).toBe(4);
    model.dispose();
  });

  it('init: kaiming-uniform(a=√5) A within ±1/√in, gaussian A ~ N(0, 1/r), B = 0, seeded', () => {
    const make = (init: 'kaiming' | 'gaussian', seed: number) => {
      const base = new Linear(256, 8, { init: (_n, s) => tf.zeros(s) });
      return new LoraLinear(base, { rank: 4, alpha: 8, dropout: 0, rslora: false, init, seed, path: 'x' });
    };
    const k = make('kaiming', 1);
    const a = k.loraA.dataSync();
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(1 / 16);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.9 / 16);
    expect(Array.from(k.loraB.dataSync()).every((v) => v === 0)).toBe(true);
    const k2 = make('kaiming', 1);
    expect(maxAbsDiff(k2.loraA.dataSync(), Array.from(a))).toBe(0);
    const k3 = make('kaiming', 2);
    expect(maxAbsDiff(k3.loraA.dataSync(), Array.from(a))).toBeGreaterThan(0);
    const g = make('gaussian', 1);
    const ga = Array.from(g.loraA.dataSync());
    const std = Math.sqrt(ga.reduce((s, v) => s + v * v, 0) / ga.length);
    expect(std).toBeGreaterThan(0.2);
    expect(std).toBeLessThan(0.3);
    for (const m of [k, k2, k3, g]) m.dispose();
  });

  it('dropout acts only in training mode, with a seeded stream; setTraining finds every LoraLinear', () => {
    const run = (seed: number) => {
      const model = loadTiny();
      loraMethod({ rank: 2, alpha: 4, dropout: 0.5, seed }).apply(model);
      for (const [, v] of model.namedParameters().filter(([n]) => n.endsWith('.lora_B'))) {
        tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 5)));
      }
      const px = pixels();
      const fwd = () => tf.tidy(() => Array.from(model.forward(px).poolerOutput.dataSync()));
      const eval1 = fwd();
      expect(setTraining(model, true)).toBe(2);
      const t1 = fwd();
      const t2 = fwd();
      expect(setTraining(model, false)).toBe(2);
      const eval2 = fwd();
      px.dispose();
      model.dispose();
      return { eval1, eval2, t1, t2 };
    };
    const a = run(11);
    expect(maxAbsDiff(a.eval1, a.eval2)).toBe(0);
    expect(maxAbsDiff(a.t1, a.eval1)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(a.t1, a.t2)).toBeGreaterThan(1e-4); // a fresh mask per step
    const b = run(11);
    expect(maxAbsDiff(b.t1, a.t1)).toBe(0);
    expect(maxAbsDiff(b.t2, a.t2)).toBe(0);
    const c = run(12);
    expect(maxAbsDiff(c.t1, a.t1)).toBeGreaterThan(0);
  });
});

describe('plugins', () => {
  const registry = new PluginRegistry([plugins]);

  it('registers the six methods under the peft kind', () => {
    expect(registry.names('peft')).toEqual(['bitfit', 'full', 'linear-probe', 'ln-tuning', 'lora', 'unfreeze']);
  });

  it('lora: PEFT-like defaults, options validated, seed from the build context', async () => {
    const lora = await registry.create<Lora>('peft', 'lora', ctx);
    expect(lora).toBeInstanceOf(Lora);
    expect(lora.config).toEqual({ rank: 1, alpha: 32, dropout: 0.1, targetModules: ['out_proj'], rslora: false, init: 'kaiming', seed: 1234 });
    const qv = await registry.create<Lora>('peft', { name: 'lora', rank: 8, alpha: 16, target_modules: 'q_proj,v_proj', init: 'gaussian' }, ctx);
    expect(qv.config.targetModules).toEqual(['q_proj', 'v_proj']);
    expect(qv.scaling).toBe(2);
    await expect(registry.create('peft', { name: 'lora', rank: 0 }, ctx)).rejects.toThrow(UserError);
    await expect(registry.create('peft', { name: 'lora', dropout: 1 }, ctx)).rejects.toThrow(UserError);
    await expect(registry.create('peft', { name: 'lora', init: 'xavier' }, ctx)).rejects.toThrow(UserError);
  });

  it('unfreeze requires valid patterns; ln-tuning takes optional regexes', async () => {
    await expect(registry.create('peft', 'unfreeze', ctx)).rejects.toThrow(UserError);
    await expect(registry.create('peft', { name: 'unfreeze', patterns: [] }, ctx)).rejects.toThrow(UserError);
    await expect(registry.create('peft', { name: 'unfreeze', patterns: ['(bad'] }, ctx)).rejects.toThrow(/regular expression/);
    const u = await registry.create<PeftMethod>('peft', { name: 'unfreeze', patterns: ['post_layernorm'] }, ctx);
    const model = loadTiny();
    expect(u.apply(model).trainable).toEqual(['vision_model.post_layernorm.weight', 'vision_model.post_layernorm.bias']);
    const ln = await registry.create<PeftMethod>('peft', { name: 'ln-tuning', target_modules: ['pre_'] }, ctx);
    expect(ln.name).toBe('ln-tuning');
    expect(ln.apply(model).counts.trainable).toBe(64);
    for (const name of ['full', 'bitfit', 'linear-probe']) {
      expect((await registry.create<PeftMethod>('peft', name, ctx)).name).toBe(name);
    }
    model.dispose();
  });
});
