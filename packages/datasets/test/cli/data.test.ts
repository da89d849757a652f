import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dataCommand, dataCommands, indexHandler, statsHandler, synthHandler } from '../../src/cli/index.js';
import { tempDir } from '../adapters/tree-helpers.js';

const { dir, cleanup } = tempDir('dfdet-cli-');
afterAll(cleanup);

let stdout: string[];
let stderr: string[];
beforeEach(() => {
  stdout = [];
  stderr = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (stdout.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (stderr.push(String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const synthDir = join(dir, 'datasets/synthetic');

describe('exp data', () => {
  it('is one `data <command>` module with prepare, synth, index and stats', () => {
    expect(dataCommands).toEqual([dataCommand]);
    expect(dataCommand.command).toBe('data <command>');
    const registered: string[] = [];
    const y: any = { command: (c: { command: string }) => (registered.push(c.command), y), demandCommand: () => y };
    (dataCommand.builder as (y: unknown) => unknown)(y);
    expect(registered).toEqual(['prepare', 'synth', 'index <corpus>', 'stats <corpus>']);
  });

  it('data synth writes the set, progress on stderr, summary on stdout', async () => {
    await synthHandler({ out: synthDir, videos: 4, frames: 3, size: 32, seed: 3 });
    expect(existsSync(join(synthDir, 'manifest.json'))).toBe(true);
    expect(existsSync(join(synthDir, 'warp'))).toBe(true);
    expect(stdout.join('')).toMatch(/wrote 60 frames of 20 videos \(real, blend, texture, color, warp\)/);
    expect(stderr.join('')).toMatch(/synth: 60\/60 frames \(100%\)/);
    await expect(synthHandler({ out: synthDir, videos: 1, frames: 1, size: 32, seed: 0, methods: ['morph'] })).rejects.toThrow(/unknown method "morph"/);
  });

  it('data index writes list files and prints counts; data stats prints them', async () => {
    const out = join(dir, 'config/datasets');
    const res = await indexHandler({ corpus: 'synthetic', root: synthDir, out, set: ['methods=[blend, color]'] });
    const total = Object.values(res).reduce((s, x) => s + x.frames, 0);
    expect(total).toBe(3 * 4 * 3);
    expect(existsSync(join(out, 'synthetic/train.txt'))).toBe(true);
    expect(existsSync(join(out, 'synthetic/train/blend.txt'))).toBe(true);
    expect(existsSync(join(out, 'synthetic/train/texture.txt'))).toBe(false);
    const text = stdout.join('');
    expect(text).toMatch(/^train\s+\d+ frames\s+\d+ videos\s+real \d+\/\d+\s+fake \d+\/\d+/m);
    expect(text).toContain('file-list config: {"name":"file-list","dataset":"synthetic"');
    expect(stderr.join('')).toContain('synthetic: indexing train');
    const lines = readFileSync(join(out, 'synthetic/train.txt'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(res.train!.frames);

    stdout = [];
    const st = await statsHandler({ corpus: 'synthetic', root: synthDir, json: true, splits: ['test,val'] });
    expect(Object.keys(st)).toEqual(['test', 'val']);
    expect(JSON.parse(stdout.join(''))).toEqual(st);
    expect(st.test!.by_source.real!.label).toBe(0);
  });

  it('reports unknown corpora, bad options and bad splits as user errors', async () => {
    await expect(statsHandler({ corpus: 'ffp', root: dir })).rejects.toThrow(/unknown dataset plugin "ffp" \(did you mean "ffpp"\?\)/);
    await expect(statsHandler({ corpus: 'synthetic', root: synthDir, set: ['split=random'] })).rejects.toThrow(/split/);
    await expect(statsHandler({ corpus: 'synthetic', root: synthDir, splits: ['dev'] })).rejects.toThrow(/--splits: "dev"/);
  });
});
