import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { buildRegistry, selectEngine, describeChoice, routeWasmMatMul, tf } from '../src/index.js';
import { wasmEngine } from '../src/engine/builtin-engines.js';

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

type Case = { a: number[]; b: number[]; ta: boolean; tb: boolean };
const cases: Case[] = [
  { a: [5, 7], b: [7, 3], ta: false, tb: false },
  { a: [7, 5], b: [7, 3], ta: true, tb: false },
  { a: [5, 7], b: [3, 7], ta: false, tb: true },
  { a: [7, 5], b: [3, 7], ta: true, tb: true },
  { a: [4, 5, 7], b: [4, 7, 3], ta: false, tb: false },
  { a: [4, 7, 5], b: [4, 3, 7], ta: true, tb: true },
  { a: [2, 3, 5, 7], b: [2, 3, 7, 6], ta: false, tb: false },
];
// tfjs's own BatchMatMul gradient does not reduce broadcast batch dimensions (on every backend),
// so broadcast products are checked forward only; model code reshapes to 2-D before a linear layer.
const broadcastCases: Case[] = [
  { a: [4, 5, 7], b: [7, 3], ta: false, tb: false },
  { a: [4, 5, 7], b: [1, 3, 7], ta: false, tb: true },
  { a: [1, 5, 7], b: [4, 7, 3], ta: false, tb: false },
];
const forward = (c: Case) => tf.tidy(() => Array.from(tf.matMul(rand(c.a, 1), rand(c.b, 2), c.ta, c.tb).dataSync()));

/** forward and both input gradients, with a non-uniform upstream gradient */
function compute(c: Case): number[][] {
  const a = rand(c.a, 1);
  const b = rand(c.b, 2);
  const f = (x: tf.Tensor, y: tf.Tensor) => {
    const out = tf.matMul(x, y, c.ta, c.tb);
    return tf.sum(tf.mul(out, tf.sin(tf.range(0, out.size).reshape(out.shape))));
  };
  const out = tf.matMul(a, b, c.ta, c.tb);
  const [ga, gb] = tf.grads(f)([a, b]);
  return [out, ga!, gb!].map((t) => Array.from(t.dataSync()));
}

function maxRel(x: number[], y: number[]): number {
  const scale = Math.max(...y.map(Math.abs), 1e-12);
  return Math.max(...x.map((v, i) => Math.abs(v - y[i]!) / scale));
}

describe('wasm engine', () => {
  it('routes matrix products through the fast path with results and gradients equal to cpu', async () => {
    await tf.setBackend('cpu');
    const ref = cases.map(compute);
    const refForward = broadcastCases.map(forward);
    await wasmEngine().init({ device: 'cpu' });
    expect(tf.getBackend()).toBe('wasm');
    const before = tf.memory().numTensors;
    cases.forEach((c, i) => {
      const got = tf.tidy(() => compute(c));
      got.forEach((g, j) => {
        expect(g.length).toBe(ref[i]![j]!.length);
        expect(maxRel(g, ref[i]![j]!), `case ${i} output ${j}`).toBeLessThan(1e-5);
      });
    });
    broadcastCases.forEach((c, i) => expect(maxRel(forward(c), refForward[i]!), `broadcast case ${i}`).toBeLessThan(1e-5));
    expect(tf.memory().numTensors).toBe(before);
    routeWasmMatMul(); // idempotent
    const again = tf.tidy(() => compute(cases[3]!));
    expect(maxRel(again[0]!, ref[3]![0]!)).toBeLessThan(1e-5);
  });

  it('leaks no backend memory across repeated products', async () => {
    await wasmEngine().init({ device: 'cpu' });
    const a = rand([3, 8, 6], 3);
    const b = rand([3, 5, 6], 4);
    const step = () => tf.tidy(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, false, true)))([a, b]).forEach((t) => t.dataSync()));
    step();
    const mem = tf.memory();
    for (let i = 0; i < 20; i++) step();
    expect(tf.memory().numTensors).toBe(mem.numTensors);
    expect(tf.memory().numBytes).toBe(mem.numBytes);
    a.dispose();
    b.dispose();
  });
});

describe('engine selection', () => {
  it('auto picks the fastest available backend and says why the others were skipped', async () => {
    const registry = await buildRegistry([]);
    const choice = await selectEngine(registry, { backend: 'auto', device: 'cpu' });
    expect(['torch', 'tensorflow', 'wasm']).toContain(choice.backend);
    expect(tf.getBackend()).toBe(choice.backend);
    // every candidate before the chosen one was unusable, with a reason; the chosen one is last
    const last = choice.candidates.at(-1)!;
    expect(last).toMatchObject({ backend: choice.backend, ok: true });
    for (const c of choice.candidates.slice(0, -1)) expect(c.ok).toBe(false);
    if (choice.backend === 'wasm') {
      expect(choice.reason).toMatch(/skipped .*torch: .*tensorflow: /);
    }
    expect(describeChoice(choice)).toMatch(new RegExp(`^engine: ${choice.backend} on cpu — auto: fastest available`));
  });

  it('explains an unavailable or unsuitable explicit choice', async () => {
    const registry = await buildRegistry([]);
    if (!registry.has('engine', 'torch')) {
      await expect(selectEngine(registry, { backend: 'torch', device: 'cpu' })).rejects.toThrow(/engine\.backend: torch is unavailable: .*libtorch/);
    }
    await expect(selectEngine(registry, { backend: 'wasm', device: 'cuda:0' })).rejects.toThrow(/the wasm backend cannot run on cuda:0/);
    const cpu = await selectEngine(registry, { backend: 'cpu', device: 'cpu' });
    expect(cpu.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});
