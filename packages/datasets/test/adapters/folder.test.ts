import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { frames, indexAll, labelsOf, make, tempDir, touch, videosOf } from './tree-helpers.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

const root = join(dir, 'FF');
touch(root, [
  ...frames('DF', ['000_003', '003_000', '100_101'], 3),
  ...frames('NT', ['000_003'], 2, 'JPG'),
  ...frames('real', ['000', '003', '100'], 3, 'webp'),
  'real/000/notes.txt',
  'real/stray.png', // not in a video folder
]);
touch(dir, [['split.json', JSON.stringify({ train: ['0*'], test: ['1*'], val: ['real/003'] })]]);

describe('folder', () => {
  it('scans <source>/<video>/<frame> for png/jpg/jpeg/webp; labels by source name; all videos in every split', async () => {
    const a = await make('folder', { root });
    const r = await indexAll(a);
    expect(videosOf(r.train)).toEqual(['DF/000_003', 'DF/003_000', 'DF/100_101', 'NT/000_003', 'real/000', 'real/003', 'real/100']);
    expect(r.test.records).toEqual(r.train.records);
    expect(r.train.records).toHaveLength(20);
    expect(labelsOf(r.train)['real/000']).toBe(0);
    expect(labelsOf(r.train)['NT/000_003']).toBe(1);
    expect(r.train.records[0]).toMatchObject({ dataset: 'FF', target: '000', identity: '003' });
    expect(r.train.records.some((x) => x.path.endsWith('notes.txt') || x.path.endsWith('stray.png'))).toBe(false);
  });

  it('filters sources and splits by video-name globs (inline or JSON)', async () => {
    const a = await make('folder', { root, sources: ['DF', 'real'], splits: { train: ['0*'], test: ['1*'] } });
    const r = await indexAll(a);
    expect(videosOf(r.train)).toEqual(['DF/000_003', 'DF/003_000', 'real/000', 'real/003']);
    expect(videosOf(r.test)).toEqual(['DF/100_101', 'real/100']);
    expect(r.val.records).toEqual([]);
    const b = await make('folder', { root, splits: join(dir, 'split.json') });
    expect(videosOf(await b.indexWithReport('val'))).toEqual(['real/003']);
  });

  it('names an unknown source', async () => {
    const a = await make('folder', { root, sources: ['F2F'] });
    await expect(a.index('train')).rejects.toThrow('source "F2F" has no videos');
  });
});
