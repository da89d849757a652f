import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameRecord, LoaderRequest } from '@dfdet/core';
import { clipProcessorDefaults } from '@dfdet/models';
import { FrameLoader } from '../../src/loader/loader.js';

let dir: string;
let records: FrameRecord[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dfdet-loader-'));
  records = [];
  for (let i = 0; i < 10; i++) {
    const path = join(dir, `f${i}.png`);
    const px = Buffer.alloc(20 * 16 * 3, 0);
    for (let p = 0; p < px.length; p++) px[p] = (p * (i + 3)) % 251;
    await sharp(px, { raw: { width: 20, height: 16, channels: 3 } }).png().toFile(path);
    records.push({ path, video: `v${i >> 1}`, label: (i % 2) as 0 | 1, source: i % 2 ? 'fake' : 'real', dataset: 'toy' });
  }
});

const request = (over: Partial<LoaderRequest> = {}): LoaderRequest => ({
  records,
  preprocessing: clipProcessorDefaults(14),
  batchSize: 4,
  shuffle: true,
  seed: 7,
  augmentations: [],
  workers: 0,
  onBadFile: 'error',
  dropLast: false,
  ...over,
});

async function collect(loader: FrameLoader, epoch: number, start = 0) {
  const out = [];
  for await (const b of loader.epoch(epoch, start)) out.push(b);
  return out;
}

describe('FrameLoader', () => {
  it('yields every frame once per epoch in a seeded order that differs between epochs', async () => {
    const loader = new FrameLoader(request());
    expect(loader.batchesPerEpoch).toBe(3);
    const e0 = await collect(loader, 0);
    expect(e0.map((b) => b.shape)).toEqual([[4, 3, 14, 14], [4, 3, 14, 14], [2, 3, 14, 14]]);
    const paths0 = e0.flatMap((b) => b.records.map((r) => r.path));
    expect([...paths0].sort()).toEqual(records.map((r) => r.path).sort());
    const again = (await collect(new FrameLoader(request()), 0)).flatMap((b) => b.records.map((r) => r.path));
    expect(again).toEqual(paths0);
    const paths1 = (await collect(loader, 1)).flatMap((b) => b.records.map((r) => r.path));
    expect(paths1).not.toEqual(paths0);
    expect(e0[0]!.labels).toEqual(Int32Array.from(e0[0]!.records.map((r) => r.label)));
  });

  it('resumes an epoch at a batch with the same data as an uninterrupted epoch', async () => {
    const full = await collect(new FrameLoader(request()), 3);
    const tail = await collect(new FrameLoader(request()), 3, 1);
    expect(tail.map((b) => b.index)).toEqual([1, 2]);
    expect(tail.map((b) => Array.from(b.pixels))).toEqual(full.slice(1).map((b) => Array.from(b.pixels)));
  });

  it('decodes on worker threads to exactly the same pixels', async () => {
    const inline = await collect(new FrameLoader(request()), 0);
    const threaded = new FrameLoader(request({ workers: 2 }));
    try {
      const viaWorkers = await collect(threaded, 0);
      expect(viaWorkers.map((b) => Array.from(b.pixels))).toEqual(inline.map((b) => Array.from(b.pixels)));
    } finally {
      await threaded.close();
    }
  });

  it('names a bad file, or skips and counts it with on_bad_file: skip', async () => {
    const bad = join(dir, 'broken.png');
    writeFileSync(bad, 'not an image');
    const withBad = [...records, { path: bad, video: 'vx', label: 1 as const, source: 'fake', dataset: 'toy' }];
    await expect(collect(new FrameLoader(request({ records: withBad, shuffle: false })), 0)).rejects.toThrow(/cannot load .*broken\.png/);
    const skipping = new FrameLoader(request({ records: withBad, shuffle: false, onBadFile: 'skip' }));
    const batches = await collect(skipping, 0);
    expect(batches.reduce((n, b) => n + b.shape[0], 0)).toBe(10);
    expect(skipping.badFiles.map((f) => f.path)).toEqual([bad]);
  });

  it('draws class-balanced batches on request', () => {
    const skewed = records.map((r, i) => ({ ...r, label: (i < 8 ? 0 : 1) as 0 | 1 }));
    const order = new FrameLoader(request({ records: skewed, balanced: true })).order(0);
    const fakes = order.filter((i) => skewed[i]!.label === 1).length;
    expect(fakes).toBe(5);
  });
});

afterAll(() => undefined);
