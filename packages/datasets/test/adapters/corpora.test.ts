import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { frames, indexAll, labelsOf, make, tempDir, touch, videosOf } from './tree-helpers.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);
let n = 0;
/** A fresh corpus folder. */
const corpus = (files: (string | [string, string])[]) => {
  const root = join(dir, `c${n++}`);
  touch(root, files);
  return root;
};

const FF_SPLITS: [string, string][] = [
  ['splits/train.json', JSON.stringify([['000', '003']])],
  ['splits/val.json', JSON.stringify([['001', '002']])],
  ['splits/test.json', JSON.stringify([['004', '005']])],
];
const ffVideos = (ids: string[][]) => ({ real: ids.flat(), fake: ids.flatMap(([a, b]) => [`${a}_${b}`, `${b}_${a}`]) });
const ALL = ffVideos([['000', '003'], ['001', '002'], ['004', '005']]);

describe('ffpp', () => {
  it("flat paper layout with the official pair splits: pair [a, b] → real a, b and fakes a_b, b_a", async () => {
    const root = corpus([
      ...['DF', 'F2F', 'FS', 'NT'].flatMap((m) => frames(m, ALL.fake, 2)),
      ...frames('real', ALL.real, 3),
      ...FF_SPLITS,
    ]);
    const r = await indexAll(await make('ffpp', { root }));
    expect(videosOf(r.train)).toEqual([
      'Deepfakes/000_003', 'Deepfakes/003_000', 'Face2Face/000_003', 'Face2Face/003_000',
      'FaceSwap/000_003', 'FaceSwap/003_000', 'NeuralTextures/000_003', 'NeuralTextures/003_000', 'real/000', 'real/003',
    ]);
    expect(videosOf(r.test)).toContain('real/005');
    expect(videosOf(r.val)).toContain('Deepfakes/002_001');
    expect(r.train.records).toHaveLength(8 * 2 + 2 * 3);
    expect(labelsOf(r.train)['real/000']).toBe(0);
    expect(labelsOf(r.train)['FaceSwap/003_000']).toBe(1);
    expect(r.train.records.find((x) => x.video === 'Deepfakes/003_000')).toMatchObject({ target: '003', identity: '000', dataset: 'FF++' });
  });

  it('official tree by compression level; FaceShifter on request; absent videos fail or are skipped', async () => {
    const tree = (c: string, ids: { real: string[]; fake: string[] }) => [
      ...['Deepfakes', 'Face2Face', 'FaceSwap', 'NeuralTextures', 'FaceShifter'].flatMap((m) => frames(`manipulated_sequences/${m}/${c}/frames`, ids.fake, 1)),
      ...frames(`original_sequences/youtube/${c}/frames`, ids.real, 1),
    ];
    const root = corpus([...tree('c23', ALL), ...tree('c40', ffVideos([['000', '003']])), ...FF_SPLITS]);
    const c23 = await make('ffpp', { root, methods: ['FaceShifter'] });
    expect(videosOf(await c23.indexWithReport('test'))).toEqual(['FaceShifter/004_005', 'FaceShifter/005_004', 'real/004', 'real/005']);
    const c40 = await make('ffpp', { root, compression: 'c40' });
    expect((await c40.index('train')).length).toBe(10);
    await expect(c40.index('test')).rejects.toThrow(/ffpp: .* is named by the split\/label source but has no frames/);
    const skip = await make('ffpp', { root, compression: 'c40', on_missing: 'skip' });
    const t = await skip.indexWithReport('test');
    expect(t.records).toEqual([]);
    expect(t.report.missing).toBe(10);
  });

  it('needs the split files and the source folders', async () => {
    const root = corpus(frames('DF', ['000_003'], 1));
    await expect((await make('ffpp', { root })).index('train')).rejects.toThrow(/no folder for source "Face2Face"/);
    const root2 = corpus([...['DF', 'F2F', 'FS', 'NT', 'real'].flatMap((m) => frames(m, ['000_003'], 1))]);
    await expect((await make('ffpp', { root: root2 })).index('train')).rejects.toThrow(/split folder .*splits not found; set split_dir/);
    const bad = corpus([...['DF', 'F2F', 'FS', 'NT', 'real'].flatMap((m) => frames(m, ['000_003'], 1)), ['splits/train.json', '[["000"]]']]);
    await expect((await make('ffpp', { root: bad })).index('train')).rejects.toThrow(/train\.json: entry 0 is \["000"\], expected a pair/);
  });
});

