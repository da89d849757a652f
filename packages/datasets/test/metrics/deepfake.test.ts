import { describe, expect, it } from 'vitest';
import {
  aggregateVideos,
  computeMetrics,
  computeMetricsWithConfusion,
  frameAndVideoMetrics,
  macroAuroc,
  meanAveragePrecision,
  tprAtFpr,
  videoIdFromPath,
  type DecisionRule,
  type Frame,
  type Metrics,
} from '../../src/metrics/index.js';
import { expectAllClose, expectClose, loadFixture, type OfficialBlock, type VideosBlock } from './fixtures.js';

const ref = loadFixture('metrics_ref.json');
const official = loadFixture('official_metrics_ref.json');

const RULES: [DecisionRule, 'argmax' | 'ge_0.5'][] = [
  ['argmax', 'argmax'],
  ['ge', 'ge_0.5'],
];

/** Compares our metric set (and confusion) with an official block for one decision rule. */
function checkBlock(labels: number[], pFake: number[], block: OfficialBlock, rule: DecisionRule, key: 'argmax' | 'ge_0.5', pReal?: number[]) {
  const m = computeMetricsWithConfusion(labels, pFake, pReal ? { rule, pReal } : { rule });
  expect(m.n).toBe(block.n);
  expect(m.n_fake).toBe(block.n_pos_fake);
  expect(m.n_real).toBe(block.n_neg_real);
  expect(pFake.filter((p) => p === 0.5).length).toBe(block['n_p_fake_exactly_0.5']);
  expectClose(m.mAP, block.mAP, 'mAP');
  expectClose(m.mAP, (block.ap_fake + block.ap_real) / 2, 'mAP = mean of the two APs');
  expectClose(m.ap_fake, block.ap_fake, 'ap_fake');
  expectClose(m.ap_real, block.ap_real, 'ap_real');
  expectClose(m.auroc, block.auroc, 'auroc');
  expectClose(m.auroc, block.auroc_fake, 'auroc_fake');
  expectClose(m.auroc, block.auroc_real, 'auroc_real');
  expectClose(m.eer, block.eer, 'eer (official brentq)');
  const r = block[key];
  expect(m.confusion).toEqual(r.confusion);
  expect(m.confusion[0][1] + m.confusion[1][1]).toBe(r.n_pred_fake);
  expectClose(m.accuracy, r.accuracy, `${key} accuracy`);
  expectClose(m.balanced_accuracy, r.balanced_accuracy, `${key} balanced_accuracy`);
  expectClose(m.f1_macro, r.f1_macro, `${key} f1_macro`);
  expectClose(m.tpr_at_fpr_1, tprAtFpr(labels, pFake, 0.01), 'tpr_at_fpr_1');
  expectClose(m.tpr_at_fpr_5, tprAtFpr(labels, pFake, 0.05), 'tpr_at_fpr_5');
  // the plain Metrics is the same set without the confusion matrix
  const plain = computeMetrics(labels, pFake, pReal ? { rule, pReal } : { rule });
  expect('confusion' in plain).toBe(false);
  const { confusion: _c, ...rest } = m;
  expect(plain).toEqual(rest);
}

function checkMetrics(m: Metrics, block: OfficialBlock, key: 'argmax' | 'ge_0.5') {
  expect([m.n, m.n_fake, m.n_real]).toEqual([block.n, block.n_pos_fake, block.n_neg_real]);
  expectClose(m.mAP, block.mAP, 'mAP');
  expectClose(m.ap_fake, block.ap_fake, 'ap_fake');
  expectClose(m.ap_real, block.ap_real, 'ap_real');
  expectClose(m.auroc, block.auroc, 'auroc');
  expectClose(m.eer, block.eer, 'eer');
  expectClose(m.accuracy, block[key].accuracy, 'accuracy');
  expectClose(m.balanced_accuracy, block[key].balanced_accuracy, 'balanced_accuracy');
  expectClose(m.f1_macro, block[key].f1_macro, 'f1_macro');
}

function checkVideos(frames: Frame[], v: VideosBlock) {
  const agg = aggregateVideos(frames);
  expect(agg.map((x) => x.video)).toEqual(v.video_id);
  expect(agg.map((x) => x.label)).toEqual(v.label_first_frame);
  expect(agg.map((x) => x.nFrames)).toEqual(v.n_frames);
  expectAllClose(
    agg.map((x) => x.pFake),
    v.p_fake_mean,
    'p_fake_mean',
  );
  expectAllClose(
    agg.map((x) => x.pReal),
    v.p_real_mean,
    'p_real_mean',
  );
  // frame labels per video, in frame order
  const perVideo = new Map<string, number[]>();
  for (const f of frames) perVideo.set(f.video, [...(perVideo.get(f.video) ?? []), f.label]);
  expect(v.video_id.map((id) => perVideo.get(id))).toEqual(v.frame_labels);
}

