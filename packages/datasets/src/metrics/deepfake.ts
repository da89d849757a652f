/**
 * The paper's metric set, computed exactly as the official repo (yermandy/deepfake-detection, src/metrics.py and
 * DeepfakeDetectionModel.log_metrics / compute_across_videos in src/model/dfdet.py) does with sklearn.
 * Labels: 1 = fake (positive), 0 = real. Scores: p_fake; p_real = 1 - p_fake unless given.
 */
import {
  accuracyFromConfusion,
  averagePrecision,
  averagePrecisionFromCurve,
  balancedAccuracyFromConfusion,
  binaryClfCurve,
  confusion,
  eerFromCurve,
  f1MacroFromConfusion,
  rocAuc,
  rocAucFromCurve,
  tprAtFprFromCurve,
  type Confusion,
  type DecisionRule,
  type Numbers,
} from './binary.js';

export interface Metrics {
  /** Macro mean of `ap_fake` and `ap_real` (official: average_precision_score(one_hot(y), probs, 'macro')). */
  mAP: number;
  /** AP(y == 1, p_fake). */
  ap_fake: number;
  /** AP(y == 0, p_real). */
  ap_real: number;
  /** Macro OvR AUROC = mean(AUC(y == 1, p_fake), AUC(y == 0, p_real)) (the binary AUC when p_real = 1 - p_fake). */
  auroc: number;
  /** Interpolated EER on the ROC of p_fake (see `eer` in binary.ts). */
  eer: number;
  /** TPR at FPR = 1 % (np.interp on the ROC, see `tprAtFpr`). */
  tpr_at_fpr_1: number;
  /** TPR at FPR = 5 %. */
  tpr_at_fpr_5: number;
  accuracy: number;
  balanced_accuracy: number;
  f1_macro: number;
  n: number;
  n_fake: number;
  n_real: number;
}

export interface MetricsOptions {
  /** Decision rule for accuracy / balanced accuracy / F1: 'argmax' (official, p_fake == 0.5 → real) or 'ge'. */
  rule?: DecisionRule;
  /**
   * P(real) per sample; default 1 - p_fake. The official video level averages p_real over frames separately,
   * which may differ from 1 - mean(p_fake) in the last bit; passing it reproduces that exactly. With it, the
   * 'argmax' rule predicts fake iff p_fake > p_real.
   */
  pReal?: Numbers;
}

export interface MetricsWithConfusion extends Metrics {
  confusion: Confusion;
}

function mean2(a: number, b: number): number {
  return (a + b) / 2;
}

function flipLabels(labels: Numbers): Float64Array {
  // invalid labels pass through unchanged so that binary.ts rejects them with its own message
  return Float64Array.from(labels, (y) => (y === 1 ? 0 : y === 0 ? 1 : y));
}

/** The paper's mAP: mean(AP(y == 1, p_fake), AP(y == 0, 1 - p_fake)). NaN with one class. */
export function meanAveragePrecision(labels: Numbers, pFake: Numbers): number {
  return mean2(averagePrecision(labels, pFake), averagePrecision(flipLabels(labels), Float64Array.from(pFake, (p) => 1 - p)));
}

/** Official macro OvR AUROC: mean(AUC(y == 1, p_fake), AUC(y == 0, 1 - p_fake)). NaN with one class. */
export function macroAuroc(labels: Numbers, pFake: Numbers): number {
  return mean2(rocAuc(labels, pFake), rocAuc(flipLabels(labels), Float64Array.from(pFake, (p) => 1 - p)));
}