describe('dfd', () => {
  it('actors real, DeepFakeDetection fake, all in test', async () => {
    const root = corpus([
      ...frames('original_sequences/actors/c23/frames', ['01__exit_phone_room'], 2),
      ...frames('manipulated_sequences/DeepFakeDetection/c23/frames', ['01_02__exit_phone_room__YVGY8LOK'], 2),
    ]);
    const r = await indexAll(await make('dfd', { root }));
    expect(r.train.records).toEqual([]);
    expect(labelsOf(r.test)).toEqual({ 'DeepFakeDetection/01_02__exit_phone_room__YVGY8LOK': 1, 'real/01__exit_phone_room': 0 });
    expect(r.test.records[0]).toMatchObject({ target: '01', identity: '02' });
  });
});

describe('celeb-df', () => {
  const tree = () => [
    ...frames('Celeb-real', ['id0_0000', 'id0_0001'], 2),
    ...frames('YouTube-real', ['00000', '00001'], 2),
    ...frames('Celeb-synthesis', ['id0_id1_0000', 'id0_id1_0001'], 2),
  ];
  // 1 = REAL in this file
  const list: [string, string] = ['List_of_testing_videos.txt', '1 YouTube-real/00001.mp4\n1 Celeb-real/id0_0001.mp4\n0 Celeb-synthesis/id0_id1_0001.mp4\n'];

  it('v2: test = List_of_testing_videos.txt (1 = real there), train = the rest, no val', async () => {
    const root = corpus([...tree(), list]);
    const r = await indexAll(await make('celeb-df-v2', { root }));
    expect(labelsOf(r.test)).toEqual({ 'Celeb-real/id0_0001': 0, 'Celeb-synthesis/id0_id1_0001': 1, 'YouTube-real/00001': 0 });
    expect(videosOf(r.train)).toEqual(['Celeb-real/id0_0000', 'Celeb-synthesis/id0_id1_0000', 'YouTube-real/00000']);
    expect(r.val.records).toEqual([]);
    expect(r.test.records.find((x) => x.source === 'Celeb-synthesis')).toMatchObject({ target: 'id0', identity: 'id1', dataset: 'Celeb-DF-v2' });
  });

  it('v2: a list label that contradicts the folder is an error; the list is required', async () => {
    const root = corpus([...tree(), ['List_of_testing_videos.txt', '0 Celeb-real/id0_0001.mp4\n']]);
    await expect((await make('celeb-df-v2', { root })).index('test')).rejects.toThrow(/:1: the test list says fake \(0\) but Celeb-real\/id0_0001 is in a real folder/);
    const bare = corpus(tree());
    await expect((await make('celeb-df-v2', { root: bare })).index('train')).rejects.toThrow(/List_of_testing_videos\.txt not found/);
    const garbled = corpus([...tree(), ['List_of_testing_videos.txt', 'yes YouTube-real/00001.mp4\n']]);
    await expect((await make('celeb-df-v2', { root: garbled })).index('test')).rejects.toThrow(/:1: expected "<1\|0> <folder>\/<video>\.mp4"/);
  });

  it('v1: same layout', async () => {
    const root = corpus([...tree(), list]);
    expect((await make('celeb-df-v1', { root })).name).toBe('Celeb-DF-v1');
    expect(videosOf(await (await make('celeb-df-v1', { root })).indexWithReport('test'))).toHaveLength(3);
  });

  it('v3 (assumed layout): every folder a source, real by name; without a list all in test', async () => {
    const root = corpus([...tree(), ...frames('FaceFusion', ['id0_id1_0000'], 1)]);
    const r = await indexAll(await make('celeb-df-v3', { root }));
    expect(r.train.records).toEqual([]);
    expect(labelsOf(r.test)).toMatchObject({ 'Celeb-real/id0_0000': 0, 'YouTube-real/00000': 0, 'FaceFusion/id0_id1_0000': 1, 'Celeb-synthesis/id0_id1_0000': 1 });
  });
});

