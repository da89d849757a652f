import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '@dfdet/core';
import { hubCacheFolder, parseHubSpec, resolveWeights, type ResolveWeightsOptions } from '../../src/weights/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURE_DIR = join(HERE, '..', '..', '..', '..', 'test', 'fixtures', 'clip-tiny');
const FILES = ['model.safetensors', 'config.json', 'preprocessor_config.json'] as const;
const BYTES = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(FIXTURE_DIR, f))])) as Record<(typeof FILES)[number], Buffer>;
const SHA = createHash('sha256').update(BYTES['model.safetensors']).digest('hex');

// ---- a tiny hub on 127.0.0.1 -----------------------------------------------------------------

type Mode = 'normal' | 'redirect' | 'redirect-bad-etag' | 'cut-first' | 'bad-etag' | 'no-preprocessor' | 'always-500' | 'stall' | 'ignore-range';
interface Seen {
  url: string;
  range: string | undefined;
  authorization: string | undefined;
}

let server: Server;
let hubUrl: string;
let mode: Mode = 'normal';
let seen: Seen[] = [];
let modelGets = 0;
const sockets = new Set<import('node:net').Socket>();

function handle(req: IncomingMessage, res: ServerResponse): void {
  seen.push({ url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization });
  const m = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
  const file = m?.[4] as (typeof FILES)[number] | undefined;
  if (!m || m[1] !== 'tiny-org' || m[2] !== 'clip-tiny' || m[3] !== 'main' || !file || !(file in BYTES) || (mode === 'no-preprocessor' && file === 'preprocessor_config.json')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  if (mode === 'always-500') {
    res.writeHead(500).end('boom');
    return;
  }
  const body = BYTES[file];
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
  if (file === 'model.safetensors' && (mode === 'redirect' || mode === 'redirect-bad-etag')) {
    // Like the hub: a 302 carrying the sha256 to a CDN on another origin.
    const sha = mode === 'redirect' ? SHA : createHash('sha256').update('other').digest('hex');
    res.writeHead(302, { location: `${cdnUrl}/blobs/${SHA}`, 'x-linked-etag': `"${sha}"`, 'x-linked-size': String(BYTES[file].length) }).end();
    return;
  }
  if (file === 'model.safetensors') {
    modelGets++;
    headers['x-linked-etag'] = `"${mode === 'bad-etag' ? createHash('sha256').update('something else').digest('hex') : SHA}"`;
    if (mode === 'stall') {
      res.writeHead(200, { ...headers, 'content-length': String(body.length) });
      res.write(body.subarray(0, 10)); // then nothing, ever (until the client gives up)
      return;
    }
  } else {
    headers.etag = `"${createHash('sha1').update(body).digest('hex')}"`; // git-style: not a sha256, not checked
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range && mode !== 'ignore-range') {
    const start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { ...headers, 'content-length': String(body.length - start), 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': String(body.length) });
  if (file === 'model.safetensors' && mode === 'cut-first' && modelGets === 1) {
    // Half the body, flushed, then the connection dies.
    res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => req.socket.destroy(), 50));
    return;
  }
  res.end(body);
}

/** A second origin (another port on 127.0.0.1) standing in for the hub's CDN. */
let cdn: Server;
let cdnUrl: string;
let cdnSeen: Seen[] = [];
function handleCdn(req: IncomingMessage, res: ServerResponse): void {
  cdnSeen.push({ url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization });
  if (req.url !== `/blobs/${SHA}`) {
    res.writeHead(404).end();
    return;
  }
  const body = BYTES['model.safetensors'];
  res.writeHead(200, { 'content-length': String(body.length), etag: '"d41d8cd98f00b204e9800998ecf8427e"' }).end(body);
}

/** Refuses any URL that is not on our 127.0.0.1 server, so no test can reach the internet. */
const localFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.hostname !== '127.0.0.1' || (url.origin !== new URL(hubUrl).origin && url.origin !== new URL(cdnUrl).origin)) {
    return Promise.reject(new Error(`test tried to reach ${url.href}`));
  }
  return fetch(input, init);
};

