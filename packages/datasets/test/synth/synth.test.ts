import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNTH_METHODS, generateSynthetic, renderPristine, synthesizeFake, type SynthManifest } from '../../src/synth/index.js';
import { hashSplit } from '../../src/adapters/index.js';
import { make, tempDir } from '../adapters/tree-helpers.js';

const { dir, cleanup } = tempDir('dfdet-synth-');
afterAll(cleanup);

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

async function pixels(file: string): Promise<Uint8Array> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return new Uint8Array(data);
}

let manifest: SynthManifest;
const A = join(dir, 'a');

beforeAll(async () => {
  manifest = await generateSynthetic({ out: A, videos_per_method: 6, frames_per_video: 4, size: 64, seed: 7 });
});

describe('synthetic generator', () => {
  it('writes <out>/<source>/<video>/<frame>.png and manifest.json; a few hundred frames in well under seconds', async () => {
    const files = listFiles(A);
    expect(files).toContain('manifest.json');
    expect(files).toContain('real/000/000.png');
    expect(files.filter((f) => f.endsWith('.png'))).toHaveLength(5 * 6 * 4);
    expect(manifest.sources).toEqual(['real', ...SYNTH_METHODS]);
    const blend = manifest.videos.find((v) => v.source === 'blend')!;
    expect(blend.video).toMatch(/^\d{3}_\d{3}$/);
    expect(blend.target).not.toBe(blend.identity);
    expect(JSON.parse(readFileSync(join(A, 'manifest.json'), 'utf8'))).toEqual(manifest);
    // a real video and its fakes share a split (split by target identity)
    for (const v of manifest.videos) expect(v.split).toBe(manifest.videos.find((r) => r.source === 'real' && r.target === v.target)!.split);
    expect(new Set(manifest.videos.map((v) => v.split))).toEqual(new Set(['train', 'val', 'test']));

    const t0 = Date.now();
    await generateSynthetic({ out: join(dir, 'speed'), videos_per_method: 20, frames_per_video: 4, size: 64, seed: 1 });
    expect(Date.now() - t0).toBeLessThan(5000); // 400 frames
  });

  it('is deterministic: the same seed gives identical bytes, another seed other images', async () => {
    const B = join(dir, 'b');
    await generateSynthetic({ out: B, videos_per_method: 6, frames_per_video: 4, size: 64, seed: 7 });
    const files = listFiles(A);
    expect(listFiles(B)).toEqual(files);
    for (const f of files) expect(readFileSync(join(B, f)).equals(readFileSync(join(A, f))), f).toBe(true);
    const C = join(dir, 'c');
    await generateSynthetic({ out: C, videos_per_method: 2, frames_per_video: 1, size: 64, seed: 8 });
    expect(readFileSync(join(C, 'real/000/000.png')).equals(readFileSync(join(A, 'real/000/000.png')))).toBe(false);
  });

  it('frames of a video change a little (motion, light), identities differ a lot', async () => {
    const f0 = await pixels(join(A, 'real/000/000.png'));
    const f1 = await pixels(join(A, 'real/000/002.png'));
    const other = await pixels(join(A, 'real/001/000.png'));
    const mad = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    expect(mad(f0, f1)).toBeGreaterThan(1);
    expect(mad(f0, other)).toBeGreaterThan(2 * mad(f0, f1));
  });

  it('each method differs from the real frame of its target only inside its region', async () => {
    for (const m of SYNTH_METHODS) {
      for (const v of manifest.videos.filter((x) => x.source === m)) {
        for (const [fi, frame] of v.frames.entries()) {
          const real = await pixels(join(A, 'real', v.target, frame));
          const fake = await pixels(join(A, m, v.video, frame));
          const [x0, y0, x1, y1] = v.regions![fi]!;
          let inside = 0;
          const outside: string[] = [];
          for (let i = 0; i < real.length; i++) {
            if (real[i] === fake[i]) continue;
            const p = Math.floor(i / 3);
            const x = p % 64;
            const y = Math.floor(p / 64);
            if (x >= x0 && x < x1 && y >= y0 && y < y1) inside++;
            else outside.push(`${x},${y}`);
          }
          expect(outside, `${m}/${v.video}/${frame}: changed outside [${x0},${y0},${x1},${y1})`).toEqual([]);
          expect(inside, `${m}/${v.video}/${frame}`).toBeGreaterThan(30);
          expect((x1 - x0) * (y1 - y0)).toBeLessThan(64 * 64 * 0.5);
        }
      }
    }
  });

  it('synthesizeFake agrees with the written files and renderPristine with the real class', async () => {
    const v = manifest.videos.find((x) => x.source === 'warp')!;
    const t = Number(v.target);
    const d = Number(v.identity);
    const fake = synthesizeFake('warp', { seed: 7, size: 64, target: t, donor: d, frame: 1, frames: 4 });
    expect(await pixels(join(A, 'warp', v.video, '001.png'))).toEqual(fake.rgb);
    expect(await pixels(join(A, 'real', v.target, '001.png'))).toEqual(renderPristine({ seed: 7, size: 64, target: t, frame: 1, frames: 4 }).rgb);
    expect(fake.region).toEqual(v.regions![1]);
    // each method leaves its own artifact: the four fakes of one frame are pairwise different
    const fakes = SYNTH_METHODS.map((m) => Buffer.from(synthesizeFake(m, { seed: 7, size: 64, target: t, donor: d, frame: 1, frames: 4 }).rgb));
    for (let i = 0; i < fakes.length; i++) for (let j = i + 1; j < fakes.length; j++) expect(fakes[i]!.equals(fakes[j]!)).toBe(false);
    // color: a warm cast (red up, blue down) over the face
    const color = synthesizeFake('color', { seed: 7, size: 64, target: t, donor: d, frame: 1, frames: 4 });
    let dr = 0;
    let db = 0;
    for (let i = 0; i < color.rgb.length; i += 3) {
      dr += color.rgb[i]! - color.pristine[i]!;
      db += color.rgb[i + 2]! - color.pristine[i + 2]!;
    }
    expect(dr).toBeGreaterThan(0);
    expect(db).toBeLessThan(0);
  });

  it('rejects bad parameters', async () => {
    await expect(generateSynthetic({ out: join(dir, 'x'), size: 8 })).rejects.toThrow(/size/);
    await expect(generateSynthetic({ out: join(dir, 'x'), methods: ['morph' as never] })).rejects.toThrow(/unknown synthetic method "morph"/);
  });
});

