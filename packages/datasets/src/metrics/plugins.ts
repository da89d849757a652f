import { definePlugin, z } from '@dfdet/core';
import {
  DECISION_RULES,
  accuracy,
  averagePrecision,
  balancedAccuracy,
  eer,
  f1Macro,
  tprAtFpr,
  type DecisionRule,
} from './binary.js';
import { macroAuroc, meanAveragePrecision } from './deepfake.js';

/**
 * What a metric plugin creates. `name` is the key its value is logged under (snake_case, as in `Metrics`);
 * decision-rule metrics built with rule 'ge' get a `_ge` suffix so both rules can be logged side by side.
 * labels: 1 = fake, 0 = real; pFake: P(fake).
 */
export interface Metric {
  name: string;
  compute(labels: number[], pFake: number[]): number;
}

const rule = z.enum(DECISION_RULES).default('argmax').describe("decision rule: 'argmax' (official; p_fake == 0.5 is real) or 'ge' (p_fake >= 0.5 is fake)");

function ruleName(base: string, r: DecisionRule): string {
  return r === 'argmax' ? base : `${base}_ge`;
}

/** 0.01 → "1", 0.05 → "5", 0.001 → "0.1" (percent, shortest round-trip). */
function percent(fpr: number): string {
  return String(Number((fpr * 100).toPrecision(12)));
}

export const aurocMetric = definePlugin({
  kind: 'metric',
  name: 'auroc',
  description: 'area under the ROC curve (sklearn roc_auc_score; official macro OvR equals it), NaN with one class',
  options: z.object({}),
  create: (): Metric => ({ name: 'auroc', compute: (y, p) => macroAuroc(y, p) }),
});

export const apMetric = definePlugin({
  kind: 'metric',
  name: 'ap',
  description: 'average precision of the fake class (sklearn step-wise AP), NaN with one class',
  options: z.object({}),
  create: (): Metric => ({ name: 'ap_fake', compute: (y, p) => averagePrecision(y, p) }),
});

export const mapMetric = definePlugin({
  kind: 'metric',
  name: 'map',
  description: "the paper's mAP: mean of AP(fake, p_fake) and AP(real, 1 - p_fake), NaN with one class",
  options: z.object({}),
  create: (): Metric => ({ name: 'mAP', compute: (y, p) => meanAveragePrecision(y, p) }),
});

export const eerMetric = definePlugin({
  kind: 'metric',
  name: 'eer',
  description: 'equal error rate, linearly interpolated on the ROC (= official brentq on interp1d), NaN with one class',
  options: z.object({}),
  create: (): Metric => ({ name: 'eer', compute: (y, p) => eer(y, p) }),
});

export const tprAtFprMetric = definePlugin({
  kind: 'metric',
  name: 'tpr-at-fpr',
  description: 'TPR at a target FPR, np.interp(fpr, roc.fpr, roc.tpr) on the ROC polyline, NaN with one class',
  options: z.object({
    fpr: z.number().min(0).max(1).default(0.01).describe('target false-positive rate (0.01 = 1%)'),
  }),
  create: (o): Metric => ({ name: `tpr_at_fpr_${percent(o.fpr)}`, compute: (y, p) => tprAtFpr(y, p, o.fpr) }),
});

export const accuracyMetric = definePlugin({
  kind: 'metric',
  name: 'accuracy',
  description: 'accuracy of the hard predictions of the decision rule',
  options: z.object({ rule }),
  create: (o): Metric => ({ name: ruleName('accuracy', o.rule), compute: (y, p) => accuracy(y, p, o.rule) }),
});

export const balancedAccuracyMetric = definePlugin({
  kind: 'metric',
  name: 'balanced-accuracy',
  description: 'mean of per-class recall (sklearn balanced_accuracy_score) under the decision rule',
  options: z.object({ rule }),
  create: (o): Metric => ({ name: ruleName('balanced_accuracy', o.rule), compute: (y, p) => balancedAccuracy(y, p, o.rule) }),
});

export const f1MacroMetric = definePlugin({
  kind: 'metric',
  name: 'f1-macro',
  description: 'mean of the F1 of the real and the fake class (sklearn f1_score macro) under the decision rule',
  options: z.object({ rule }),
  create: (o): Metric => ({ name: ruleName('f1_macro', o.rule), compute: (y, p) => f1Macro(y, p, o.rule) }),
});

/** Every metric plugin, for `pluginModule(...metricPlugins)`. */
export const metricPlugins = [
  aurocMetric,
  apMetric,
  mapMetric,
  eerMetric,
  tprAtFprMetric,
  accuracyMetric,
  balancedAccuracyMetric,
  f1MacroMetric,
] as const;