const ENV_KEYS = ['DFDET_CACHE', 'DFDET_HUB_URL', 'DFDET_OFFLINE', 'HF_HUB_OFFLINE', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'] as const;
const savedEnv: Partial<Record<string, string>> = {};
const root = mkdtempSync(join(tmpdir(), 'dfdet-weights-'));
let cache: string;
let caseNo = 0;

beforeAll(async () => {
  server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  hubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cdn = createServer(handleCdn);
  await new Promise<void>((ok, fail) => {
    cdn.once('error', fail);
    cdn.listen(0, '127.0.0.1', () => ok());
  });
  cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  for (const k of ENV_KEYS) savedEnv[k] = process.env[k];
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((ok) => server.close(() => ok()));
  await new Promise<void>((ok) => cdn.close(() => ok()));
  rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  for (const k of ENV_KEYS) delete process.env[k];
  mode = 'normal';
  seen = [];
  cdnSeen = [];
  modelGets = 0;
  cache = join(root, `cache-${++caseNo}`);
});

afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

const opts = (extra: ResolveWeightsOptions = {}): ResolveWeightsOptions => ({
  cacheDir: cache,
  hubUrl,
  fetch: localFetch,
  onProgress: false,
  retryDelayMs: 10,
  timeoutMs: 5_000,
  ...extra,
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const T = { timeout: 20_000 };

// ---- hub -------------------------------------------------------------------------------------

describe('resolveWeights: hub ids', () => {
  it('downloads into the cache, then resolves from it without any request', T, async () => {
    const folder = hubCacheFolder(cache, 'tiny-org', 'clip-tiny', 'main');
    const progress: [number, number | undefined, string][] = [];
    const r = await resolveWeights('tiny-org/clip-tiny', opts({ onProgress: (a, b, f) => progress.push([a, b, f]) }));
    expect(r).toEqual({
      source: 'hub',
      format: 'safetensors',
      weightsPath: join(folder, 'model.safetensors'),
      configPath: join(folder, 'config.json'),
      preprocessorPath: join(folder, 'preprocessor_config.json'),
      dir: folder,
    });
    expect(folder).toBe(join(cache, 'hub', 'tiny-org--clip-tiny', 'main'));
    for (const f of FILES) expect(readFileSync(join(folder, f)).equals(BYTES[f])).toBe(true);
    expect(readdirSync(folder).filter((f) => f.endsWith('.part'))).toEqual([]);
    expect(seen.map((s) => s.url).sort()).toEqual(FILES.map((f) => `/tiny-org/clip-tiny/resolve/main/${f}`).sort());
    expect(seen.every((s) => s.authorization === undefined)).toBe(true);
    expect(progress.at(-1)).toEqual([BYTES['model.safetensors'].length, BYTES['model.safetensors'].length, 'model.safetensors']);

    const before = seen.length;
    const again = await resolveWeights('tiny-org/clip-tiny', opts());
    expect(again).toEqual(r);
    expect(seen.length).toBe(before);
    // Offline works from the cache too.
    process.env.HF_HUB_OFFLINE = '1';
    expect(await resolveWeights('tiny-org/clip-tiny', opts())).toEqual(r);
    expect(seen.length).toBe(before);
  });

  it('uses DFDET_CACHE, DFDET_HUB_URL and HF_TOKEN from the environment', T, async () => {
    process.env.DFDET_CACHE = cache;
    process.env.DFDET_HUB_URL = `${hubUrl}/`;
    process.env.HF_TOKEN = 'hf_test_token';
    const r = await resolveWeights('tiny-org/clip-tiny', { fetch: localFetch, onProgress: false });
    expect(r.weightsPath).toBe(join(cache, 'hub', 'tiny-org--clip-tiny', 'main', 'model.safetensors'));
    expect(seen.length).toBe(3);
    expect(seen.every((s) => s.authorization === 'Bearer hf_test_token')).toBe(true);
  });

  it('resumes a download cut in the middle with a Range request', T, async () => {
    mode = 'cut-first';
    const r = await resolveWeights('tiny-org/clip-tiny', opts());
    expect(readFileSync(r.weightsPath).equals(BYTES['model.safetensors'])).toBe(true);
    const model = seen.filter((s) => s.url.endsWith('/model.safetensors'));
    expect(model).toHaveLength(2);
    expect(model[0]!.range).toBeUndefined();
    const m = /^bytes=(\d+)-$/.exec(model[1]!.range ?? '');
    expect(m).not.toBeNull();
    const start = Number(m![1]);
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(BYTES['model.safetensors'].length >> 1);
    expect(existsSync(`${r.weightsPath}.part`)).toBe(false);
  });

  it('resumes a .part left by an earlier run, and restarts when the server ignores the Range', T, async () => {
    const folder = hubCacheFolder(cache, 'tiny-org', 'clip-tiny', 'main');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'model.safetensors.part'), BYTES['model.safetensors'].subarray(0, 1000));
    let r = await resolveWeights('tiny-org/clip-tiny', opts());
    expect(seen.find((s) => s.url.endsWith('/model.safetensors'))!.range).toBe('bytes=1000-');
    expect(readFileSync(r.weightsPath).equals(BYTES['model.safetensors'])).toBe(true);

    // A garbage .part and a server answering 200 to a Range: the file is rewritten from scratch.
    rmSync(folder, { recursive: true });
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'model.safetensors.part'), Buffer.alloc(5000, 7));
    mode = 'ignore-range';
    seen = [];
    r = await resolveWeights('tiny-org/clip-tiny', opts());
    expect(seen.find((s) => s.url.endsWith('/model.safetensors'))!.range).toBe('bytes=5000-');
    expect(readFileSync(r.weightsPath).equals(BYTES['model.safetensors'])).toBe(true);
  });

  it('rejects a checksum mismatch and leaves no file behind', T, async () => {
    mode = 'bad-etag';
    const err = await rejection(resolveWeights('tiny-org/clip-tiny', opts()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/checksum mismatch/);
    expect(err.message).toContain('tiny-org/clip-tiny');
    const folder = hubCacheFolder(cache, 'tiny-org', 'clip-tiny', 'main');
    expect(existsSync(join(folder, 'model.safetensors'))).toBe(false);
    expect(existsSync(join(folder, 'model.safetensors.part'))).toBe(false);
    expect(modelGets).toBe(1); // a mismatch is not retried
  });

  it('follows a redirect to another origin: sha256 from x-linked-etag, no token sent there', T, async () => {
    process.env.HF_TOKEN = 'hf_secret';
    mode = 'redirect';
    const r = await resolveWeights('tiny-org/clip-tiny', opts());
    expect(readFileSync(r.weightsPath).equals(BYTES['model.safetensors'])).toBe(true);
    expect(cdnSeen).toHaveLength(1);
    expect(cdnSeen[0]!.authorization).toBeUndefined();
    expect(seen.every((s) => s.authorization === 'Bearer hf_secret')).toBe(true);

    mode = 'redirect-bad-etag';
    cache = join(root, `cache-${++caseNo}`);
    const err = await rejection(resolveWeights('tiny-org/clip-tiny', opts()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/checksum mismatch/);
    expect(existsSync(join(hubCacheFolder(cache, 'tiny-org', 'clip-tiny', 'main'), 'model.safetensors'))).toBe(false);
  });

  it('is fine without preprocessor_config.json on the hub', T, async () => {
    mode = 'no-preprocessor';
    const r = await resolveWeights('tiny-org/clip-tiny', opts());
    expect(r.preprocessorPath).toBeUndefined();
    expect(r.configPath).toBeDefined();
    const before = seen.length;
    await resolveWeights('tiny-org/clip-tiny', opts());
    expect(seen.length).toBe(before);
  });

  it('offline with an empty cache names the id, the cache folder and the fix', T, async () => {
    const folder = hubCacheFolder(cache, 'openai', 'clip-vit-large-patch14', 'main');
    for (const setOffline of [() => ({ offline: true }), () => ((process.env.DFDET_OFFLINE = '1'), {})]) {
      const err = await rejection(resolveWeights('openai/clip-vit-large-patch14', opts(setOffline())));
      expect(err).toBeInstanceOf(UserError);
      expect(err.message).toContain('openai/clip-vit-large-patch14');
      expect(err.message).toContain(`looked in ${folder}`);
      expect(err.message).toContain('offline');
      expect(err.message).toContain(
        `download model.safetensors and config.json from ${hubUrl}/openai/clip-vit-large-patch14 into ${folder}, or pass a local file or directory`,
      );
    }
    expect(seen).toEqual([]);
  });

  it('a failed download is a UserError with the id, the folder, the reason and the fix', T, async () => {
    const folder = hubCacheFolder(cache, 'nobody', 'nothing', 'main');
    let err = await rejection(resolveWeights('nobody/nothing', opts()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain('nobody/nothing');
    expect(err.message).toContain('HTTP 404');
    expect(err.message).toContain(folder);
    expect(err.message).toContain('or pass a local file or directory');

    mode = 'always-500';
    seen = [];
    err = await rejection(resolveWeights('tiny-org/clip-tiny', opts()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain('HTTP 500');
    expect(seen).toHaveLength(4); // 1 try + 3 retries
  });

  it('gives up on a stalled connection', T, async () => {
    mode = 'stall';
    const err = await rejection(resolveWeights('tiny-org/clip-tiny', opts({ timeoutMs: 200, retries: 1 })));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/no data for 200 ms/);
    expect(modelGets).toBe(2);
  });

  it('revisions: spec @revision and the cache folder', () => {
    expect(parseHubSpec('openai/clip-vit-large-patch14')).toEqual({
      id: 'openai/clip-vit-large-patch14',
      org: 'openai',
      name: 'clip-vit-large-patch14',
      revision: 'main',
    });
    expect(parseHubSpec('a/b@v1.0')?.revision).toBe('v1.0');
    expect(parseHubSpec('a/b', 'dev')?.revision).toBe('dev');
    expect(parseHubSpec('a/b@refs/pr/1')?.revision).toBe('refs/pr/1');
    expect(hubCacheFolder('/c', 'a', 'b', 'refs/pr/1')).toBe(join('/c', 'hub', 'a--b', 'refs--pr--1'));
    for (const bad of ['a', 'a/b/c', '/a/b', 'a/b@', 'a/b@..', 'a--x/b', '-a/b', 'a/b c', '']) expect(parseHubSpec(bad)).toBeUndefined();
  });
});

// ---- local paths -----------------------------------------------------------------------------

describe('resolveWeights: files and directories', () => {
  it('a weights file: format from the extension, config beside it', async () => {
    const r = await resolveWeights(join(FIXTURE_DIR, 'model.safetensors'), opts());
    expect(r).toEqual({
      source: 'file',
      format: 'safetensors',
      weightsPath: join(FIXTURE_DIR, 'model.safetensors'),
      configPath: join(FIXTURE_DIR, 'config.json'),
      preprocessorPath: join(FIXTURE_DIR, 'preprocessor_config.json'),
    });
    const dir = join(root, 'files');
    mkdirSync(dir, { recursive: true });
    for (const ext of ['.bin', '.pt', '.pth', '.ckpt']) {
      writeFileSync(join(dir, `w${ext}`), 'x');
      expect(await resolveWeights(join(dir, `w${ext}`), opts())).toEqual({ source: 'file', format: 'torch', weightsPath: join(dir, `w${ext}`) });
    }
    writeFileSync(join(dir, 'w.txt'), 'x');
    const err = await rejection(resolveWeights(join(dir, 'w.txt'), opts()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/unsupported weights file .*w\.txt.*\.safetensors.*\.bin/);
    expect(seen).toEqual([]);
  });

  it('a directory: model.safetensors preferred, else pytorch_model.bin', async () => {
    expect(await resolveWeights(FIXTURE_DIR, opts())).toEqual({
      source: 'dir',
      format: 'safetensors',
      weightsPath: join(FIXTURE_DIR, 'model.safetensors'),
      configPath: join(FIXTURE_DIR, 'config.json'),
      preprocessorPath: join(FIXTURE_DIR, 'preprocessor_config.json'),
      dir: FIXTURE_DIR,
    });
    const dir = join(root, 'torch-dir');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'pytorch_model.bin'), 'x');
    writeFileSync(join(dir, 'config.json'), '{}');
    expect(await resolveWeights(dir, opts())).toEqual({
      source: 'dir',
      format: 'torch',
      weightsPath: join(dir, 'pytorch_model.bin'),
      configPath: join(dir, 'config.json'),
      dir,
    });
    writeFileSync(join(dir, 'model.safetensors'), 'x');
    expect((await resolveWeights(dir, opts())).weightsPath).toBe(join(dir, 'model.safetensors'));

    const empty = join(root, 'empty-dir');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'open_clip_model.safetensors'), 'x');
    const err = await rejection(resolveWeights(empty, opts()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain(`no weights in directory ${empty}: looked for model.safetensors or pytorch_model.bin`);
    expect(err.message).toContain('open_clip_model.safetensors');
    expect(seen).toEqual([]);
  });

  it('a spec that is neither a path nor a hub id', async () => {
    for (const spec of ['no-such-thing', './nope/a/b', 'a/b/c', '']) {
      const err = await rejection(resolveWeights(spec, opts()));
      expect(err).toBeInstanceOf(UserError);
      expect(err.message).toBe(`not found: ${spec} (not a file, a directory, or a hub id like openai/clip-vit-large-patch14)`);
    }
    expect(seen).toEqual([]);
  });
});