describe('dfdc', () => {
  it('test from labels.csv (1 = fake), train from metadata.json, val from val_labels_csv', async () => {
    const root = corpus([
      ...frames('test/frames', ['aaa', 'bbb'], 2),
      ['test/labels.csv', 'filename,label\naaa.mp4,1\nbbb.mp4,0\n'],
      ...frames('dfdc_train_part_0', ['ccc', 'ddd'], 1),
      ['dfdc_train_part_0/metadata.json', JSON.stringify({ 'ccc.mp4': { label: 'FAKE', split: 'train', original: 'ddd.mp4' }, 'ddd.mp4': { label: 'REAL', split: 'train' } })],
    ]);
    const r = await indexAll(await make('dfdc', { root }));
    expect(labelsOf(r.test)).toEqual({ 'fake/aaa': 1, 'real/bbb': 0 });
    expect(labelsOf(r.train)).toEqual({ 'fake/ccc': 1, 'real/ddd': 0 });
    expect(r.val.records).toEqual([]);
    touch(root, [['val.csv', 'filename,label\nccc.mp4,1\n']]);
    expect(labelsOf(await (await make('dfdc', { root, val_labels_csv: join(root, 'val.csv') })).indexWithReport('val'))).toEqual({ 'fake/ccc': 1 });
  });

  it('labels.csv entries without frames fail or are skipped; bad rows name the line', async () => {
    const root = corpus([...frames('test', ['aaa'], 1), ['labels.csv', 'filename,label\naaa.mp4,1\nzzz.mp4,0\n']]);
    await expect((await make('dfdc', { root })).index('test')).rejects.toThrow(/labels\.csv: zzz is named by the split\/label source/);
    const r = await (await make('dfdc', { root, on_missing: 'skip' })).indexWithReport('test');
    expect(r.report.missing).toBe(1);
    const bad = corpus([...frames('test', ['aaa'], 1), ['labels.csv', 'filename,label\naaa.mp4,maybe\n']]);
    await expect((await make('dfdc', { root: bad })).index('test')).rejects.toThrow(/labels\.csv:2: expected "<video>\.mp4,<0\|1>"/);
  });

  it('dfdc-preview: dataset.json label/set; frames at the video path without .mp4', async () => {
    const root = corpus([
      ...frames('method_A/1224068/1224068_A', ['00000'], 1),
      ...frames('original_videos/1224068', ['00000', '00001'], 1),
      [
        'dataset.json',
        JSON.stringify({
          'method_A/1224068/1224068_A/00000.mp4': { label: 'fake', set: 'test' },
          'original_videos/1224068/00000.mp4': { label: 'real', set: 'test' },
          'original_videos/1224068/00001.mp4': { label: 'real', set: 'train' },
        }),
      ],
    ]);
    const r = await indexAll(await make('dfdc-preview', { root }));
    expect(labelsOf(r.test)).toEqual({ 'method_A/1224068/1224068_A/00000': 1, 'original_videos/1224068/00000': 0 });
    expect(r.test.records.map((x) => x.source).sort()).toEqual(['method_A', 'real']);
    expect(videosOf(r.train)).toEqual(['original_videos/1224068/00001']);
  });
});

