import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runExp } from '../../src/testing.js';
import { RunStore } from '../../src/runstore/run-store.js';
import { resetWandbWarning, WandbLogger } from '../../src/loggers/wandb.js';
import { parseNetrc, readWandbState, resolveApiKey } from '../../src/loggers/wandb-api.js';
import { FakeWandb } from './fake-wandb.js';

const ROOT = resolve(__dirname, '../../../..');
const FIX = join(ROOT, 'test/fixtures/clip-tiny');
const DATASET = join(ROOT, 'test/integration/fixture-dataset.ts');
const KEY = 'k'.repeat(40);

function experiment(dir: string): string {
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `name: wb
plugins: [${JSON.stringify(DATASET)}]
engine: {backend: wasm}
output: {dir: ${JSON.stringify(join(dir, 'runs'))}}
loggers: []
model:
  backbone: {name: clip-vit, weights: ${JSON.stringify(FIX)}}
  peft: {name: ln-tuning}
  head: {name: linear-norm}
loss: {ce: {weight: 1.0}, uniformity: {weight: 0.1}}
data:
  train: [{name: clip-tiny-images}]
  val: [{name: clip-tiny-images}]
  batch_size: 2
  workers: 0
optim: {lr: 0.01}
trainer: {epochs: 1, max_steps: 2, val_every_n_steps: 1, monitor: val/frame/auroc}
`,
  );
  return file;
}

const cli = runExp;

/** Every numeric metric of every metrics.jsonl record must be in the history row of its step. */
function expectAllMetrics(runDir: string, history: Record<string, unknown>[]) {
  const records = RunStore.read(runDir).metrics();
  expect(records.length).toBeGreaterThan(2);
  let checked = 0;
  for (const r of records) {
    const row = history.find((h) => h._step === r.step);
    expect(row, `history row for step ${r.step}`).toBeDefined();
    for (const [k, v] of Object.entries(r)) {
      if (k === 'step' || k === 'time' || typeof v !== 'number') continue;
      expect(row![k], `${k} at step ${r.step}`).toBe(v);
      checked += 1;
    }
  }
  expect(checked).toBeGreaterThan(20);
}

const ENV_KEYS = ['WANDB_BASE_URL', 'WANDB_API_KEY', 'WANDB_MODE', 'HOME', 'NETRC', 'DFDET_SWEEP'] as const;

