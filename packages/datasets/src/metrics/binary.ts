/**
 * Binary-classification metrics in float64, matching scikit-learn (1.2 / 1.3+) numerically.
 *
 * Conventions (all functions):
 * - `labels[i]` is 0 or 1, 1 = positive (fake); a higher score means "more positive".
 * - Tied scores form ONE threshold (one ROC / PR point), exactly like sklearn's `_binary_clf_curve`.
 * - Ranking metrics (`rocAuc`, `averagePrecision`, `eer`, `tprAtFpr`) return `NaN` without throwing when only
 *   one class is present (or the input is empty); sklearn raises / warns there.
 * - Invalid input (length mismatch, a label other than 0/1, a NaN score) throws a `RangeError`.
 */

/** Anything indexable: `number[]`, `Float64Array`, ... */
export type Numbers = ArrayLike<number>;

/** How a probability of the positive class becomes a hard prediction. */
export type DecisionRule = 'argmax' | 'ge';
export const DECISION_RULES = ['argmax', 'ge'] as const satisfies readonly DecisionRule[];

/**
 * Predicted class (0/1) for p = P(positive).
 * - `argmax` (the official repo): `argmax([1 - p, p])`; np.argmax picks the first maximum, so a tie (p == 0.5)
 *   predicts 0 (REAL). For p in [0, 1], `p > 1 - p` in float64 is exactly `p > 0.5`, which is what is computed.
 * - `ge`: `p >= 0.5`.
 * A NaN probability predicts 0 under both rules (as np.argmax([nan, nan]) does).
 */
export function predict(p: number, rule: DecisionRule = 'argmax', threshold = 0.5): 0 | 1 {
  switch (rule) {
    case 'argmax':
      return p > threshold ? 1 : 0;
    case 'ge':
      return p >= threshold ? 1 : 0;
    default:
      throw new RangeError(`unknown decision rule "${String(rule)}" (expected "argmax" or "ge")`);
  }
}

function checkLabels(labels: Numbers, scores: Numbers, what: string): void {
  if (labels.length !== scores.length) {
    throw new RangeError(`${what}: ${labels.length} labels but ${scores.length} scores`);
  }
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new RangeError(`${what}: label ${i} is ${String(y)}; labels must be 0 or 1`);
  }
}

/**
 * Distinct thresholds in decreasing order with the cumulative counts at each (sklearn `_binary_clf_curve`):
 * `tps[k]` / `fps[k]` = positives / negatives with score >= `thresholds[k]`.
 */
export interface ClfCurve {
  thresholds: Float64Array;
  tps: Float64Array;
  fps: Float64Array;
  nPos: number;
  nNeg: number;
}

export function binaryClfCurve(labels: Numbers, scores: Numbers): ClfCurve {
  checkLabels(labels, scores, 'binaryClfCurve');
  const n = scores.length;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`binaryClfCurve: score ${i} is NaN`);
  }
  // decreasing score; the order within ties is irrelevant (only tie-group boundaries are used)
  const s = Float64Array.from(scores);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => {
    const sa = s[a]!;
    const sb = s[b]!;
    return sa > sb ? -1 : sa < sb ? 1 : 0;
  });
  const thr: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (labels[i] === 1) tp++;
    else fp++;
    // last element of a tie group (np.diff(sorted) != 0, plus the final index)
    if (k === n - 1 || s[order[k + 1]!] !== s[i]) {
      thr.push(s[i]!);
      tps.push(tp);
      fps.push(fp);
    }
  }
  return { thresholds: Float64Array.from(thr), tps: Float64Array.from(tps), fps: Float64Array.from(fps), nPos: tp, nNeg: fp };
}

export interface RocCurve {
  /** Non-decreasing; fpr[0] = 0. */
  fpr: Float64Array;
  /** Non-decreasing; tpr[0] = 0. */
  tpr: Float64Array;
  /**
   * Decreasing distinct scores; thresholds[0] is the sentinel `Infinity` (sklearn >= 1.3; sklearn 1.2 used
   * max(score) + 1). Point k counts samples with score >= thresholds[k].
   */
  thresholds: Float64Array;
}

/**
 * sklearn `roc_curve(y, s, drop_intermediate=False)`: one point per distinct score plus the leading (0, 0).
 * With one class only, the undefined rate (fpr without negatives, tpr without positives) is all NaN, as in sklearn.
 */
export function rocCurve(labels: Numbers, scores: Numbers): RocCurve {
  return rocFromClf(binaryClfCurve(labels, scores));
}

function rocFromClf(c: ClfCurve): RocCurve {
  const m = c.thresholds.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const thresholds = new Float64Array(m);
  thresholds[0] = Infinity;
  for (let k = 1; k < m; k++) {
    fpr[k] = c.fps[k - 1]! / c.nNeg;
    tpr[k] = c.tps[k - 1]! / c.nPos;
    thresholds[k] = c.thresholds[k - 1]!;
  }
  if (c.nNeg === 0) fpr.fill(NaN);
  if (c.nPos === 0) tpr.fill(NaN);
  return { fpr, tpr, thresholds };
}

