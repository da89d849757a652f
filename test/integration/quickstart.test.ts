import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-run.js';

const ROOT = resolve(__dirname, '../..');

describe('experiments/quickstart.yaml', () => {
  it('generates its data, trains, and prints the seen/unseen table (shortened: 1 epoch, small set)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-qs-'));
    const data = join(dir, 'synthetic');
    const roots = ['train.0', 'val.0', 'test.0', 'test.1', 'test.2', 'test.3'].map((k) => `data.${k}.root=${data}`);
    const r = await runCli([
      'run',
      join(ROOT, 'experiments/quickstart.yaml'),
      '--run',
      'q',
      '--set',
      `output.dir=${join(dir, 'runs')}`,
      '--set',
      'trainer.epochs=1',
      '--set',
      'data.train.0.generate.videos_per_method=8',
      '--set',
      'data.workers=0',
      '--set',
      'engine.backend=wasm',
      ...roots.flatMap((s) => ['--set', s]),
    ]);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(data, 'manifest.json'))).toBe(true);
    const runDir = join(dir, 'runs', 'quickstart', 'q');
    const table = readFileSync(join(runDir, 'eval', 'table.md'), 'utf8');
    for (const name of ['seen-blend', 'seen-color', 'unseen-texture', 'unseen-warp']) expect(table).toContain(`| ${name} |`);
    expect(r.out).toMatch(/test results \(best checkpoint\)/);
    expect(JSON.parse(readFileSync(join(runDir, 'meta.json'), 'utf8')).status).toBe('completed');
  });
});