/** The paper's metric set plus the confusion matrix [[tn, fp], [fn, tp]] of the chosen rule. */
export function computeMetricsWithConfusion(labels: Numbers, pFake: Numbers, opts: MetricsOptions = {}): MetricsWithConfusion {
  const rule = opts.rule ?? 'argmax';
  if (labels.length !== pFake.length) throw new RangeError(`computeMetrics: ${labels.length} labels but ${pFake.length} scores`);
  const n = labels.length;
  const pReal = opts.pReal ? Float64Array.from(opts.pReal) : Float64Array.from(pFake, (p) => 1 - p);
  if (pReal.length !== n) throw new RangeError(`computeMetrics: ${n} labels but ${pReal.length} p_real values`);
  const realLabels = flipLabels(labels);

  // one sort per class: every ranking metric is read off the same threshold table
  const fake = binaryClfCurve(labels, pFake);
  const real = binaryClfCurve(realLabels, pReal);
  const apFake = averagePrecisionFromCurve(fake);
  const apReal = averagePrecisionFromCurve(real);
  const aucFake = rocAucFromCurve(fake);
  const aucReal = rocAucFromCurve(real);

  let conf: Confusion;
  if (opts.pReal && rule === 'argmax') {
    // np.argmax([p_real, p_fake]): the first maximum wins, so a tie predicts real
    const decision = Float64Array.from(pFake, (p, i) => (p > pReal[i]! ? 1 : 0));
    conf = confusion(labels, decision, 'ge');
  } else {
    conf = confusion(labels, pFake, rule);
  }
  let nFake = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) nFake++;

  return {
    mAP: mean2(apFake, apReal),
    ap_fake: apFake,
    ap_real: apReal,
    auroc: mean2(aucFake, aucReal),
    eer: eerFromCurve(fake).eer,
    tpr_at_fpr_1: tprAtFprFromCurve(fake, 0.01),
    tpr_at_fpr_5: tprAtFprFromCurve(fake, 0.05),
    accuracy: accuracyFromConfusion(conf),
    balanced_accuracy: balancedAccuracyFromConfusion(conf),
    f1_macro: f1MacroFromConfusion(conf),
    n,
    n_fake: nFake,
    n_real: n - nFake,
    confusion: conf,
  };
}

/**
 * The paper's metric set for one evaluation. Ranking metrics are NaN (no throw) when one class is missing;
 * the confusion-based ones follow sklearn (see binary.ts).
 */
export function computeMetrics(labels: Numbers, pFake: Numbers, opts: MetricsOptions = {}): Metrics {
  const { confusion: _c, ...m } = computeMetricsWithConfusion(labels, pFake, opts);
  return m;
}

export interface Frame {
  /** Video id (official: the frame path up to its last '/'; see `videoIdFromPath`). */
  video: string;
  label: number;
  pFake: number;
}

export interface VideoScore {
  video: string;
  /** Label of the video's FIRST frame in the given order (official; not the majority). */
  label: number;
  /** Arithmetic mean of the frames' p_fake (float64, summed in frame order). */
  pFake: number;
  /** Arithmetic mean of the frames' p_real = 1 - p_fake (the official averages probs column-wise). */
  pReal: number;
  nFrames: number;
}

/** Official video id of a frame path: everything before its last '/' ('' when there is none). */
export function videoIdFromPath(framePath: string): string {
  const i = framePath.lastIndexOf('/');
  return i < 0 ? '' : framePath.slice(0, i);
}

/**
 * Official compute_across_videos: videos in order of first appearance; score = mean frame p_fake;
 * label = the label of the video's first frame.
 */
export function aggregateVideos(frames: readonly Frame[]): VideoScore[] {
  const acc = new Map<string, { label: number; sumFake: number; sumReal: number; n: number }>();
  for (const f of frames) {
    let v = acc.get(f.video);
    if (!v) {
      v = { label: f.label, sumFake: 0, sumReal: 0, n: 0 };
      acc.set(f.video, v);
    }
    v.sumFake += f.pFake;
    v.sumReal += 1 - f.pFake;
    v.n++;
  }
  return [...acc].map(([video, v]) => ({ video, label: v.label, pFake: v.sumFake / v.n, pReal: v.sumReal / v.n, nFrames: v.n }));
}

export interface FrameAndVideoMetrics {
  frame: Metrics;
  video: Metrics;
}

/** Metrics over all frames and over the videos of `aggregateVideos` (video p_real averaged as the official does). */
export function frameAndVideoMetrics(frames: readonly Frame[], opts: Pick<MetricsOptions, 'rule'> = {}): FrameAndVideoMetrics {
  const frame = computeMetrics(
    frames.map((f) => f.label),
    frames.map((f) => f.pFake),
    opts,
  );
  const videos = aggregateVideos(frames);
  const video = computeMetrics(
    videos.map((v) => v.label),
    videos.map((v) => v.pFake),
    { ...opts, pReal: videos.map((v) => v.pReal) },
  );
  return { frame, video };
}