describe('synthetic dataset plugin', () => {
  it("indexes the manifest's split; real → 0, methods → 1; methods filter; hash split", async () => {
    const a = await make('synthetic', { root: A });
    const all = [...(await a.index('train')), ...(await a.index('val')), ...(await a.index('test'))];
    expect(all).toHaveLength(5 * 6 * 4);
    expect(all.every((r) => r.label === (r.source === 'real' ? 0 : 1))).toBe(true);
    const test = await a.index('test');
    const want = manifest.videos.filter((v) => v.split === 'test').map((v) => `${v.source}/${v.video}`).sort();
    expect([...new Set(test.map((r) => r.video))].sort()).toEqual(want);
    const b = await make('synthetic', { root: A, methods: ['color'], include_real: false });
    const rb = [...(await b.index('train')), ...(await b.index('val')), ...(await b.index('test'))];
    expect(new Set(rb.map((r) => r.source))).toEqual(new Set(['color']));
    const h = await make('synthetic', { root: A, split: 'hash' });
    for (const r of await h.index('val')) expect(hashSplit(r.target!)).toBe('val');
    await expect((await make('synthetic', { root: A, methods: ['morph'] })).index('test')).rejects.toThrow(/method "morph" is not in/);
    await expect((await make('synthetic', { root: join(dir, 'none') })).index('test')).rejects.toThrow(/no manifest\.json/);
  });
});
