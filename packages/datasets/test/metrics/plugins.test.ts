import { PluginRegistry, pluginModule, type BuildContext } from '@dfdet/core';
import { describe, expect, it } from 'vitest';
import { computeMetrics, metricPlugins, tprAtFpr, type Metric } from '../../src/metrics/index.js';
import { expectClose, loadFixture } from './fixtures.js';

const ref = loadFixture('metrics_ref.json');
const { labels, scores } = ref.cases.random_ties as { labels: number[]; scores: number[] };

const registry = new PluginRegistry([pluginModule(...metricPlugins)]);
const ctx: BuildContext = { seed: 0, registry };
const make = (config: { name: string; [k: string]: unknown } | string) => registry.create<Metric>('metric', config, ctx);

describe('metric plugins', () => {
  it('registers every metric under its kebab-case name', () => {
    expect(registry.names('metric')).toEqual(['accuracy', 'ap', 'auroc', 'balanced-accuracy', 'eer', 'f1-macro', 'map', 'tpr-at-fpr']);
    for (const spec of metricPlugins) expect(spec.kind).toBe('metric');
  });

  it('computes the same values as computeMetrics (both rules)', async () => {
    for (const rule of ['argmax', 'ge'] as const) {
      const m = computeMetrics(labels, scores, { rule });
      const suffix = rule === 'ge' ? '_ge' : '';
      const cases: [string | { name: string; [k: string]: unknown }, string, number][] = [
        ['auroc', 'auroc', m.auroc],
        ['ap', 'ap_fake', m.ap_fake],
        ['map', 'mAP', m.mAP],
        ['eer', 'eer', m.eer],
        ['tpr-at-fpr', 'tpr_at_fpr_1', m.tpr_at_fpr_1],
        [{ name: 'tpr-at-fpr', fpr: 0.05 }, 'tpr_at_fpr_5', m.tpr_at_fpr_5],
        [{ name: 'accuracy', rule }, `accuracy${suffix}`, m.accuracy],
        [{ name: 'balanced-accuracy', rule }, `balanced_accuracy${suffix}`, m.balanced_accuracy],
        [{ name: 'f1-macro', rule }, `f1_macro${suffix}`, m.f1_macro],
      ];
      for (const [config, name, expected] of cases) {
        const metric = await make(config);
        expect(metric.name).toBe(name);
        expectClose(metric.compute(labels, scores), expected, name);
      }
    }
  });

  it('decision-rule metrics default to argmax (official)', async () => {
    const acc = await make('accuracy');
    expect(acc.name).toBe('accuracy');
    expectClose(acc.compute(labels, scores), ref.cases.random_ties['accuracy_at_0.5_gt'], 'accuracy argmax');
    const ge = await make({ name: 'accuracy', rule: 'ge' });
    expectClose(ge.compute(labels, scores), ref.cases.random_ties['accuracy_at_0.5_ge'], 'accuracy ge');
  });

  it('tpr-at-fpr names by percent and validates its options', async () => {
    const m = await make({ name: 'tpr-at-fpr', fpr: 0.001 });
    expect(m.name).toBe('tpr_at_fpr_0.1');
    expectClose(m.compute(labels, scores), tprAtFpr(labels, scores, 0.001), 'tpr@0.1%');
    await expect(make({ name: 'tpr-at-fpr', fpr: 2 })).rejects.toThrow(/fpr/);
    await expect(make({ name: 'accuracy', rule: 'gt' })).rejects.toThrow(/rule/);
    await expect(make({ name: 'auroc', rule: 'ge' })).rejects.toThrow();
  });

  it('returns NaN for one class only', async () => {
    for (const name of ['auroc', 'ap', 'map', 'eer', 'tpr-at-fpr']) {
      expect((await make(name)).compute([1, 1], [0.3, 0.8]), name).toBeNaN();
    }
  });
});