describe('official metric set (official_metrics_ref.json)', () => {
  it('covers every case of the fixture', () => {
    expect(Object.keys(official.cases).sort()).toEqual(['large_1000_dups', 'perfect_separation', 'random_ties']);
  });

  describe.each(Object.keys(official.cases))('%s', (name) => {
    const { labels, scores } = ref.cases[name] as { labels: number[]; scores: number[] };
    const block = official.cases[name].official as OfficialBlock;
    it.each(RULES)('rule %s', (rule, key) => checkBlock(labels, scores, block, rule, key));
    it('mAP and macro AUROC helpers', () => {
      expectClose(meanAveragePrecision(labels, scores), block.mAP, 'mAP');
      expectClose(macroAuroc(labels, scores), block.auroc, 'auroc');
    });
  });

  describe('video_case', () => {
    const vc = ref.video_case.frames;
    const frames: Frame[] = (vc.video_id as string[]).map((video, i) => ({ video, label: vc.label[i], pFake: vc.score[i] }));
    const o = official.video_case;

    it('aggregateVideos: first-appearance order, mean p_fake / p_real, first-frame label', () => {
      checkVideos(frames, o.videos_first_appearance_order);
      // same videos as metrics_ref's id-sorted table
      const byId = [...aggregateVideos(frames)].sort((a, b) => a.video.localeCompare(b.video));
      expect(byId.map((x) => x.video)).toEqual(ref.video_case.videos.video_id);
      expect(byId.map((x) => x.label)).toEqual(ref.video_case.videos.label);
      expect(byId.map((x) => x.nFrames)).toEqual(ref.video_case.videos.n_frames);
      expectAllClose(
        byId.map((x) => x.pFake),
        ref.video_case.videos.score_mean,
        'score_mean',
      );
    });

    it.each(RULES)('frame level, rule %s', (rule, key) =>
      checkBlock(
        frames.map((f) => f.label),
        frames.map((f) => f.pFake),
        o.frame_level,
        rule,
        key,
      ),
    );

    it.each(RULES)('video level, rule %s', (rule, key) => {
      const videos = aggregateVideos(frames);
      checkBlock(
        videos.map((v) => v.label),
        videos.map((v) => v.pFake),
        o.video_level,
        rule,
        key,
        videos.map((v) => v.pReal),
      );
      // and with p_real = 1 - p_fake (the default)
      checkBlock(
        videos.map((v) => v.label),
        videos.map((v) => v.pFake),
        o.video_level,
        rule,
        key,
      );
    });

    it.each(RULES)('frameAndVideoMetrics, rule %s', (rule, key) => {
      const { frame, video } = frameAndVideoMetrics(frames, { rule });
      checkMetrics(frame, o.frame_level, key);
      checkMetrics(video, o.video_level, key);
    });
  });

  describe('video_case_mixed_labels', () => {
    const m = official.video_case_mixed_labels;
    const frames: Frame[] = (m.frames.video_id as string[]).map((video, i) => ({ video, label: m.frames.label[i], pFake: m.frames.p_fake[i] }));

    it('video id = frame path up to its last "/"', () => {
      expect((m.frames.frame_path as string[]).map(videoIdFromPath)).toEqual(m.frames.video_id);
      expect(videoIdFromPath('a/b/c.png')).toBe('a/b');
      expect(videoIdFromPath('c.png')).toBe('');
    });

    it('aggregateVideos takes the FIRST frame label of mixed-label videos', () => {
      checkVideos(frames, m.videos_first_appearance_order);
      const v = m.videos_first_appearance_order as VideosBlock;
      const mixedIdx = v.frame_labels.map((l, i) => (new Set(l).size > 1 ? i : -1)).filter((i) => i >= 0);
      expect(mixedIdx.map((i) => v.video_id[i])).toEqual(['clip_03', 'clip_08']);
      for (const i of mixedIdx) {
        const labels = v.frame_labels[i]!;
        const ones = labels.filter((y) => y === 1).length;
        const majority = ones * 2 > labels.length ? 1 : 0;
        expect(v.label_first_frame[i]).toBe(labels[0]);
        expect(v.label_first_frame[i]).not.toBe(majority);
      }
    });

    it.each(RULES)('frame level, rule %s', (rule, key) =>
      checkBlock(
        frames.map((f) => f.label),
        frames.map((f) => f.pFake),
        m.frame_level,
        rule,
        key,
      ),
    );

    it.each(RULES)('video level, rule %s', (rule, key) => {
      const videos = aggregateVideos(frames);
      checkBlock(
        videos.map((v) => v.label),
        videos.map((v) => v.pFake),
        m.video_level,
        rule,
        key,
        videos.map((v) => v.pReal),
      );
    });

    it.each(RULES)('frameAndVideoMetrics, rule %s', (rule, key) => {
      const { frame, video } = frameAndVideoMetrics(frames, { rule });
      checkMetrics(frame, m.frame_level, key);
      checkMetrics(video, m.video_level, key);
    });
  });
});

describe('computeMetrics edge cases', () => {
  it('one class only: ranking metrics NaN, no throw', () => {
    const m = computeMetrics([1, 1, 1], [0.2, 0.6, 0.9]);
    for (const k of ['mAP', 'ap_fake', 'ap_real', 'auroc', 'eer', 'tpr_at_fpr_1', 'tpr_at_fpr_5'] as const) expect(m[k], k).toBeNaN();
    expect(m.accuracy).toBeCloseTo(2 / 3, 15);
    expect([m.n, m.n_fake, m.n_real]).toEqual([3, 3, 0]);
    const e = computeMetrics([], []);
    expect(e.n).toBe(0);
    expect(e.auroc).toBeNaN();
    expect(e.accuracy).toBeNaN();
  });

  it('defaults to the official argmax rule', () => {
    const y = [1, 0, 1, 0];
    const p = [0.5, 0.2, 0.9, 0.7];
    expect(computeMetrics(y, p).accuracy).toBe(0.5);
    expect(computeMetrics(y, p, { rule: 'ge' }).accuracy).toBe(0.75);
  });

  it('rejects mismatched input', () => {
    expect(() => computeMetrics([0, 1], [0.5])).toThrow(RangeError);
    expect(() => computeMetrics([0, 3], [0.5, 0.2])).toThrow(RangeError);
    expect(() => computeMetrics([0, 1], [0.5, 0.2], { pReal: [0.5] })).toThrow(RangeError);
  });

  it('aggregateVideos of nothing is empty', () => {
    expect(aggregateVideos([])).toEqual([]);
    const { video } = frameAndVideoMetrics([]);
    expect(video.n).toBe(0);
  });
});