function degenerate(c: ClfCurve): boolean {
  return c.nPos === 0 || c.nNeg === 0;
}

/** Trapezoidal area (np.trapz(y, x)). */
function trapezoid(x: Float64Array, y: Float64Array): number {
  let area = 0;
  for (let k = 1; k < x.length; k++) area += ((x[k]! - x[k - 1]!) * (y[k]! + y[k - 1]!)) / 2;
  return area;
}

/**
 * sklearn `roc_auc_score(y, s)`: trapezoid under the ROC where tied scores form one (diagonal) segment;
 * equals Mann–Whitney U / (nPos·nNeg) with ties counted 1/2. NaN with one class only.
 */
export function rocAuc(labels: Numbers, scores: Numbers): number {
  return rocAucFromCurve(binaryClfCurve(labels, scores));
}

/** `rocAuc` on a precomputed `binaryClfCurve` (sort once, compute several metrics). */
export function rocAucFromCurve(c: ClfCurve): number {
  if (degenerate(c)) return NaN;
  const r = rocFromClf(c);
  return trapezoid(r.fpr, r.tpr);
}

/**
 * sklearn `average_precision_score(y, s)`: sum_k (R_k - R_{k-1}) P_k over distinct thresholds in decreasing
 * order, R_0 = 0 (step-wise; not trapezoidal, not interpolated). NaN with one class only.
 */
export function averagePrecision(labels: Numbers, scores: Numbers): number {
  return averagePrecisionFromCurve(binaryClfCurve(labels, scores));
}

/** `averagePrecision` on a precomputed `binaryClfCurve`. */
export function averagePrecisionFromCurve(c: ClfCurve): number {
  if (degenerate(c)) return NaN;
  let ap = 0;
  let prevRecall = 0;
  for (let k = 0; k < c.tps.length; k++) {
    const tp = c.tps[k]!;
    const recall = tp / c.nPos;
    const precision = tp / (tp + c.fps[k]!);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
  }
  return ap;
}

export interface EerResult {
  /** The equal error rate (NaN with one class only). */
  eer: number;
  /** Score threshold of the first ROC point at/after the crossing (informative; NaN when undefined). */
  threshold: number;
}

/**
 * Interpolated EER: on `rocCurve` (drop_intermediate=False), fnr = 1 - tpr, d = fnr - fpr (non-increasing);
 * i = first index with d[i] <= 0; if d[i] == 0 → fpr[i], else t = d[i-1] / (d[i-1] - d[i]) and
 * EER = fpr[i-1] + t (fpr[i] - fpr[i-1]). This is the intersection of the piecewise-linear ROC with
 * tpr = 1 - fpr, i.e. what the official `brentq(lambda x: 1 - x - interp1d(fpr, tpr)(x), 0, 1)` finds
 * (up to brentq's tolerance, ~1e-12).
 */
export function eerWithThreshold(labels: Numbers, scores: Numbers): EerResult {
  return eerFromCurve(binaryClfCurve(labels, scores));
}

/** `eerWithThreshold` on a precomputed `binaryClfCurve`. */
export function eerFromCurve(c: ClfCurve): EerResult {
  if (degenerate(c)) return { eer: NaN, threshold: NaN };
  const { fpr, tpr, thresholds } = rocFromClf(c);
  let prevD = 1 - tpr[0]! - fpr[0]!; // = 1 at (0, 0)
  for (let i = 1; i < fpr.length; i++) {
    const d = 1 - tpr[i]! - fpr[i]!;
    if (d <= 0) {
      if (d === 0) return { eer: fpr[i]!, threshold: thresholds[i]! };
      const t = prevD / (prevD - d);
      return { eer: fpr[i - 1]! + t * (fpr[i]! - fpr[i - 1]!), threshold: thresholds[i]! };
    }
    prevD = d;
  }
  // unreachable: the last point is (1, 1) with d = -1
  return { eer: NaN, threshold: NaN };
}

/** See `eerWithThreshold`. NaN with one class only. */
export function eer(labels: Numbers, scores: Numbers): number {
  return eerWithThreshold(labels, scores).eer;
}

/**
 * TPR at a target FPR by linear interpolation on the ROC polyline: `np.interp(target, fpr, tpr)` on
 * `rocCurve` (drop_intermediate=False; the same value with drop_intermediate=True, which only removes
 * collinear points). Let i = the LAST index with fpr[i] <= target: if fpr[i] == target the value is tpr[i]
 * (the top of a vertical ROC segment: the best TPR reachable at exactly that FPR), otherwise the value is
 * interpolated linearly between points i and i + 1. Ties in scores are one diagonal segment, so this is the
 * TPR of the randomized classifier that reaches FPR = target exactly. NaN with one class only.
 */
