import { describe, expect, it } from 'vitest';
import {
  accuracy,
  averagePrecision,
  balancedAccuracy,
  confusion,
  eer,
  eerWithThreshold,
  f1Macro,
  predict,
  rocAuc,
  rocCurve,
  tprAtFpr,
} from '../../src/metrics/index.js';
import { aggregateVideos } from '../../src/metrics/index.js';
import { expectAllClose, expectClose, loadFixture, type GenericBlock } from './fixtures.js';

const ref = loadFixture('metrics_ref.json');
const official = loadFixture('official_metrics_ref.json');

interface Case {
  name: string;
  labels: number[];
  scores: number[];
  block: GenericBlock;
}

function videoLevel(frames: { video: string; label: number; pFake: number }[]) {
  const v = aggregateVideos(frames);
  return { labels: v.map((x) => x.label), scores: v.map((x) => x.pFake) };
}

const videoFrames = (ref.video_case.frames.video_id as string[]).map((video, i) => ({
  video,
  label: ref.video_case.frames.label[i] as number,
  pFake: ref.video_case.frames.score[i] as number,
}));
const mixed = official.video_case_mixed_labels;
const mixedFrames = (mixed.frames.video_id as string[]).map((video, i) => ({
  video,
  label: mixed.frames.label[i] as number,
  pFake: mixed.frames.p_fake[i] as number,
}));

const cases: Case[] = [
  ...Object.entries(ref.cases as Record<string, GenericBlock & { labels: number[]; scores: number[] }>).map(([name, c]) => ({
    name,
    labels: c.labels,
    scores: c.scores,
    block: c,
  })),
  {
    name: 'video_case.frame_level',
    labels: videoFrames.map((f) => f.label),
    scores: videoFrames.map((f) => f.pFake),
    block: ref.video_case.frame_level,
  },
  { name: 'video_case.video_level', ...videoLevel(videoFrames), block: ref.video_case.video_level },
  { name: 'video_case_mixed_labels.generic_metrics_video_level', ...videoLevel(mixedFrames), block: mixed.generic_metrics_video_level },
];

/**
 * np.interp(t, fpr, tpr) on the sklearn ROC stored in the fixtures (drop_intermediate=False), computed with
 * numpy 2.4 when these tests were written, for t = 0, 0.01, 0.05, 0.1, 0.5, 1.
 */
const NP_INTERP_TARGETS = [0, 0.01, 0.05, 0.1, 0.5, 1];
const NP_INTERP: Record<string, number[]> = {
  random_ties: [0.17391304347826086, 0.17391304347826086, 0.17391304347826086, 0.17391304347826086, 0.8206521739130435, 1],
  perfect_separation: [1, 1, 1, 1, 1, 1],
  large_1000_dups: [0.00625, 0.1, 0.246875, 0.346875, 0.840625, 1],
  'video_case.video_level': [0.5714285714285714, 0.5714285714285714, 0.5714285714285714, 0.5714285714285714, 1, 1],
  'video_case.frame_level': [0.5277777777777778, 0.5277777777777778, 0.5555555555555556, 0.6361111111111111, 1, 1],
  'video_case_mixed_labels.generic_metrics_video_level': [0, 0, 0, 0, 0.75, 1],
};

/** A plain linear-scan np.interp over the fixture's ROC (last point with fpr <= t, then interpolate). */
function scanInterp(t: number, fpr: number[], tpr: number[]): number {
  let i = 0;
  for (let k = 0; k < fpr.length; k++) if (fpr[k]! <= t) i = k;
  if (fpr[i] === t || i === fpr.length - 1) return tpr[i]!;
  return tpr[i]! + ((tpr[i + 1]! - tpr[i]!) / (fpr[i + 1]! - fpr[i]!)) * (t - fpr[i]!);
}

