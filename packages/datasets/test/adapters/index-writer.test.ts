import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stats, writeListFiles } from '../../src/adapters/index.js';
import { frames, make, tempDir, touch } from './tree-helpers.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

describe('index writer', () => {
  it("writes <split>.txt and <split>/<source>.txt that file-list reads back to the same records", async () => {
    const root = join(dir, 'datasets/FF');
    touch(root, [...frames('DF', ['000_003'], 2), ...frames('real', ['000', '003'], 2)]);
    const recs = await (await make('folder', { root })).index('test');
    const w = writeListFiles({ out: join(dir, 'config/datasets'), dataset: 'FF', split: 'test', records: recs, relative_to: dir });
    expect(w.files.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      'config/datasets/FF/test.txt',
      'config/datasets/FF/test/DF.txt',
      'config/datasets/FF/test/real.txt',
    ]);
    expect(readFileSync(join(dir, 'config/datasets/FF/test/DF.txt'), 'utf8')).toBe('datasets/FF/DF/000_003/000.png\ndatasets/FF/DF/000_003/001.png\n');
    expect(w.rule_mismatches).toBe(0);
    expect(w.lists).toEqual(['config/datasets/FF/test.txt']);
    const back = await (await make('file-list', { root: dir, lists: { test: [join(dir, 'config/datasets/FF/test.txt')] } })).index('test');
    expect(back).toEqual(recs);
  });

  it('gives per-source entries with label/source where the folder-name rule would be wrong', async () => {
    const root = join(dir, 'ffpp');
    touch(root, [
      ...frames('original_sequences/youtube/c23/frames', ['000', '003'], 1),
      ...['Deepfakes', 'Face2Face', 'FaceSwap', 'NeuralTextures'].flatMap((m) => frames(`manipulated_sequences/${m}/c23/frames`, ['000_003', '003_000'], 1)),
      ['splits/test.json', '[["000", "003"]]'],
    ]);
    const recs = await (await make('ffpp', { root })).index('test');
    const out = join(dir, 'lists');
    const w = writeListFiles({ out, dataset: 'FF++', split: 'test', records: recs });
    expect(w.rule_mismatches).toBe(recs.length);
    expect(w.lists).toContainEqual({ file: join(out, 'FF++/test/real.txt'), label: 0, source: 'real' });
    expect(w.lists).toContainEqual({ file: join(out, 'FF++/test/Deepfakes.txt'), source: 'Deepfakes' });
    const back = await (await make('file-list', { lists: { test: w.lists }, dataset: 'FF++' })).index('test');
    expect(back.map((r) => [r.video, r.label, r.source])).toEqual(recs.map((r) => [r.video, r.label, r.source]));
  });

  it('stats counts per label, source and dataset', () => {
    const r = (video: string, source: string, label: 0 | 1, i: number) => ({ path: `/x/${video}/${i}.png`, video, source, label, dataset: 'D' });
    const s = stats([r('real/a', 'real', 0, 0), r('real/a', 'real', 0, 1), r('DF/a_b', 'DF', 1, 0), r('NT/a_b', 'NT', 1, 0)]);
    expect(s).toEqual({
      frames: 4,
      videos: 3,
      by_label: { real: { frames: 2, videos: 1 }, fake: { frames: 2, videos: 2 } },
      by_source: { DF: { label: 1, frames: 1, videos: 1 }, NT: { label: 1, frames: 1, videos: 1 }, real: { label: 0, frames: 2, videos: 1 } },
      by_dataset: { D: { frames: 4, videos: 3 } },
    });
    expect(writeListFiles({ out: dir, dataset: 'E', split: 'val', records: [] }).files).toEqual([]);
  });
});
