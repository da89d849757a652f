import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { frames, labelsOf, make, tempDir, touch, videosOf } from './tree-helpers.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

const ffFrames = (m: string, v: string) => frames(`FaceForensics++/${m}/c23/frames`, [v], 2);
touch(dir, [
  ...ffFrames('original_sequences/youtube', '000'),
  ...ffFrames('manipulated_sequences/Deepfakes', '000_003'),
  ...frames('Celeb-DF-v2/Celeb-real/frames', ['id0_0000'], 2),
  ...frames('Celeb-DF-v2/Celeb-synthesis/frames', ['id0_id1_0000'], 2),
]);
const entry = (label: string, paths: string[]) => ({ label, frames: paths });
const ff = {
  'FaceForensics++': {
    'FF-real': { train: { c23: { '000': entry('FF-real', ffFrames('original_sequences/youtube', '000')) }, c40: {} }, test: { c23: {} } },
    'FF-DF': {
      train: { c23: { '000_003': entry('FF-DF', ffFrames('manipulated_sequences/Deepfakes', '000_003').map((p) => `/old/rgb/${p.replace(/\//g, '\\')}`)) } },
    },
  },
};
const cdf = {
  'Celeb-DF-v2': {
    CelebDFv2_real: { test: { id0_0000: entry('CelebDFv2_real', frames('Celeb-DF-v2/Celeb-real/frames', ['id0_0000'], 2)) } },
    CelebDFv2_fake: { test: { id0_id1_0000: entry('CelebDFv2_fake', [...frames('Celeb-DF-v2/Celeb-synthesis/frames', ['id0_id1_0000'], 2), 'Celeb-DF-v2/gone.png']) } },
  },
};
touch(dir, [
  ['ff.json', JSON.stringify(ff)],
  ['cdf.json', JSON.stringify(cdf)],
]);

describe('deepfakebench', () => {
  it('reads {dataset: {label: {split: {compression: {video: {frames}}}}}}, re-roots paths', async () => {
    const a = await make('deepfakebench', { json: join(dir, 'ff.json'), root: dir, strip_prefix: '/old/rgb/' });
    const r = await a.indexWithReport('train');
    expect(videosOf(r)).toEqual(['FF-DF/000_003', 'FF-real/000']);
    expect(labelsOf(r)).toEqual({ 'FF-DF/000_003': 1, 'FF-real/000': 0 });
    expect(r.records[0]!.path).toBe(join(dir, 'FaceForensics++/manipulated_sequences/Deepfakes/c23/frames/000_003/000.png'));
    expect(r.records[0]).toMatchObject({ dataset: 'FaceForensics++', source: 'FF-DF', target: '000', identity: '003' });
    expect(await a.index('test')).toEqual([]);
    const c40 = await make('deepfakebench', { json: join(dir, 'ff.json'), root: dir, compression: 'c40', strip_prefix: '/old/rgb/' });
    await expect(c40.index('train')).rejects.toThrow(/no compression level "c40"/);
  });

  it('handles datasets without a compression level; a missing frame fails or is skipped', async () => {
    const a = await make('deepfakebench', { json: join(dir, 'cdf.json'), root: dir });
    await expect(a.index('test')).rejects.toThrow(/gone\.png .*not found/);
    const b = await make('deepfakebench', { json: join(dir, 'cdf.json'), root: dir, on_missing: 'skip' });
    const r = await b.indexWithReport('test');
    expect(labelsOf(r)).toEqual({ 'CelebDFv2_fake/id0_id1_0000': 1, 'CelebDFv2_real/id0_0000': 0 });
    expect(r.report.missing).toBe(1);
  });

  it('names the file on malformed JSON', async () => {
    touch(dir, [['bad.json', '{"x": 1']]);
    const a = await make('deepfakebench', { json: join(dir, 'bad.json') });
    await expect(a.index('test')).rejects.toThrow(/bad\.json is not valid JSON/);
    touch(dir, [['two.json', '{"a": {}, "b": {}}']]);
    await expect((await make('deepfakebench', { json: join(dir, 'two.json') })).index('test')).rejects.toThrow(/has datasets a, b; set dataset/);
  });
});