describe('binary metrics vs sklearn (metrics_ref.json)', () => {
  it('covers every case of the fixture', () => {
    expect(Object.keys(ref.cases).sort()).toEqual(['large_1000_dups', 'perfect_separation', 'random_ties']);
    expect(cases).toHaveLength(6);
  });

  describe.each(cases)('$name', ({ name, labels, scores, block }) => {
    it('sizes', () => {
      expect(labels.length).toBe(block.n);
      expect(labels.filter((y) => y === 1).length).toBe(block.n_pos);
      expect(labels.filter((y) => y === 0).length).toBe(block.n_neg);
    });

    it('roc_curve (drop_intermediate=false) point by point, except the sentinel threshold', () => {
      const r = rocCurve(labels, scores);
      expectAllClose(r.fpr, block.roc_curve.fpr, 'fpr');
      expectAllClose(r.tpr, block.roc_curve.tpr, 'tpr');
      expect(r.thresholds[0]).toBe(Infinity);
      expectAllClose(r.thresholds.subarray(1), block.roc_curve.thresholds.slice(1), 'thresholds');
    });

    it('roc_auc (trapezoid) = sklearn and = Mann-Whitney', () => {
      expectClose(rocAuc(labels, scores), block.roc_auc, 'roc_auc');
      expectClose(rocAuc(labels, scores), block.crosschecks.auc_mann_whitney, 'mann-whitney');
    });

    it('average_precision (step-wise)', () => {
      expectClose(averagePrecision(labels, scores), block.average_precision, 'average_precision');
    });

    it('interpolated eer and its threshold', () => {
      expectClose(eer(labels, scores), block.eer, 'eer');
      expectClose(eer(labels, scores), block.crosschecks.eer_brentq_polyline, 'eer brentq polyline');
      expectClose(eer(labels, scores), block.crosschecks.eer_brentq_interp1d_snippet, 'eer brentq interp1d');
      expectClose(eerWithThreshold(labels, scores).threshold, block.eer_threshold, 'eer_threshold');
    });

    it('accuracy at 0.5 for both decision rules (ge: >=, argmax: >)', () => {
      expectClose(accuracy(labels, scores, 'ge'), block['accuracy_at_0.5_ge'], 'accuracy ge');
      expectClose(accuracy(labels, scores, 'argmax'), block['accuracy_at_0.5_gt'], 'accuracy argmax');
    });

    it('tprAtFpr = np.interp over the ROC', () => {
      const expected = NP_INTERP[name]!;
      NP_INTERP_TARGETS.forEach((t, k) => expectClose(tprAtFpr(labels, scores, t), expected[k]!, `tpr@fpr=${t}`));
      for (let t = 0; t <= 1; t += 1 / 64) {
        expectClose(tprAtFpr(labels, scores, t), scanInterp(t, block.roc_curve.fpr, block.roc_curve.tpr), `scan tpr@fpr=${t}`);
      }
    });

    it('is invariant to sample order', () => {
      const perm = labels.map((_, i) => i).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101) || a - b);
      const y = perm.map((i) => labels[i]!);
      const s = perm.map((i) => scores[i]!);
      expectClose(rocAuc(y, s), block.roc_auc, 'roc_auc permuted');
      expectClose(averagePrecision(y, s), block.average_precision, 'ap permuted');
      expectClose(eer(y, s), block.eer, 'eer permuted');
    });
  });
});

describe('tprAtFpr conventions on small cases', () => {
  it('a tie across classes is one diagonal ROC segment', () => {
    expectClose(tprAtFpr([1, 0], [0.5, 0.5], 0.01), 0.01, 'diagonal');
    expectClose(tprAtFpr([1, 0], [0.5, 0.5], 0.05), 0.05, 'diagonal');
  });
  it('takes the top of a vertical segment at an exact FPR', () => {
    // ROC: (0,0) (0,.5) (0,1) (.5,1) (1,1)
    expectClose(tprAtFpr([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.2], 0), 1, 'vertical at 0');
    // ROC: (0,0) (.5,0) (.5,1) (1,1): at fpr = .5 the best TPR is 1
    expectClose(tprAtFpr([0, 1, 0], [0.9, 0.8, 0.1], 0.5), 1, 'vertical at 0.5');
    expectClose(tprAtFpr([0, 1, 0], [0.9, 0.8, 0.1], 0.25), 0, 'horizontal before');
  });
  it('interpolates linearly inside a segment', () => {
    // ROC: (0,0) (0,.5) (.5,.5) (.5,1) (1,1) with a tie group forming (0,.5)-(.5,1)?
    // labels/scores: pos 0.9; pos 0.5 & neg 0.5 tie; neg 0.1 → (0,0) (0,.5) (.5,1) (1,1)
    expectClose(tprAtFpr([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1], 0.25), 0.75, 'mid diagonal');
    expectClose(tprAtFpr([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1], 0.01), 0.51, '1% on diagonal');
  });
  it('rejects a target outside [0, 1]', () => {
    expect(() => tprAtFpr([0, 1], [0.1, 0.9], 1.5)).toThrow(RangeError);
    expect(() => tprAtFpr([0, 1], [0.1, 0.9], NaN)).toThrow(RangeError);
  });
});

