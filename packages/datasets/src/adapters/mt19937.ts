/**
 * numpy's legacy `RandomState(seed).shuffle(list)`, bit for bit: MT19937 seeded with `init_genrand`,
 * Fisher–Yates from the end with `random_interval` (masked rejection sampling on 32-bit draws).
 * The paper limits its file lists with `np.random.RandomState(42).shuffle(videos)`; this reproduces it.
 */
export class MT19937 {
  private readonly mt = new Uint32Array(624);
  private mti = 625;

  constructor(seed: number) {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev + i, modulo 2^32
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mti = 624;
  }

  nextU32(): number {
    const mt = this.mt;
    if (this.mti >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % 624]! & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.mti = 0;
    }
    let y = mt[this.mti++]!;
    y ^= y >>> 11;
    y = (y ^ ((y << 7) & 0x9d2c5680)) >>> 0;
    y = (y ^ ((y << 15) & 0xefc60000)) >>> 0;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy's `random_interval(max)`: uniform in [0, max], for max < 2^32. */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do v = (this.nextU32() & mask) >>> 0;
    while (v > max);
    return v;
  }
}

/** Shuffles `items` in place exactly as `np.random.RandomState(seed).shuffle(items)` does. */
export function numpyLegacyShuffle<T>(items: T[], seed: number): T[] {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error('seed must be an integer in [0, 2^32)');
  const rng = new MT19937(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.interval(i);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}
