import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fg from 'fast-glob';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildRegistry, experimentJsonSchema, loadExperiment } from '@dfdet/core';

const ROOT = resolve(__dirname, '../..');
const files = fg.sync('experiments/**/*.yaml', { cwd: ROOT }).sort();
const isSweep = (f: string) => {
  const y = parse(readFileSync(join(ROOT, f), 'utf8')) as Record<string, unknown>;
  return 'experiment' in y || 'grid' in y;
};

describe('experiments/', () => {
  it.each(files.filter((f) => !isSweep(f)))('%s validates against the plugin schemas', async (f) => {
    const { config } = await loadExperiment([join(ROOT, f)], { cwd: ROOT });
    expect(config.name).toBeTruthy();
  });

  it('schema/experiment.schema.json is up to date (regenerate with pnpm exp schema)', async () => {
    const committed = JSON.parse(readFileSync(join(ROOT, 'schema/experiment.schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(experimentJsonSchema(await buildRegistry([])))));
  });

  it('every experiment file points editors at the schema', () => {
    for (const f of files.filter((x) => !isSweep(x))) expect(readFileSync(join(ROOT, f), 'utf8'), f).toMatch(/yaml-language-server: \$schema=/);
  });
});