describe('wandb logger and sync (against a local fake W&B on 127.0.0.1)', () => {
  const server = new FakeWandb();
  const saved: Record<string, string | undefined> = {};
  let home: string;

  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    for (const k of ENV_KEYS) saved[k] = process.env[k];
    home = mkdtempSync(join(tmpdir(), 'dfdet-wb-home-'));
    process.env.HOME = home; // never the real ~/.netrc
    delete process.env.NETRC;
    delete process.env.WANDB_MODE;
    delete process.env.DFDET_SWEEP;
    process.env.WANDB_BASE_URL = server.url;
    server.requests.length = 0;
    resetWandbWarning();
  });
  afterEach(() => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('a live run sends its config, group, tags, every logged metric (the last one too) and the summary', async () => {
    process.env.WANDB_API_KEY = KEY;
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-wb-live-'));
    const file = experiment(dir);
    const res = await cli(['run', file, '--run', 'live', '--set', 'loggers=[{name: wandb, project: proj, group: abl, tags: [x, y], job_type: train}]']);
    expect(res.code, res.err).toBe(0);
    expect(res.err).not.toContain('warning');
    const runDir = join(dir, 'runs', 'wb', 'live');
    const state = readWandbState(runDir)!;
    expect(state.status).toBe('synced');
    expect(state.entity).toBe('test-entity');

    const upserts = server.graphql('upsertBucket').filter((v) => v.name === state.id);
    expect(upserts.length).toBeGreaterThanOrEqual(2);
    const created = upserts.find((v) => v.groupName === 'abl')!;
    expect(created).toMatchObject({ project: 'proj', entity: 'test-entity', tags: ['x', 'y'], jobType: 'train', displayName: 'live' });
    const config = JSON.parse(created.config as string) as Record<string, { value: unknown }>;
    expect((config.model!.value as { peft: { name: string } }).peft.name).toBe('ln-tuning');
    expect(config.optim!.value).toMatchObject({ lr: 0.01 });
    expect(config._group!.value).toBe('abl');
    // the SDK's own upsert carries the config too
    expect(upserts.some((v) => v.groupName === undefined && typeof v.config === 'string')).toBe(true);

    expectAllMetrics(runDir, server.history(state.id));
    const summary = server.summary(state.id);
    expect(summary['best/val/frame/auroc']).toBe(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).best.value);
    expect(summary.status).toBe('completed');
    expect(server.fileStream(state.id).some((b) => b.complete === true)).toBe(true);
    for (const r of server.requests) expect(r.authorization).toBe(`Basic ${Buffer.from(`api:${KEY}`).toString('base64')}`);
  });

  it('without an API key the run trains, warns once, stays pending, and exp wandb sync uploads it all later', async () => {
    delete process.env.WANDB_API_KEY;
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-wb-nokey-'));
    const file = experiment(dir);
    process.env.DFDET_SWEEP = 'my-sweep';
    const res = await cli(['run', file, '--run', 'offline', '--set', 'loggers=[{name: wandb, project: proj}, {name: wandb, project: proj2}]']);
    expect(res.code, res.err).toBe(0);
    expect(res.err.match(/warning: W&B/g)).toHaveLength(1);
    expect(res.err).toContain('exp wandb sync');
    expect(server.requests).toHaveLength(0);
    const runDir = join(dir, 'runs', 'wb', 'offline');
    const pending = readWandbState(runDir)!;
    expect(pending.status).toBe('pending');
    expect(pending.group).toBe('my-sweep');

    // later, with a key in ~/.netrc for this host
    const host = new URL(server.url).host;
    writeFileSync(join(home, '.netrc'), `machine ${host}\n  login user\n  password ${KEY}\n`);
    const sync = await cli(['wandb', 'sync', runDir]);
    expect(sync.code, sync.err).toBe(0);
    const state = readWandbState(runDir)!;
    expect(state).toMatchObject({ status: 'synced', id: pending.id, entity: 'test-entity', project: 'proj', group: 'my-sweep' });
    const created = server.graphql('upsertBucket').find((v) => v.name === state.id && typeof v.config === 'string')!;
    expect(created.groupName).toBe('my-sweep');
    expect((JSON.parse(created.config as string) as Record<string, { value: unknown }>).trainer!.value).toMatchObject({ max_steps: 2 });
    expectAllMetrics(runDir, server.history(state.id));
    expect(server.summary(state.id)['best/val/frame/auroc']).toBeTypeOf('number');
    expect(server.fileStream(state.id).at(-1)).toEqual({ complete: true, exitcode: 0 });
  });

  it('an unreachable server: start, log and finish go on, one warning, the run is pending', async () => {
    process.env.WANDB_API_KEY = KEY;
    const port = await new Promise<number>((res) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    process.env.WANDB_BASE_URL = `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-wb-down-'));
    let err = '';
    const stream = { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream;
    for (const name of ['a', 'b']) {
      const run = new RunStore(dir).open({ experiment: 'e', run: name, config: {} });
      const logger = new WandbLogger({ project: 'p', tags: [], mode: 'online', timeout_s: 5 }, process.env, stream);
      await logger.start({ experiment: 'e', run: name, dir: run.dir, config: {}, resumed: false });
      logger.log({ step: 1, 'train/loss': 1 });
      await logger.finish({ status: 'completed' }, 'completed');
      expect(readWandbState(run.dir)!.status).toBe('pending');
    }
    expect(err.match(/warning: W&B/g)).toHaveLength(1);
    expect(err).toContain(`cannot reach http://127.0.0.1:${port}`);
  });

  it('a resumed run re-sends its earlier history so the W&B rows stay complete', async () => {
    process.env.WANDB_API_KEY = KEY;
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-wb-resume-'));
    const run = new RunStore(dir).open({ experiment: 'e', run: 'r', config: { seed: 1 } });
    run.appendMetrics({ step: 1, 'train/loss': 0.9 });
    run.appendMetrics({ step: 2, 'train/loss': 0.8 });
    run.appendMetrics({ step: 2, 'val/auc': 0.5 });
    run.appendMetrics({ step: 3, 'train/loss': 0.7 });
    const logger = new WandbLogger({ project: 'p', tags: [], mode: 'online', timeout_s: 10 }, process.env);
    await logger.start({ experiment: 'e', run: 'r', dir: run.dir, config: { seed: 1 }, resumed: true });
    logger.log({ step: 3, 'train/loss': 0.7 });
    logger.log({ step: 4, 'train/loss': 0.6 });
    await logger.finish({ status: 'completed', best: { value: 0.5, step: 2 }, monitor: 'val/auc' }, 'completed');
    const id = readWandbState(run.dir)!.id;
    const rows = server.history(id).map(({ _runtime: _r, _timestamp: _t, ...rest }) => rest);
    expect(rows).toEqual([
      { _step: 1, 'train/loss': 0.9 },
      { _step: 2, 'train/loss': 0.8, 'val/auc': 0.5 },
      { _step: 3, 'train/loss': 0.7 },
      { _step: 4, 'train/loss': 0.6 },
    ]);
    expect(server.summary(id)).toMatchObject({ 'best/val/auc': 0.5, 'train/loss': 0.6 });
  });

  it('mode disabled (or WANDB_MODE=disabled) sends nothing and warns nothing', async () => {
    process.env.WANDB_API_KEY = KEY;
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-wb-off-'));
    const run = new RunStore(dir).open({ experiment: 'e', run: 'r', config: {} });
    const logger = new WandbLogger({ project: 'p', tags: [], mode: 'disabled', timeout_s: 5 }, process.env);
    await logger.start({ experiment: 'e', run: 'r', dir: run.dir, config: {}, resumed: false });
    logger.log({ step: 1, x: 1 });
    await logger.finish({}, 'completed');
    expect(server.requests).toHaveLength(0);
    expect(readWandbState(run.dir)).toBeUndefined();
  });
});

describe('API key resolution', () => {
  it('reads WANDB_API_KEY first, then ~/.netrc by host:port, then by host name', () => {
    const home = mkdtempSync(join(tmpdir(), 'dfdet-netrc-'));
    writeFileSync(join(home, '.netrc'), '# comment\nmachine api.wandb.ai\n  login user\n  password aaa\nmachine 127.0.0.1:9999 login user password bbb\n');
    expect(resolveApiKey({ HOME: home, WANDB_API_KEY: 'env' }).key).toBe('env');
    expect(resolveApiKey({ HOME: home }).key).toBe('aaa');
    expect(resolveApiKey({ HOME: home, WANDB_BASE_URL: 'http://127.0.0.1:9999' }).key).toBe('bbb');
    expect(resolveApiKey({ HOME: home, WANDB_BASE_URL: 'http://127.0.0.1:1' }).key).toBeUndefined();
    expect(resolveApiKey({ HOME: join(home, 'none') }).key).toBeUndefined();
    expect([...parseNetrc('machine a password p1 machine b login x password p2')]).toEqual([
      ['a', 'p1'],
      ['b', 'p2'],
    ]);
  });
});
