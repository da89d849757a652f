import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { availableEngines, buildRegistry } from '@dfdet/core';
import { runCli } from './cli-run.js';

const BACKENDS = Object.keys(await availableEngines(await buildRegistry([])));

const FIX = resolve(__dirname, '../fixtures/clip-tiny');
const ref = JSON.parse(readFileSync(join(FIX, 'clip_ref.json'), 'utf8')).reference_f64.per_image;

function maxAbs(a: number[], b: number[]) {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
}

describe('exp embed', () => {
  it.each(BACKENDS)('embeds PNGs and the pixel-values tensor identically to the reference (%s)', async (backend) => {
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-embed-'));
    const pngs = [0, 1, 2].map((i) => join(FIX, `img${i}.png`));
    const a = await runCli(['embed', '--weights', FIX, '--backend', backend, '--batch-size', '2', ...pngs, '--output', join(dir, 'a.json')]);
    expect(a.code, a.err).toBe(0);
    expect(a.err).toMatch(new RegExp(`engine: ${backend} on cpu`));
    const b = await runCli(['embed', '--weights', join(FIX, 'model.safetensors'), '--backend', backend, '--pixel-values', join(FIX, 'pixel_values.safetensors'), '--output', join(dir, 'b.json')]);
    expect(b.code, b.err).toBe(0);
    for (const file of ['a.json', 'b.json']) {
      const items = JSON.parse(readFileSync(join(dir, file), 'utf8')).items;
      expect(items).toHaveLength(3);
      items.forEach((it: any, i: number) => {
        expect(maxAbs(it.pooler_output, ref[i].pooler_output)).toBeLessThan(1e-4);
        expect(maxAbs(it.image_embeds, ref[i].image_embeds)).toBeLessThan(1e-4);
        expect(maxAbs(it.image_embeds_normalized, ref[i].image_embeds_normalized)).toBeLessThan(1e-4);
      });
    }
    expect(JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')).items.map((x: any) => x.input)).toEqual(pngs);
  });

  it('fails clearly on a corrupt image, a missing weights path and a wrong tensor name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-embed-'));
    writeFileSync(join(dir, 'bad.png'), 'not a png');
    const bad = await runCli(['embed', '--weights', FIX, '--backend', 'cpu', join(dir, 'bad.png'), '--output', join(dir, 'x.json')]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/bad\.png/);
    const missing = await runCli(['embed', '--weights', join(dir, 'nope'), '--backend', 'cpu', join(FIX, 'img0.png'), '--output', join(dir, 'x.json')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/not found: .*nope/);
    const wrong = await runCli(['embed', '--weights', FIX, '--backend', 'cpu', '--pixel-values', join(FIX, 'model.safetensors'), '--output', join(dir, 'x.json')]);
    expect(wrong.err).toMatch(/no tensor named "pixel_values"/);
  });
});