export function tprAtFpr(labels: Numbers, scores: Numbers, target: number): number {
  checkTarget(target);
  return tprAtFprFromCurve(binaryClfCurve(labels, scores), target);
}

function checkTarget(target: number): void {
  if (!(target >= 0 && target <= 1)) throw new RangeError(`tprAtFpr: target FPR ${target} must be in [0, 1]`);
}

/** `tprAtFpr` on a precomputed `binaryClfCurve`. */
export function tprAtFprFromCurve(c: ClfCurve, target: number): number {
  checkTarget(target);
  if (degenerate(c)) return NaN;
  const { fpr, tpr } = rocFromClf(c);
  return interp(target, fpr, tpr);
}

/** np.interp(x, xp, fp) for non-decreasing xp with x in [xp[0], xp[last]]. */
function interp(x: number, xp: Float64Array, fp: Float64Array): number {
  const last = xp.length - 1;
  if (x < xp[0]!) return fp[0]!;
  if (x >= xp[last]!) return fp[last]!;
  // last i with xp[i] <= x (binary search); then xp[i] <= x < xp[i + 1]
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (xp[mid]! <= x) lo = mid;
    else hi = mid;
  }
  if (xp[lo] === x) return fp[lo]!;
  const slope = (fp[lo + 1]! - fp[lo]!) / (xp[lo + 1]! - xp[lo]!);
  return slope * (x - xp[lo]!) + fp[lo]!;
}

/** Confusion matrix [[tn, fp], [fn, tp]] (rows = true class 0/1, columns = predicted class 0/1). */
export type Confusion = [[number, number], [number, number]];

/** Confusion matrix of the predictions `predict(p, rule)` against the labels. */
export function confusion(labels: Numbers, pFake: Numbers, rule: DecisionRule = 'argmax'): Confusion {
  checkLabels(labels, pFake, 'confusion');
  let tn = 0;
  let fp = 0;
  let fn = 0;
  let tp = 0;
  for (let i = 0; i < labels.length; i++) {
    const pred = predict(pFake[i]!, rule);
    if (labels[i] === 1) {
      if (pred === 1) tp++;
      else fn++;
    } else if (pred === 1) fp++;
    else tn++;
  }
  return [
    [tn, fp],
    [fn, tp],
  ];
}

/** sklearn accuracy_score on a confusion matrix. NaN when empty. */
export function accuracyFromConfusion([[tn, fp], [fn, tp]]: Confusion): number {
  const n = tn + fp + fn + tp;
  return n === 0 ? NaN : (tn + tp) / n;
}

/**
 * sklearn balanced_accuracy_score: mean per-class recall over the classes present in the labels (a class with
 * no true sample is left out, as sklearn does after its warning). NaN when empty.
 */
export function balancedAccuracyFromConfusion([[tn, fp], [fn, tp]]: Confusion): number {
  const recalls: number[] = [];
  if (tn + fp > 0) recalls.push(tn / (tn + fp));
  if (fn + tp > 0) recalls.push(tp / (fn + tp));
  return recalls.length === 0 ? NaN : recalls.reduce((a, b) => a + b, 0) / recalls.length;
}

/**
 * sklearn f1_score(average='macro'): mean over the classes present in the labels or the predictions of
 * F1_c = 2 tp_c / (2 tp_c + fp_c + fn_c) (a class with no predicted sample gets 0, sklearn's zero_division).
 * NaN when empty.
 */
export function f1MacroFromConfusion([[tn, fp], [fn, tp]]: Confusion): number {
  const f1s: number[] = [];
  // sklearn skips a class absent from both labels and predictions: class 0 appears iff tn + fp + fn > 0,
  // class 1 iff tp + fp + fn > 0. For class 0 (real) its tp is tn, its fp is fn and its fn is fp.
  if (tn + fp + fn > 0) f1s.push((2 * tn) / (2 * tn + fn + fp));
  if (tp + fp + fn > 0) f1s.push((2 * tp) / (2 * tp + fp + fn));
  return f1s.length === 0 ? NaN : f1s.reduce((a, b) => a + b, 0) / f1s.length;
}

export function accuracy(labels: Numbers, pFake: Numbers, rule: DecisionRule = 'argmax'): number {
  return accuracyFromConfusion(confusion(labels, pFake, rule));
}

export function balancedAccuracy(labels: Numbers, pFake: Numbers, rule: DecisionRule = 'argmax'): number {
  return balancedAccuracyFromConfusion(confusion(labels, pFake, rule));
}

export function f1Macro(labels: Numbers, pFake: Numbers, rule: DecisionRule = 'argmax'): number {
  return f1MacroFromConfusion(confusion(labels, pFake, rule));
}
