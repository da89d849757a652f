import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { frames, labelsOf, make, tempDir, touch, videosOf } from './tree-helpers.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

// the paper's layout: datasets/FF/<source>/<video>/<frame>, lists in config/datasets/FF/<split>/<source>.txt
touch(dir, [
  ...frames('datasets/FF/DF', ['000_003', '001_002'], 4).map((f) => f),
  ...frames('datasets/FF/real', ['000', '001'], 4),
  ...frames('datasets/CDF/YouTube-real', ['00000'], 2),
]);
const rel = (s: string) => s; // list lines are relative to root (dir)
touch(dir, [
  ['config/datasets/FF/train/DF.txt', `# deepfakes\n\n${frames('datasets/FF/DF', ['001_002', '000_003'], 4).map(rel).join('\n')}\n`],
  ['config/datasets/FF/train/real.txt', `${frames('datasets/FF/real', ['000', '001'], 4).join('\r\n')}\r\n`],
  // paths relative to the list file's own folder
  ['datasets/CDF/test.txt', 'YouTube-real/00000/000.png\nYouTube-real/00000/001.png\n'],
]);

const lists = (train: unknown[], extra: Record<string, unknown> = {}) => make('file-list', { root: dir, lists: { train }, ...extra });
const trainLists = [join(dir, 'config/datasets/FF/train/DF.txt'), join(dir, 'config/datasets/FF/train/real.txt')];

describe('file-list', () => {
  it("indexes the paper's list files: labels from the source folder, video = source/video, sorted", async () => {
    const a = await lists(trainLists);
    const r = await a.indexWithReport('train');
    expect(r.records).toHaveLength(16);
    expect(videosOf(r)).toEqual(['DF/000_003', 'DF/001_002', 'real/000', 'real/001']);
    expect(labelsOf(r)).toEqual({ 'DF/000_003': 1, 'DF/001_002': 1, 'real/000': 0, 'real/001': 0 });
    const first = r.records[0]!;
    expect(first).toMatchObject({ video: 'DF/000_003', source: 'DF', dataset: 'FF', target: '000', identity: '003', frame: '000.png', label: 1 });
    expect(first.path).toBe(join(dir, 'datasets/FF/DF/000_003/000.png'));
    const order = r.records.map((x) => `${x.video} ${x.path}`);
    expect(order).toEqual([...order].sort());
    expect(await a.index('val')).toEqual([]);
  });

  it("resolves paths against the list file's folder, then root; labels YouTube-real as real", async () => {
    const a = await make('file-list', { root: '/nonexistent', lists: { test: [join(dir, 'datasets/CDF/test.txt')] }, dataset: 'CDF' });
    const recs = await a.index('test');
    expect(recs.map((x) => [x.video, x.label, x.dataset])).toEqual([
      ['YouTube-real/00000', 0, 'CDF'],
      ['YouTube-real/00000', 0, 'CDF'],
    ]);
  });

  it('resolves list files themselves against root', async () => {
    const a = await lists(['config/datasets/FF/train/DF.txt']);
    expect(await a.index('train')).toHaveLength(8);
  });

  it('frames_per_video keeps uniformly spaced frames; max_files whole videos; duplicates once', async () => {
    const a = await lists([...trainLists, trainLists[0]!], { frames_per_video: 2 });
    const r = await a.index('train');
    expect(r).toHaveLength(8);
    expect(r.filter((x) => x.video === 'DF/000_003').map((x) => x.frame)).toEqual(['000.png', '003.png']);
    const b = await lists(trainLists, { max_files: 6 });
    const rb = await b.index('train');
    expect(rb).toHaveLength(6);
    expect(new Set(rb.map((x) => x.video)).size).toBe(2);
  });

  it('a list entry can set the label and source of its lines', async () => {
    const a = await lists([{ file: trainLists[1], label: 'fake', source: 'mystery' }]);
    const r = await a.index('train');
    expect(new Set(r.map((x) => `${x.source} ${x.label} ${x.video.split('/')[0]}`))).toEqual(new Set(['mystery 1 mystery']));
  });

  it('a missing path is an error naming the list file and line; on_missing: skip counts it', async () => {
    touch(dir, [['config/bad.txt', `${frames('datasets/FF/real', ['000'], 1)[0]}\n# comment\ndatasets/FF/real/999/000.png\n`]]);
    const file = join(dir, 'config/bad.txt');
    const a = await lists([file]);
    await expect(a.index('train')).rejects.toThrow(`${file}:3: datasets/FF/real/999/000.png not found`);
    const b = await lists([file], { on_missing: 'skip' });
    const r = await b.indexWithReport('train');
    expect(r.records).toHaveLength(1);
    expect(r.report.missing).toBe(1);
    expect(r.report.missing_examples[0]).toContain(`${file}:3`);
  });

  it('a missing list file is an error naming it', async () => {
    const a = await lists([join(dir, 'config/nope.txt')]);
    await expect(a.index('train')).rejects.toThrow(/list file \(train\) not found: .*config\/nope\.txt/);
  });

  it('bounds list size and line length, rejects control characters', async () => {
    touch(dir, [
      ['config/long.txt', `datasets/FF/real/000/000.png\n${'x'.repeat(5000)}\n`],
      ['config/bin.txt', 'datasets/FF/real/000/000.png\n\u0000\u0001\u0002\n'],
    ]);
    await expect((await lists([join(dir, 'config/long.txt')])).index('train')).rejects.toThrow(/long\.txt:2: line is 5000 characters, over the limit of 4096/);
    await expect((await lists([join(dir, 'config/bin.txt')])).index('train')).rejects.toThrow(/bin\.txt:2: control character U\+0000/);
    await expect((await lists([trainLists[0]!], { max_list_bytes: 10 })).index('train')).rejects.toThrow(/bytes, over the limit of 10/);
  });

  it('rejects unknown options and bad on_missing values', async () => {
    await expect(make('file-list', { lists: { trian: [] } })).rejects.toThrow(/file-list/);
    await expect(make('file-list', { on_missing: 'ignore' })).rejects.toThrow(/on_missing/);
  });
});
