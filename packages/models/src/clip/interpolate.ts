/**
 * The 1-D weights of PyTorch's bicubic `interpolate(align_corners=False)` (A = -0.75,
 * border indices clamped) as a dense [out, in] matrix. Resizing position embeddings is linear
 * in the embeddings, so applying kron(Wh, Ww) with a matMul keeps it differentiable and exact.
 */
export function bicubicMatrix(inSize: number, outSize: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = scale * (o + 0.5) - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    const w = cubicWeights(t);
    for (let k = 0; k < 4; k++) {
      const idx = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      m[o * inSize + idx]! += w[k]!;
    }
  }
  return m;
}

function cubicWeights(t: number, a = -0.75): [number, number, number, number] {
  const c1 = (x: number) => ((a + 2) * x - (a + 3)) * x * x + 1; // |x| <= 1
  const c2 = (x: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; // 1 < |x| < 2
  return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)];
}

/** kron(Wh, Ww): maps a row-major [inH·inW] grid to [outH·outW]. */
export function bicubicGridMatrix(inH: number, inW: number, outH: number, outW: number): Float32Array {
  const wh = bicubicMatrix(inH, outH);
  const ww = bicubicMatrix(inW, outW);
  const out = new Float32Array(outH * outW * inH * inW);
  const cols = inH * inW;
  for (let oy = 0; oy < outH; oy++)
    for (let ox = 0; ox < outW; ox++)
      for (let iy = 0; iy < inH; iy++) {
        const a = wh[oy * inH + iy]!;
        if (a === 0) continue;
        for (let ix = 0; ix < inW; ix++) out[(oy * outW + ox) * cols + iy * inW + ix] = a * ww[ox * inW + ix]!;
      }
  return out;
}
