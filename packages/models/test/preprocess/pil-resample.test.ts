import { describe, expect, it } from 'vitest';
import { PilResample, pilResize, precomputeCoeffs } from '../../src/preprocess/pil-resample.js';
import { diff, readJson, u8, type PilRefs } from './fixtures.js';

const refs = readJson<PilRefs>('pil_refs.json');
const inputs = Object.fromEntries(
  Object.entries(refs.inputs).map(([k, v]) => [k, { width: v.width, height: v.height, data: u8(v.data) }]),
);

describe('pilResize matches Pillow Image.resize bit-exactly', () => {
  it('fixture sanity', () => {
    expect(refs.resize_cases.length).toBeGreaterThanOrEqual(20);
    expect(refs.resize_cases.some((c) => c.resample === PilResample.BICUBIC && c.width > (inputs[c.input]?.width ?? 0))).toBe(true);
    expect(refs.resize_cases.some((c) => c.resample === PilResample.BICUBIC && c.width < (inputs[c.input]?.width ?? 0))).toBe(true);
  });

  for (const c of refs.resize_cases) {
    it(`${c.name}: ${refs.inputs[c.input]!.width}x${refs.inputs[c.input]!.height} -> ${c.width}x${c.height} (filter ${c.resample})`, () => {
      const src = inputs[c.input]!;
      const before = src.data.slice();
      const out = pilResize(src, c.width, c.height, c.resample);
      expect(out.width).toBe(c.width);
      expect(out.height).toBe(c.height);
      expect(diff(out.data, u8(c.expected))).toEqual({ max: 0, count: 0 });
      expect(src.data).toEqual(before); // pure: input untouched
      if (c.width === src.width && c.height === src.height) expect(out.data).not.toBe(src.data);
    });
  }

  it('bicubic coefficients: sum to exactly 2^22 (+-rounding) and use Pillow support 2*max(scale,1)', () => {
    const down = precomputeCoeffs(37, 16, PilResample.BICUBIC);
    expect(down.ksize).toBe(Math.ceil(2 * (37 / 16)) * 2 + 1);
    const up = precomputeCoeffs(23, 50, PilResample.BICUBIC);
    expect(up.ksize).toBe(5);
    for (const k of [down, up]) {
      for (let i = 0; i < k.start.length; i++) {
        let s = 0;
        for (let j = 0; j < k.count[i]!; j++) s += k.weights[i * k.ksize + j]!;
        expect(Math.abs(s - (1 << 22))).toBeLessThanOrEqual(k.ksize);
      }
    }
  });

  it('channels other than 3 are resampled independently', () => {
    const src = inputs['noise_37x23']!;
    const rgb = pilResize(src, 25, 16);
    const g = new Uint8Array(37 * 23);
    for (let i = 0; i < g.length; i++) g[i] = src.data[i * 3 + 1]!;
    const out = pilResize({ data: g, width: 37, height: 23, channels: 1 }, 25, 16);
    for (let i = 0; i < 25 * 16; i++) expect(out.data[i]).toBe(rgb.data[i * 3 + 1]);
  });

  it('rejects bad sizes, data lengths and NEAREST', () => {
    const src = inputs['tiny_3x2']!;
    expect(() => pilResize(src, 0, 5)).toThrow(/positive integers/);
    expect(() => pilResize(src, 2.5, 5)).toThrow(/positive integers/);
    expect(() => pilResize({ ...src, data: src.data.subarray(1) }, 4, 4)).toThrow(/data length/);
    expect(() => pilResize(src, 4, 4, PilResample.NEAREST)).toThrow(/NEAREST/);
  });
});
