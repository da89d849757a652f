import { join } from 'node:path';
import { predictFrames, writeJsonAtomic, writeFileAtomic, type CrossDatasetRequest, type CrossDatasetResult, type DatasetAdapter } from '@dfdet/core';
import { createLoader } from '../loader/loader.js';
import { frameAndVideoMetrics } from '../metrics/deepfake.js';
import { writePredictionsCsv } from './predictions-csv.js';
import { csvTable, markdownTable, writeRocPng, type DatasetResult } from './report.js';

/**
 * Cross-dataset evaluation: predictions per dataset (predictions-<dataset>.csv), a table of frame-
 * and video-level metrics (table.md / table.csv / results.json) and ROC curves (roc.png).
 */
export async function evaluateDatasets(req: CrossDatasetRequest): Promise<CrossDatasetResult> {
  const results: DatasetResult[] = [];
  for (const cfg of req.datasets) {
    const adapter = await req.registry.create<DatasetAdapter>('dataset', cfg, { seed: req.seed, registry: req.registry });
    const records = await adapter.index(req.split);
    if (records.length === 0) throw new Error(`dataset ${adapter.name}: no ${req.split} frames`);
    const loader = createLoader({
      records,
      preprocessing: req.model.backbone.preprocessing,
      batchSize: req.batchSize,
      shuffle: false,
      seed: req.seed,
      augmentations: [],
      workers: req.workers,
      onBadFile: req.onBadFile,
      dropLast: false,
      plugins: req.plugins,
    });
    try {
      const preds = await predictFrames(req.model, loader);
      const name = uniqueName(adapter.name, results);
      writePredictionsCsv(join(req.outDir, `predictions-${name}.csv`), preds.map((p) => ({ path: p.path, video: p.video, label: p.label, p_fake: p.pFake })));
      const m = frameAndVideoMetrics(preds.map((p) => ({ video: p.video, label: p.label, pFake: p.pFake })), { rule: req.rule });
      results.push({ dataset: name, frame: { ...m.frame }, video: { ...m.video }, labels: preds.map((p) => p.label), scores: preds.map((p) => p.pFake) });
      req.onDataset?.(name, preds.length, loader.badFiles.length);
    } finally {
      await loader.close();
    }
  }
  const markdown = markdownTable(results);
  writeFileAtomic(join(req.outDir, 'table.md'), `${markdown}\n`);
  writeFileAtomic(join(req.outDir, 'table.csv'), csvTable(results));
  writeJsonAtomic(join(req.outDir, 'results.json'), results.map(({ dataset, frame, video }) => ({ dataset, frame, video })));
  await writeRocPng(join(req.outDir, 'roc.png'), results);
  return { markdown, results: results.map(({ dataset, frame, video }) => ({ dataset, frame, video })) };
}

function uniqueName(name: string, prior: DatasetResult[]): string {
  let n = name;
  for (let i = 2; prior.some((r) => r.dataset === n); i++) n = `${name}-${i}`;
  return n;
}
