import { getKernel, registerKernel, unregisterKernel, type KernelBackend, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

/**
 * tfjs-backend-wasm 4.22 runs a matrix product on its fast (XNNPACK) path only when it is
 * non-batched and non-transposed (~20 GFLOP/s here); transposed or batched products fall to a
 * naive loop (0.4–2 GFLOP/s), and backward passes are full of both. This replaces the wasm
 * BatchMatMul kernel with one that transposes explicitly, folds a shared right operand into one
 * big product, and loops over batches otherwise, so every product reaches the fast path.
 * Forward and gradients both go through kernels, so model code needs no backend checks.
 */
const ROUTED = Symbol.for('dfdet.wasm.matmul.routed');

export function routeWasmMatMul(): void {
  const original = getKernel('BatchMatMul', 'wasm');
  if (!original || (original as unknown as Record<symbol, boolean>)[ROUTED]) return;
  const k = (name: string): KernelFunc => {
    const cfg = getKernel(name, 'wasm');
    if (!cfg) throw new Error(`tfjs wasm backend has no ${name} kernel`);
    return cfg.kernelFunc;
  };
  const fast = original.kernelFunc;
  const transposeK = k('Transpose');
  const reshapeK = k('Reshape');
  const sliceK = k('Slice');
  const concatK = k('Concat');

  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const b = backend as KernelBackend;
    const temps: TensorInfo[] = [];
    const run = (f: KernelFunc, ins: unknown, at: unknown = {}): TensorInfo => {
      const out = f({ inputs: ins as never, backend: b, attrs: at as never }) as TensorInfo;
      temps.push(out);
      return out;
    };
    const swapLast = (x: TensorInfo) => {
      const r = x.shape.length;
      const perm = [...Array(r).keys()];
      [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
      return run(transposeK, { x }, { perm });
    };
    try {
      let a = (inputs as { a: TensorInfo }).a;
      let bb = (inputs as { b: TensorInfo }).b;
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (transposeA) a = swapLast(a);
      if (transposeB) bb = swapLast(bb);
      const [m, kA] = a.shape.slice(-2) as [number, number];
      const n = bb.shape[bb.shape.length - 1]!;
      const aBatch = a.shape.slice(0, -2);
      const bBatch = bb.shape.slice(0, -2);
      const na = aBatch.reduce((x, y) => x * y, 1);
      const nb = bBatch.reduce((x, y) => x * y, 1);
      const plain = { transposeA: false, transposeB: false };
      const outBatch = broadcastShape(aBatch, bBatch);
      let out: TensorInfo;
      if (nb === 1) {
        // shared right operand (a linear layer): one [na*m, k] x [k, n] product
        const a2 = run(reshapeK, { x: a }, { shape: [1, na * m, kA] });
        const b2 = run(reshapeK, { x: bb }, { shape: [1, kA, n] });
        out = run(fast, { a: a2, b: b2 }, plain);
      } else if (na === nb && sameDims(aBatch, bBatch)) {
        const a3 = run(reshapeK, { x: a }, { shape: [na, m, kA] });
        const b3 = run(reshapeK, { x: bb }, { shape: [nb, kA, n] });
        const parts: TensorInfo[] = [];
        for (let i = 0; i < na; i++) {
          const ai = run(sliceK, { x: a3 }, { begin: [i, 0, 0], size: [1, m, kA] });
          const bi = run(sliceK, { x: b3 }, { begin: [i, 0, 0], size: [1, kA, n] });
          parts.push(run(fast, { a: ai, b: bi }, plain));
        }
        out = parts.length === 1 ? parts[0]! : run(concatK, parts, { axis: 0 });
      } else {
        // broadcast batch shapes other than a shared operand: rare; let the kernel handle it
        out = run(fast, { a, b: bb }, plain);
      }
      const result = reshapeK({ inputs: { x: out } as never, backend: b, attrs: { shape: [...outBatch, m, n] } as never }) as TensorInfo;
      return result;
    } finally {
      for (const t of temps) b.disposeData(t.dataId);
    }
  };
  unregisterKernel('BatchMatMul', 'wasm');
  const routed = { ...original, kernelFunc };
  (routed as unknown as Record<symbol, boolean>)[ROUTED] = true;
  registerKernel(routed);
}

function sameDims(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function broadcastShape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}
