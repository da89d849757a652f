import { describe } from 'vitest';
import { addonUnavailableReason } from '../src/index.js';

/** Why the torch tests are skipped here (the addon did not build), or undefined when they run. */
export const UNAVAILABLE = addonUnavailableReason();
if (UNAVAILABLE) console.warn(`[backend-torch tests] SKIPPED: the torch addon is unavailable: ${UNAVAILABLE}`);

/** describe() that skips, saying why, only when the addon is unavailable. */
export const describeTorch = (name: string, fn: () => void) =>
  UNAVAILABLE ? describe.skip(`${name} (skipped: torch addon unavailable: ${UNAVAILABLE})`, fn) : describe(name, fn);

/** Test device: DFDET_TORCH_DEVICE (e.g. cuda:0 in scripts/gpu-check.sh), else cpu. */
export const DEVICE = process.env.DFDET_TORCH_DEVICE ?? 'cpu';

/** max |a − b| / max(max |b|, floor): relative to the tensor's scale. NaN matches NaN, ±∞ the same ∞. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  if (a.length !== b.length) return Infinity;
  let scale = floor;
  for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i]!)) scale = Math.max(scale, Math.abs(b[i]!));
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(y) || !Number.isFinite(y)) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) return Infinity;
      continue;
    }
    err = Math.max(err, Math.abs(x - y) / scale);
  }
  return err;
}

/** Deterministic uniform numbers (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
