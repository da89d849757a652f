import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { runExp } from '../src/testing.js';
import { tempTree } from './helpers/tmp.js';

const run = runExp;

afterEach(() => vi.restoreAllMocks());

describe('exp CLI', () => {
  it('config prints the resolved config with overrides applied', async () => {
    const dir = tempTree({ 'base.yaml': 'seed: 1\n', 'exp.yaml': 'extends: base.yaml\nname: demo\n' });
    const r = await run(['config', join(dir, 'exp.yaml'), '--set', 'seed=7']);
    expect(r.code).toBe(0);
    expect(parse(r.out)).toMatchObject({ name: 'demo', seed: 7, plugins: [], output: { dir: 'runs' } });
  });

  it('config exits non-zero with a one-line error and no stack for bad input', async () => {
    const dir = tempTree({ 'exp.yaml': 'seed: -3\nsede: 1\n' });
    const r = await run(['config', join(dir, 'exp.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/seed: /);
    expect(r.err).toMatch(/sede: unknown key \(did you mean "seed"\?\)/);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);
  });

  it('list shows plugins with options and defaults, per kind', async () => {
    const r = await run(['list', 'logger']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/logger:\n {2}console — /);
    expect(r.out).toMatch(/every_n_steps: integer > 0 = 10/);
    const j = await run(['list', '--json']);
    expect(JSON.parse(j.out).logger.map((p: { name: string }) => p.name)).toContain('jsonl');
  });

  it('list includes a third-party plugin given with --plugin', async () => {
    const example = resolve(__dirname, '../../../examples/plugin-csv-logger/src/index.ts');
    const r = await run(['list', 'logger', '--plugin', example]);
    expect(r.out).toMatch(/csv — [\s\S]*columns: string\[\] \(required\)/);
  });

  it('schema writes a JSON Schema file', async () => {
    const file = join(tempTree(), 'schema.json');
    const r = await run(['schema', '--out', file]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(readFileSync(file, 'utf8'));
    expect(schema.title).toBe('dfdet experiment');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['extends', 'name', 'seed', 'loggers']));
  });

  it('rejects unknown commands', async () => {
    const r = await run(['trian']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Unknown argument|Did you mean/);
  });
});
