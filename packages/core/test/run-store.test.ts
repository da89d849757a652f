import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RunStore, writeFileAtomic } from '../src/index.js';
import { tempTree } from './helpers/tmp.js';

const config = { name: 'exp', seed: 1, model: { lr: 0.1 } };

describe('RunStore', () => {
  it('lays out a run folder with config, meta, log and checkpoints/', () => {
    const store = new RunStore(join(tempTree(), 'runs'));
    const run = store.open({ experiment: 'exp', run: 'a', config });
    expect(run.dir).toBe(join(store.root, 'exp', 'a'));
    expect(parse(readFileSync(run.path('config.yaml'), 'utf8'))).toEqual(config);
    expect(existsSync(run.path('checkpoints'))).toBe(true);
    const meta = run.meta();
    expect(meta).toMatchObject({ experiment: 'exp', run: 'a', status: 'running', node: process.version });
    expect(meta.git.commit === null || /^[0-9a-f]{40}$/.test(meta.git.commit)).toBe(true);
    expect(meta.packages['@dfdet/core']).toBe('0.1.0');
    expect(meta.packages['@tensorflow/tfjs-core']).toMatch(/^4\./);
    run.appendMetrics({ step: 1, 'train/loss': 0.5 });
    run.appendMetrics({ step: 2, 'train/loss': 0.25 });
    run.writeSummary({ best: 0.25 });
    run.finish('completed');
    expect(run.metrics()).toEqual([{ step: 1, 'train/loss': 0.5 }, { step: 2, 'train/loss': 0.25 }]);
    expect(run.summary()).toEqual({ best: 0.25 });
    expect(run.meta()).toMatchObject({ status: 'completed', exit_code: 0 });
    expect(run.meta().ended_at).toBeDefined();
    expect(readFileSync(run.path('log.txt'), 'utf8')).toMatch(/started exp\/a[\s\S]*completed/);
  });

  it('never overwrites an existing run without --resume or --force', () => {
    const store = new RunStore(join(tempTree(), 'runs'));
    const run = store.open({ experiment: 'exp', run: 'a', config });
    run.appendMetrics({ step: 1 });
    expect(() => store.open({ experiment: 'exp', run: 'a', config })).toThrow(/already exists; pass --resume to continue it or --force to replace it/);
    expect(run.metrics()).toEqual([{ step: 1 }]);
  });

  it('--force replaces the run, --resume continues it and records the new session', () => {
    const store = new RunStore(join(tempTree(), 'runs'));
    const first = store.open({ experiment: 'exp', run: 'a', config });
    first.appendMetrics({ step: 1 });
    first.finish('interrupted');
    const resumed = store.open({ experiment: 'exp', run: 'a', config, mode: 'resume' });
    expect(resumed.metrics()).toEqual([{ step: 1 }]);
    expect(resumed.meta().status).toBe('running');
    expect(resumed.meta().sessions).toHaveLength(2);
    expect(resumed.meta().exit_code).toBeUndefined();
    const forced = store.open({ experiment: 'exp', run: 'a', config, mode: 'force' });
    expect(forced.metrics()).toEqual([]);
    expect(forced.meta().sessions).toHaveLength(1);
    expect(readdirSync(join(store.root, 'exp'))).toEqual(['a']);
  });

  it('--resume without a run name continues the newest run; new runs get distinct timestamped names', () => {
    const store = new RunStore(join(tempTree(), 'runs'));
    const a = store.open({ experiment: 'exp', config });
    const b = store.open({ experiment: 'exp', config });
    expect(a.dir).not.toBe(b.dir);
    expect(store.runs('exp')).toEqual([a.meta().run, b.meta().run].sort());
    expect(store.open({ experiment: 'exp', config, mode: 'resume' }).dir).toBe(store.runs('exp').map((r) => store.dir('exp', r)).at(-1));
  });

  it('repairs a torn metrics line on resume and truncates metrics after a checkpoint step', () => {
    const store = new RunStore(join(tempTree(), 'runs'));
    const run = store.open({ experiment: 'exp', run: 'a', config });
    for (let s = 1; s <= 4; s++) run.appendMetrics({ step: s });
    appendFileSync(run.path('metrics.jsonl'), '{"step": 5, "tr');
    const resumed = store.open({ experiment: 'exp', run: 'a', config, mode: 'resume' });
    expect(resumed.metrics().map((r) => r.step)).toEqual([1, 2, 3, 4]);
    resumed.truncateMetricsAfter(2);
    resumed.appendMetrics({ step: 3 });
    expect(resumed.metrics().map((r) => r.step)).toEqual([1, 2, 3]);
  });

  it('Run.read refuses a folder that is not a run', () => {
    expect(() => RunStore.read(tempTree())).toThrow(/is not a run folder/);
  });
});

describe('writeFileAtomic', () => {
  it('leaves no temp files and replaces content whole', () => {
    const dir = tempTree();
    const file = join(dir, 'sub', 'x.json');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['x.json']);
  });

  it('keeps the old content when the write fails', () => {
    const dir = tempTree();
    mkdirSync(join(dir, 'target'));
    writeFileSync(join(dir, 'target', 'keep'), 'k');
    expect(() => writeFileAtomic(join(dir, 'target'), 'new')).toThrow();
    expect(readFileSync(join(dir, 'target', 'keep'), 'utf8')).toBe('k');
    expect(readdirSync(dir)).toEqual(['target']);
  });

  it('a process killed mid-write never leaves a torn file', async () => {
    const dir = tempTree();
    const file = join(dir, 'big.txt');
    const big = 4 * 1024 * 1024;
    writeFileAtomic(file, 'A'.repeat(big));
    const atomic = resolve(__dirname, '../src/io/atomic.ts');
    const script = `import { writeFileAtomic } from ${JSON.stringify(atomic)};
      const a = 'A'.repeat(${big}), b = 'B'.repeat(${big});
      process.send?.('ready');
      for (let i = 0; ; i++) writeFileAtomic(${JSON.stringify(file)}, i % 2 ? a : b);`;
    writeFileSync(join(dir, 'writer.mts'), script);
    const child = spawn(process.execPath, ['--import', 'tsx', join(dir, 'writer.mts')], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise((r) => child.once('message', r));
    await new Promise((r) => setTimeout(r, 400));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const text = readFileSync(file, 'utf8');
    expect(text.length).toBe(big);
    expect(text === 'A'.repeat(big) || text === 'B'.repeat(big)).toBe(true);
  });
});
