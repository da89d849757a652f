import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PluginRegistry, pluginModule, type BuildContext, type Split } from '@dfdet/core';
import { datasetPlugins, type IndexResult, type ReportingAdapter } from '../../src/adapters/index.js';

/** A temp folder removed by `cleanup()`. */
export function tempDir(prefix = 'dfdet-ds-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Creates files (empty unless content is given) under root. */
export function touch(root: string, files: (string | [string, string])[]): void {
  for (const f of files) {
    const [rel, content] = typeof f === 'string' ? [f, ''] : f;
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

/** `<source>/<video>/<frame>` for each video and frames 000…(n-1).png. */
export function frames(source: string, videos: string[], n = 2, ext = 'png'): string[] {
  return videos.flatMap((v) => Array.from({ length: n }, (_, i) => `${source}/${v}/${String(i).padStart(3, '0')}.${ext}`));
}

export const registry = new PluginRegistry([pluginModule(...datasetPlugins)]);
export const ctx: BuildContext = { seed: 0, registry };

export async function make(name: string, options: Record<string, unknown>): Promise<ReportingAdapter> {
  return registry.create<ReportingAdapter>('dataset', { name, ...options }, ctx);
}

export async function indexAll(adapter: ReportingAdapter): Promise<Record<Split, IndexResult>> {
  return {
    train: await adapter.indexWithReport('train'),
    val: await adapter.indexWithReport('val'),
    test: await adapter.indexWithReport('test'),
  };
}

/** Sorted unique video ids of records. */
export const videosOf = (r: IndexResult) => [...new Set(r.records.map((x) => x.video))].sort();
/** video id → label. */
export const labelsOf = (r: IndexResult) => Object.fromEntries(r.records.map((x) => [x.video, x.label]));