describe('other corpora', () => {
  it('ffiw: source/<split> real, target/<split> fake; flat real/fake in test', async () => {
    const root = corpus([...frames('source/train', ['00000'], 1), ...frames('target/train', ['00000'], 1), ...frames('source/val', ['00001'], 1), ...frames('target/test', ['00002'], 1)]);
    const r = await indexAll(await make('ffiw', { root }));
    expect(labelsOf(r.train)).toEqual({ 'real/00000': 0, 'fake/00000': 1 });
    expect(videosOf(r.val)).toEqual(['real/00001']);
    expect(videosOf(r.test)).toEqual(['fake/00002']);
    const flat = corpus([...frames('real', ['a'], 1), ...frames('fake', ['b'], 1)]);
    expect(labelsOf(await (await make('ffiw', { root: flat })).indexWithReport('test'))).toEqual({ 'real/a': 0, 'fake/b': 1 });
  });

  it('deeperforensics: manipulated_videos/<variant> fake by lists/splits; source_videos real in test', async () => {
    const root = corpus([
      ...frames('manipulated_videos/end_to_end', ['000_M101', '001_M102'], 1),
      ...frames('manipulated_videos/reenact_postprocess', ['000_M101'], 1),
      'source_videos/M101/BlendShape/camera_front/000.png',
      ['lists/splits/train.txt', '000_M101.mp4\n'],
      ['lists/splits/val.txt', ''],
      ['lists/splits/test.txt', '001_M102.mp4\n'],
    ]);
    const r = await indexAll(await make('deeperforensics', { root }));
    expect(labelsOf(r.train)).toEqual({ 'end_to_end/000_M101': 1 });
    expect(labelsOf(r.test)).toEqual({ 'end_to_end/001_M102': 1, 'real/M101/BlendShape/camera_front': 0 });
    expect(r.train.records[0]).toMatchObject({ target: '000', identity: 'M101' });
    const v = await make('deeperforensics', { root, variant: 'reenact_postprocess' });
    expect(videosOf(await v.indexWithReport('train'))).toEqual(['reenact_postprocess/000_M101']);
  });

  it('wilddeepfake: {real,fake}_{train,test} folders, sequences at any depth', async () => {
    const root = corpus(['real_train/1/real/0/000.png', 'real_train/1/real/0/001.png', 'fake_train/7/fake/3/000.png', 'real_test/2/real/0/000.png', 'fake_test/9/fake/1/000.png']);
    const r = await indexAll(await make('wilddeepfake', { root }));
    expect(labelsOf(r.train)).toEqual({ 'real_train/1/real/0': 0, 'fake_train/7/fake/3': 1 });
    expect(labelsOf(r.test)).toEqual({ 'real_test/2/real/0': 0, 'fake_test/9/fake/1': 1 });
    expect(r.val.records).toEqual([]);
  });

  it('uadfv: real/ and fake/ (…_fake), all in test', async () => {
    const root = corpus([...frames('real', ['0000'], 2), ...frames('fake', ['0000_fake'], 2)]);
    const r = await indexAll(await make('uadfv', { root }));
    expect(labelsOf(r.test)).toEqual({ 'real/0000': 0, 'fake/0000_fake': 1 });
    expect(r.test.records.every((x) => x.target === '0000')).toBe(true);
    expect(r.train.records).toEqual([]);
  });

  it('fakeavceleb: visual labels from the category folder; RealVideo-FakeAudio real, fake or left out', async () => {
    const root = corpus([
      ...frames('RealVideo-RealAudio/African/men/id00076', ['00109'], 1),
      ...frames('RealVideo-FakeAudio/African/men/id00076', ['00109_fake'], 1),
      ...frames('FakeVideo-FakeAudio/African/men/id00076', ['00109_id00166_wavtolip'], 1),
      ...frames('FakeVideo-RealAudio/African/men/id00076', ['00109_id00166'], 1),
    ]);
    const r = await (await make('fakeavceleb', { root })).indexWithReport('test');
    expect(labelsOf(r)).toEqual({
      'RealVideo-RealAudio/African/men/id00076/00109': 0,
      'RealVideo-FakeAudio/African/men/id00076/00109_fake': 0,
      'FakeVideo-FakeAudio/African/men/id00076/00109_id00166_wavtolip': 1,
      'FakeVideo-RealAudio/African/men/id00076/00109_id00166': 1,
    });
    expect(r.records.find((x) => x.source === 'FakeVideo-FakeAudio')).toMatchObject({ target: 'id00076', identity: 'id00166' });
    const ex = await (await make('fakeavceleb', { root, real_video_fake_audio: 'exclude' })).index('test');
    expect(ex.some((x) => x.source === 'RealVideo-FakeAudio')).toBe(false);
  });

  it('kodf (assumed): original_videos real, synthesized_videos/<method> fake', async () => {
    const root = corpus(['original_videos/a1/v1/000.png', 'synthesized_videos/fsgan/a1/v1/000.png', 'synthesized_videos/wav2lip/a1/v2/000.png']);
    expect(labelsOf(await (await make('kodf', { root })).indexWithReport('test'))).toEqual({ 'real/a1/v1': 0, 'fsgan/a1/v1': 1, 'wav2lip/a1/v2': 1 });
  });

  it('dfdm: one folder per model, real from real_dir', async () => {
    const cdf = corpus(frames('Celeb-real', ['id0_0000'], 1));
    const root = corpus([...frames('dfaker', ['id0_id1_0000'], 1), ...frames('DFL-H128', ['id0_id1_0000'], 1), ...frames('IAE', ['id0_id1_0000'], 1), ...frames('lightweight', ['id0_id1_0000'], 1)]);
    const r = await (await make('dfdm', { root, real_dir: join(cdf, 'Celeb-real') })).indexWithReport('test');
    expect(labelsOf(r)).toEqual({ 'dfaker/id0_id1_0000': 1, 'dfl/id0_id1_0000': 1, 'iae/id0_id1_0000': 1, 'lightweight/id0_id1_0000': 1, 'Celeb-real/id0_0000': 0 });
    await expect((await make('dfdm', { root, models: ['faceswap'] })).index('test')).rejects.toThrow(/no folder for source "faceswap"/);
  });

  it('deepspeak: <split>/<type> or <split>-<type>; type real is real', async () => {
    const root = corpus([...frames('train/real', ['v1'], 1), ...frames('train/wav2lip', ['v2'], 1), ...frames('test-facefusion', ['v3'], 1), ...frames('test-real', ['v4'], 1)]);
    const r = await indexAll(await make('deepspeak', { root }));
    expect(labelsOf(r.train)).toEqual({ 'real/v1': 0, 'wav2lip/v2': 1 });
    expect(labelsOf(r.test)).toEqual({ 'facefusion/v3': 1, 'real/v4': 0 });
  });

  it('polyglotfake / idforge (assumed): folders as sources, real by name, split folders if present', async () => {
    const flat = corpus(['real/en/v1/000.png', 'fake/en/v2/000.png', 'original_clips/v3/000.png']);
    expect(labelsOf(await (await make('polyglotfake', { root: flat })).indexWithReport('test'))).toEqual({ 'real/en/v1': 0, 'fake/en/v2': 1, 'original_clips/v3': 0 });
    const split = corpus(['train/real/v1/000.png', 'train/swap/v2/000.png', 'test/lipsync/v3/000.png']);
    const r = await indexAll(await make('idforge', { root: split }));
    expect(labelsOf(r.train)).toEqual({ 'real/v1': 0, 'swap/v2': 1 });
    expect(labelsOf(r.test)).toEqual({ 'lipsync/v3': 1 });
  });

  it('split_lists replaces any corpus split', async () => {
    const root = corpus([...frames('real', ['0000', '0001'], 1), ...frames('fake', ['0000_fake'], 1), ['train.txt', 'real/0000\n0000_fake\n']]);
    const r = await indexAll(await make('uadfv', { root, split_lists: { train: join(root, 'train.txt') } }));
    expect(videosOf(r.train)).toEqual(['fake/0000_fake', 'real/0000']);
    expect(r.test.records).toEqual([]);
  });

  it('an empty or wrong root is a clear error', async () => {
    const root = corpus(['readme.txt']);
    await expect((await make('polyglotfake', { root })).index('test')).rejects.toThrow(/polyglotfake: no frames found under/);
  });
});
