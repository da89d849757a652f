import type { Rng } from '../contracts/training.js';

/**
 * sfc32: a small, fast PRNG whose whole state is four 32-bit words, so a run can save and
 * restore it exactly. Seeds are mixed with splitmix32 so nearby seeds give unrelated streams.
 */
export class SeededRng implements Rng {
  private s: Uint32Array;

  constructor(seed: number, stream = 0) {
    let x = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([next(), next(), next(), next()]);
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A child stream for one purpose (data order, augmentation, …), independent of the others. */
  static derive(seed: number, purpose: string): SeededRng {
    let h = 2166136261;
    for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 16777619) >>> 0;
    return new SeededRng(seed, h);
  }

  u32(): number {
    const s = this.s;
    const t = (((s[0]! + s[1]!) >>> 0) + s[3]!) >>> 0;
    s[3] = (s[3]! + 1) >>> 0;
    s[0] = s[1]! ^ (s[1]! >>> 9);
    s[1] = (s[2]! + (s[2]! << 3)) >>> 0;
    s[2] = ((s[2]! << 21) | (s[2]! >>> 11)) >>> 0;
    s[2] = (s[2]! + t) >>> 0;
    return t;
  }

  next(): number {
    return this.u32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }

  state(): number[] {
    return Array.from(this.s);
  }

  restore(state: unknown): void {
    if (!Array.isArray(state) || state.length !== 4 || !state.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)) {
      throw new Error('invalid RNG state');
    }
    this.s = new Uint32Array(state as number[]);
  }
}