describe('decision rules and confusion-based metrics', () => {
  it('argmax predicts real at exactly 0.5, ge predicts fake', () => {
    expect(predict(0.5, 'argmax')).toBe(0);
    expect(predict(0.5, 'ge')).toBe(1);
    expect(predict(0.5000000000000001, 'argmax')).toBe(1);
    expect(predict(0.49999999999999994, 'ge')).toBe(0);
    expect(predict(NaN, 'argmax')).toBe(0);
    expect(predict(NaN, 'ge')).toBe(0);
  });

  it('argmax equals np.argmax([1 - p, p]) over [0, 1]', () => {
    const ps = [0, 1, 0.5, 0.25, 0.75, 0.5 - 2 ** -54, 0.5 + 2 ** -53, 0.5 - 2 ** -53, 1e-300, 1 - 2 ** -53];
    for (let k = 0; k < 2000; k++) ps.push(((k * 0.6180339887498949) % 1) + 0);
    for (const p of ps) expect(predict(p, 'argmax'), `p=${p}`).toBe(p > 1 - p ? 1 : 0);
  });

  it('confusion layout [[tn, fp], [fn, tp]]', () => {
    const y = [0, 0, 0, 1, 1, 1, 1];
    const p = [0.1, 0.5, 0.9, 0.2, 0.5, 0.8, 0.9];
    expect(confusion(y, p, 'argmax')).toEqual([
      [2, 1],
      [2, 2],
    ]);
    expect(confusion(y, p, 'ge')).toEqual([
      [1, 2],
      [1, 3],
    ]);
    // argmax: recalls 2/3 and 1/2; F1 real = 4/7, F1 fake = 4/7
    expectClose(accuracy(y, p), 4 / 7, 'accuracy');
    expectClose(balancedAccuracy(y, p), (2 / 3 + 1 / 2) / 2, 'balanced');
    expectClose(f1Macro(y, p), (4 / 7 + 4 / 7) / 2, 'f1');
  });

  it('follows sklearn when a class is missing', () => {
    // only real samples, all predicted real: sklearn labels = {0}: balanced = recall_0, f1 macro = F1_0 = 1
    expect(balancedAccuracy([0, 0], [0.1, 0.2])).toBe(1);
    expect(f1Macro([0, 0], [0.1, 0.2])).toBe(1);
    // only real samples, one predicted fake: labels = {0, 1}; F1_1 = 0 → macro = (2/3 + 0) / 2
    expectClose(f1Macro([0, 0], [0.1, 0.9]), (2 / 3) / 2, 'f1 missing class');
    expect(balancedAccuracy([0, 0], [0.1, 0.9])).toBe(0.5);
    expect(accuracy([], [])).toBeNaN();
  });
});

describe('degenerate and invalid input', () => {
  it('one class only: NaN for AUC / AP / EER / TPR@FPR, no throw', () => {
    for (const y of [
      [1, 1, 1],
      [0, 0, 0],
    ]) {
      const s = [0.2, 0.5, 0.9];
      expect(rocAuc(y, s)).toBeNaN();
      expect(averagePrecision(y, s)).toBeNaN();
      expect(eer(y, s)).toBeNaN();
      expect(tprAtFpr(y, s, 0.01)).toBeNaN();
      expect(accuracy(y, s)).toBeGreaterThanOrEqual(0);
    }
    expect(rocAuc([], [])).toBeNaN();
    expect(eer([], [])).toBeNaN();
    const r = rocCurve([1, 1], [0.1, 0.2]);
    expect(Array.from(r.fpr).every(Number.isNaN)).toBe(true);
    expect(Array.from(r.tpr)).toEqual([0, 0.5, 1]);
  });

  it('throws on mismatched lengths, non-binary labels and NaN scores', () => {
    expect(() => rocAuc([0, 1], [0.5])).toThrow(RangeError);
    expect(() => rocAuc([0, 2], [0.1, 0.2])).toThrow(/labels must be 0 or 1/);
    expect(() => rocAuc([0, 1], [0.1, NaN])).toThrow(/NaN/);
    expect(() => accuracy([0, 1], [0.1, 0.2], 'gt' as never)).toThrow(/decision rule/);
  });

  it('accepts typed arrays', () => {
    expectClose(rocAuc(Float64Array.of(0, 1, 0, 1), Float32Array.of(0.1, 0.4, 0.5, 0.8)), 0.75, 'typed');
  });
});
