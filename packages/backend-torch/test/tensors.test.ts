import { afterAll, beforeAll, expect, it } from 'vitest';
import { cpuEngine, loadBuiltinModules, PluginRegistry, selectEngine, tf } from '@dfdet/core';
import { createTorchEngine, getNumThreads, loadAddon, nativeTensorCount, plugins, setNumThreads, useTorchBackend } from '../src/index.js';
import { DEVICE, describeTorch } from './helpers.js';

describeTorch('torch backend tensors', () => {
  beforeAll(() => useTorchBackend({ device: DEVICE }));
  afterAll(() => useTorchBackend({ device: DEVICE }));

  it.each([
    ['float32', [2, 4], Float32Array.from([1.5, -2.25, 3e-8, 1e30, -0, Infinity, -Infinity, NaN])],
    ['int32', [3, 2], Int32Array.from([0, -1, 2147483647, -2147483648, 42, 7])],
    ['bool', [5], Uint8Array.from([1, 0, 0, 1, 1])],
    ['float32', [], Float32Array.from([3.25])],
    ['int32', [0, 3], new Int32Array(0)],
  ] as const)('%s round trip, shape %j (copy in, copy out, dispose)', async (dtype, shape, values) => {
    const native0 = nativeTensorCount();
    const t = tf.tensor(values, [...shape], dtype);
    expect(t.dtype).toBe(dtype);
    expect(nativeTensorCount()).toBe(native0 + 1);
    const back = t.dataSync();
    expect(back.constructor).toBe(values.constructor);
    expect(Array.from(back)).toEqual(Array.from(values));
    expect(back).not.toBe(values); // copies both ways
    expect(Array.from(await t.data())).toEqual(Array.from(values));
    // mutating the source after creation does not change the tensor
    if (values.length) {
      const src = values.slice();
      const u = tf.tensor(src, [...shape], dtype);
      src[0] = 0;
      expect(u.dataSync()[0]).toEqual(values[0]);
      u.dispose();
    }
    t.dispose();
    expect(nativeTensorCount()).toBe(native0);
  });

  it('keeps tfjs reference counts: clones and reshapes share data until the last is disposed', () => {
    const native0 = nativeTensorCount();
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const b = a.clone();
    const c = a.reshape([4]);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
    b.dispose();
    c.dispose();
    expect(nativeTensorCount()).toBe(native0);
  });

  it('moves tensors between backends with setBackend', async () => {
    await cpuEngine().init({ device: 'cpu' });
    const t = tf.tensor1d([1, 2, 3], 'int32');
    await useTorchBackend({ device: DEVICE });
    const native0 = nativeTensorCount();
    expect(Array.from(tf.add(t, t).dataSync())).toEqual([2, 4, 6]);
    expect(nativeTensorCount()).toBeGreaterThan(native0);
    t.dispose();
  });

  it('variables: assign replaces data without leaking', () => {
    const v = tf.tidy(() => tf.variable(tf.zeros([3])));
    const native0 = nativeTensorCount();
    for (let i = 0; i < 5; i++) tf.tidy(() => v.assign(tf.add(v, 1)));
    expect(Array.from(v.dataSync())).toEqual([5, 5, 5]);
    expect(nativeTensorCount()).toBe(native0);
    v.dispose();
  });

  it('reports memory and data ids', () => {
    const mem = tf.memory() as tf.MemoryInfo & { numNativeTensors?: number };
    expect(mem.unreliable).toBe(false);
    expect(mem.numNativeTensors).toBe(nativeTensorCount());
    expect(tf.engine().backend.numDataIds()).toBeGreaterThanOrEqual(0);
  });

  it('names a missing kernel instead of falling back', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    expect(() => tf.conv2d(x, tf.ones([1, 1, 1, 1]) as tf.Tensor4D, 1, 'valid')).toThrow(/Conv2D.*torch/);
    x.dispose();
  });

  it('calls any ATen op by name through the dispatcher', () => {
    const a = loadAddon();
    const x = a.create(Float32Array.from([1, 4, 9]), [3], 'float32');
    const [y] = a.runOp('aten::sqrt', '', [x]);
    expect(Array.from(a.read(y!))).toEqual([1, 2, 3]);
    expect(a.schema('aten::add', 'Tensor')).toBe('aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor');
    expect(() => a.runOp('aten::not_an_op', '', [])).toThrow(/not_an_op/);
    expect(() => a.runOp('aten::sqrt', '', [123456789])).toThrow(/no tensor with id/);
    a.dispose(x);
    a.dispose(y!);
  });

  it('sets intra-op threads (ATen and OpenBLAS)', () => {
    const before = getNumThreads();
    setNumThreads(1);
    expect(getNumThreads().intraOp).toBe(1);
    setNumThreads(before.intraOp, before.openblas > 0 ? before.openblas : undefined);
    expect(getNumThreads().intraOp).toBe(before.intraOp);
  });

  it('refuses a CUDA device clearly when torch has no CUDA', () => {
    if (loadAddon().info().cuda) return;
    expect(() => loadAddon().setDevice('cuda:0')).toThrow(/no CUDA support/);
    expect(createTorchEngine().supportsDevice('cuda:0')).toBe(false);
  });
});

describeTorch('torch engine plugin', () => {
  it('is available, and auto selection picks it first', async () => {
    const engine = createTorchEngine();
    expect(engine.priority).toBe(100);
    expect(await engine.available()).toMatchObject({ ok: true });
    const registry = new PluginRegistry(await loadBuiltinModules());
    expect(registry.names('engine')).toContain('torch');
    const choice = await selectEngine(registry, { backend: 'auto', device: 'cpu', threads: 2 });
    expect(choice.backend).toBe('torch');
    expect(tf.getBackend()).toBe('torch');
    expect(getNumThreads().intraOp).toBe(2);
  });

  it('exports one ContainerModule as `plugins`', () => {
    expect(typeof plugins.load).toBe('function');
  });
});
