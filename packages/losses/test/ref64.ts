/**
 * Float64 (JS number) reference implementations written independently of the tfjs code, straight
 * from the formulas in test/fixtures/README.md (c)/(d), plus central finite differences.
 */
type M = number[][];

export const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
export const norm = (a: number[]) => Math.sqrt(dot(a, a));
export const normalize = (a: number[]) => {
  const n = Math.max(norm(a), 1e-12);
  return a.map((v) => v / n);
};
export const sqDist = (a: number[], b: number[]) => a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0);

export function logits(z: M, W: M, b: number[]): M {
  return z.map((row) => W.map((w, c) => dot(row, w) + b[c]!));
}

export function ce(lg: M, labels: number[], eps = 0): number {
  let total = 0;
  for (let i = 0; i < lg.length; i++) {
    const row = lg[i]!;
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
    const nll = row.map((v) => lse - v);
    const C = row.length;
    total += (1 - eps) * nll[labels[i]!]! + (eps / C) * nll.reduce((s, v) => s + v, 0);
  }
  return total / lg.length;
}

export function uniformity(z: M, t = 2, clampMin = 1e-6): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < z.length; i++) for (let j = i + 1; j < z.length; j++, k++) s += Math.exp(-t * sqDist(z[i]!, z[j]!));
  return Math.log(Math.max(s / k, clampMin));
}

export function alignment(z: M, labels: number[], alpha = 2): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < z.length; i++)
    for (let j = i + 1; j < z.length; j++)
      if (labels[i] === labels[j]) {
        s += Math.sqrt(sqDist(z[i]!, z[j]!)) ** alpha;
        k++;
      }
  return k ? s / k : 0;
}

/** README (c): total = CE + 0.1·uniformity + 0.1·alignment on z = normalize(pooled). */
export function totalFromZ(z: M, labels: number[], W: M, b: number[], eps = 0): number {
  return ce(logits(z, W, b), labels, eps) + 0.1 * uniformity(z) + 0.1 * alignment(z, labels);
}
export function totalFromPooled(pooled: M, labels: number[], W: M, b: number[], eps = 0): number {
  return totalFromZ(pooled.map(normalize), labels, W, b, eps);
}

/** README (d) "normalized_official". */
export function slerpNormalized64(a: number[], b: number[], t: number) {
  const A = normalize(a);
  const B = normalize(b);
  const omega = Math.acos(Math.min(Math.max(dot(A, B), -1 + 1e-7), 1 - 1e-7));
  const ca = Math.sin(omega - t * omega) / Math.sin(omega);
  const cb = Math.sin(t * omega) / Math.sin(omega);
  return { omega, ca, cb, out: A.map((v, i) => ca * v + cb * B[i]!) };
}

/** README (d) "raw". */
export function slerpRaw64(a: number[], b: number[], t: number) {
  const omega = Math.acos(Math.min(Math.max(dot(a, b) / (norm(a) * norm(b)), -1), 1));
  const ca = Math.sin((1 - t) * omega) / Math.sin(omega);
  const cb = Math.sin(t * omega) / Math.sin(omega);
  return { omega, ca, cb, out: a.map((v, i) => ca * v + cb * b[i]!) };
}

/** Central differences of f at x (a matrix), step h. */
export function finiteDifference(f: (x: M) => number, x: M, h = 1e-6): M {
  return x.map((row, i) =>
    row.map((_, j) => {
      const plus = x.map((r) => r.slice());
      const minus = x.map((r) => r.slice());
      plus[i]![j] = x[i]![j]! + h;
      minus[i]![j] = x[i]![j]! - h;
      return (f(plus) - f(minus)) / (2 * h);
    }),
  );
}
