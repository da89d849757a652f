import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, resolve as resolvePath } from 'node:path';
import { UserError } from '@dfdet/core';

/** Where `model.weights` came from and what sits beside it. */
export interface ResolvedWeights {
  source: 'file' | 'dir' | 'hub';
  /** Absolute path of the weights file. */
  weightsPath: string;
  format: 'safetensors' | 'torch';
  /** `config.json` beside the weights, when there is one. */
  configPath?: string;
  /** `preprocessor_config.json` beside the weights, when there is one. */
  preprocessorPath?: string;
  /** The folder holding the weights (for `dir` and `hub`). */
  dir?: string;
}

/** Download progress: bytes of `file` on disk so far and its full size when known. */
export type ProgressFn = (received: number, total: number | undefined, file: string) => void;

export interface ResolveWeightsOptions {
  /** Hub cache root; default `$DFDET_CACHE`, else `~/.cache/dfdet`. */
  cacheDir?: string;
  /** Hub base URL; default `$DFDET_HUB_URL`, else https://huggingface.co. */
  hubUrl?: string;
  /** Never touch the network; default true when `DFDET_OFFLINE=1` or `HF_HUB_OFFLINE=1`. */
  offline?: boolean;
  /** Hub revision (branch, tag or commit) when the spec has no `@revision`; default `main`. */
  revision?: string;
  /**
   * Hub files to fetch; default `config.json`, `preprocessor_config.json`, `model.safetensors`.
   * The first with a weights extension is the weights; `preprocessor_config.json` may be absent.
   */
  files?: string[];
  /** Progress callback; default: a throttled line on stderr when it is a TTY. `false` silences it. */
  onProgress?: ProgressFn | false;
  /** Injected fetch (tests, proxies); default the global fetch. */
  fetch?: typeof fetch;
  /** Retries of transient network errors per file, each resuming; default 3. */
  retries?: number;
  /** Base delay between retries in ms (doubled each time); default 500. */
  retryDelayMs?: number;
  /** Abort a request that delivers no headers/data for this long (ms); default 60000. */
  timeoutMs?: number;
}

export const HUB_DEFAULT_URL = 'https://huggingface.co';
export const DEFAULT_HUB_FILES: readonly string[] = ['config.json', 'preprocessor_config.json', 'model.safetensors'];
/** Hub files whose absence (404) is fine. */
const OPTIONAL_HUB_FILES = new Set(['preprocessor_config.json']);
const DIR_WEIGHTS = ['model.safetensors', 'pytorch_model.bin'] as const;
const TORCH_EXTS = new Set(['.bin', '.pt', '.pth', '.ckpt']);
const HUB_ID_RE = /^([A-Za-z0-9][A-Za-z0-9._-]{0,95})\/([A-Za-z0-9][A-Za-z0-9._-]{0,95})$/;
const REVISION_RE = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,127}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Resolves `model.weights`: an existing file, an existing directory, or a hub id
 * `org/name[@revision]` (downloaded once into the cache, resumable and checksum-verified).
 */
export async function resolveWeights(spec: string, opts: ResolveWeightsOptions = {}): Promise<ResolvedWeights> {
  const trimmed = spec.trim();
  const local = trimmed ? resolvePath(expandHome(trimmed)) : undefined;
  if (local !== undefined && existsSync(local)) {
    const st = statSync(local);
    if (st.isFile()) return resolveFile(local);
    if (st.isDirectory()) return resolveDir(local);
    throw new UserError(`weights path ${local} is neither a regular file nor a directory`);
  }
  const hub = parseHubSpec(trimmed, opts.revision);
  if (!hub) {
    throw new UserError(`not found: ${spec} (not a file, a directory, or a hub id like openai/clip-vit-large-patch14)`);
  }
  return resolveHub(hub, opts, local);
}

/** `org/name[@revision]` → parts, or undefined when it is not a valid hub id. */
export function parseHubSpec(spec: string, defaultRevision?: string): { id: string; org: string; name: string; revision: string } | undefined {
  const at = spec.indexOf('@');
  const idPart = at >= 0 ? spec.slice(0, at) : spec;
  const revision = at >= 0 ? spec.slice(at + 1) : (defaultRevision ?? 'main');
  const m = HUB_ID_RE.exec(idPart);
  if (!m) return undefined;
  const [, org, name] = m as unknown as [string, string, string];
  // `--` separates org and name in the cache folder, and the hub forbids `--`/`..` anyway.
  if (/--|\.\./.test(org) || /--|\.\./.test(name) || /[.-]$/.test(name)) return undefined;
  if (!isValidRevision(revision)) return undefined;
  return { id: `${org}/${name}`, org, name, revision };
}

function isValidRevision(rev: string): boolean {
  return REVISION_RE.test(rev) && !rev.includes('..') && !rev.includes('//') && !rev.endsWith('/') && !rev.includes('--');
}

/** The folder a hub id's files are cached in: `<cache>/hub/<org>--<name>/<revision>`. */
export function hubCacheFolder(cacheRoot: string, org: string, name: string, revision: string): string {
  return join(cacheRoot, 'hub', `${org}--${name}`, revision.replaceAll('/', '--'));
}

/** The hub cache root: `opts.cacheDir`, `$DFDET_CACHE`, else `~/.cache/dfdet`. */
export function defaultCacheDir(cacheDir?: string): string {
  const dir = cacheDir || process.env.DFDET_CACHE || join(homedir(), '.cache', 'dfdet');
  return resolvePath(expandHome(dir));
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

function formatOf(path: string): 'safetensors' | 'torch' | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.safetensors') return 'safetensors';
  if (TORCH_EXTS.has(ext)) return 'torch';
  return undefined;
}

function sidecars(dir: string): Pick<ResolvedWeights, 'configPath' | 'preprocessorPath'> {
  const out: Pick<ResolvedWeights, 'configPath' | 'preprocessorPath'> = {};
  const config = join(dir, 'config.json');
  const pre = join(dir, 'preprocessor_config.json');
  if (isFile(config)) out.configPath = config;
  if (isFile(pre)) out.preprocessorPath = pre;
  return out;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function resolveFile(path: string): ResolvedWeights {
  const format = formatOf(path);
  if (!format) {
    throw new UserError(
      `unsupported weights file ${path}: expected .safetensors (safetensors) or .bin/.pt/.pth/.ckpt (PyTorch); rename it or convert it`,
    );
  }
  return { source: 'file', weightsPath: path, format, ...sidecars(dirname(path)) };
}

function resolveDir(dir: string): ResolvedWeights {
  for (const name of DIR_WEIGHTS) {
    const p = join(dir, name);
    if (isFile(p)) return { source: 'dir', weightsPath: p, format: formatOf(p)!, dir, ...sidecars(dir) };
  }
  let others: string[] = [];
  try {
    others = readdirSync(dir).filter((f) => formatOf(f) !== undefined && isFile(join(dir, f)));
  } catch {
    /* unreadable: the message below still says what was looked for */
  }
  const hint = others.length
    ? `; it has ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''} — pass that file's path instead`
    : '';
  throw new UserError(`no weights in directory ${dir}: looked for ${DIR_WEIGHTS.join(' or ')}${hint}`);
}

// ---------------------------------------------------------------------------------------------
// Hub

interface HubSpec {
  id: string;
  org: string;
  name: string;
  revision: string;
}

function envFlag(name: string): boolean {
  const v = process.env[name]?.trim().toLowerCase();
  return v === '1' || v === 'true' || v === 'yes' || v === 'on';
}

async function resolveHub(hub: HubSpec, opts: ResolveWeightsOptions, localPath: string | undefined): Promise<ResolvedWeights> {
  const cacheRoot = defaultCacheDir(opts.cacheDir);
  const folder = hubCacheFolder(cacheRoot, hub.org, hub.name, hub.revision);
  const files = opts.files?.length ? [...new Set(opts.files)] : [...DEFAULT_HUB_FILES];
  for (const f of files) {
    if (!f || f.includes('..') || f.startsWith('/') || f.includes('\\')) throw new UserError(`invalid hub file name "${f}"`);
  }
  const weightsFile = files.find((f) => formatOf(f) !== undefined);
  if (!weightsFile) {
    throw new UserError(`none of the hub files [${files.join(', ')}] is a weights file (.safetensors, .bin, .pt, .pth, .ckpt)`);
  }
  const required = files.filter((f) => !OPTIONAL_HUB_FILES.has(f));
  const hubBase = (opts.hubUrl || process.env.DFDET_HUB_URL || HUB_DEFAULT_URL).replace(/\/+$/, '');
  const label = hub.revision === 'main' ? hub.id : `${hub.id}@${hub.revision}`;
  const notLocal = localPath ? ` (there is no local file or directory ${localPath} either)` : '';
  const fix =
    `download ${[weightsFile, ...required.filter((f) => f !== weightsFile)].join(' and ')} from ${hubBase}/${hub.id}` +
    `${hub.revision === 'main' ? '' : ` (revision ${hub.revision})`} into ${folder}, or pass a local file or directory`;

  const result = (): ResolvedWeights => {
    const out: ResolvedWeights = {
      source: 'hub',
      weightsPath: join(folder, weightsFile),
      format: formatOf(weightsFile)!,
      dir: folder,
    };
    const s = sidecars(folder);
    if (s.configPath) out.configPath = s.configPath;
    if (s.preprocessorPath) out.preprocessorPath = s.preprocessorPath;
    return out;
  };

  // The weights file is downloaded last, so its presence means every other file was fetched
  // (or, for optional ones, found absent on the hub).
  const missing = required.filter((f) => !isFile(join(folder, f)));
  if (missing.length === 0) return result();

  const offline = opts.offline ?? (envFlag('DFDET_OFFLINE') || envFlag('HF_HUB_OFFLINE'));
  if (offline) {
    throw new UserError(
      `hub model ${label} is not in the cache and offline mode is on (offline option, DFDET_OFFLINE or HF_HUB_OFFLINE): ` +
        `looked in ${folder}, missing ${missing.join(', ')}${notLocal}. Fix: ${fix}`,
    );
  }

  let baseUrl: URL;
  try {
    baseUrl = new URL(`${hubBase}/`);
  } catch {
    throw new UserError(`invalid hub URL "${hubBase}" (from the hubUrl option or DFDET_HUB_URL)`);
  }

  const dl: DownloadContext = {
    fetch: opts.fetch ?? globalThis.fetch,
    token: process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined,
    retries: Math.max(0, opts.retries ?? 3),
    retryDelayMs: Math.max(0, opts.retryDelayMs ?? 500),
    timeoutMs: Math.max(1, opts.timeoutMs ?? 60_000),
    onProgress: opts.onProgress === false ? undefined : (opts.onProgress ?? ttyProgress()),
  };
  const order = [...files.filter((f) => f !== weightsFile), weightsFile];
  const revPath = encodeURIComponent(hub.revision);
  try {
    mkdirSync(folder, { recursive: true });
    for (const file of order) {
      const dest = join(folder, file);
      if (isFile(dest)) continue;
      const url = new URL(`${encodeURIComponent(hub.org)}/${encodeURIComponent(hub.name)}/resolve/${revPath}/${file.split('/').map(encodeURIComponent).join('/')}`, baseUrl);
      mkdirSync(dirname(dest), { recursive: true });
      await downloadFile(url, dest, file, dl, OPTIONAL_HUB_FILES.has(file));
    }
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new UserError(`could not download hub model ${label} from ${hubBase}: ${reason}${notLocal}. Cache folder: ${folder}. Fix: ${fix}`, {
      cause: err,
    });
  }
  return result();
}

interface DownloadContext {
  fetch: typeof fetch;
  token: string | undefined;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  onProgress: ProgressFn | undefined;
}

/** An error worth retrying (network drop, 5xx, stall); anything else fails at once. */
class TransientError extends Error {}
/** A definitive failure (4xx, checksum); the message is already user-facing. */
class FatalError extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function downloadFile(url: URL, dest: string, file: string, ctx: DownloadContext, optional: boolean): Promise<'ok' | 'absent'> {
  const part = `${dest}.part`;
  let lastError: unknown;
  for (let attempt = 0; attempt <= ctx.retries; attempt++) {
    if (attempt > 0) await sleep(ctx.retryDelayMs * 2 ** (attempt - 1));
    try {
      return await downloadOnce(url, dest, part, file, ctx, optional);
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      lastError = err;
    }
  }
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`${file}: ${why} (gave up after ${ctx.retries + 1} attempts; the partial file ${part} is kept for resuming)`);
}

function sizeOf(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

function normalizeEtag(v: string | null | undefined): string | undefined {
  if (!v) return undefined;
  const s = v.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
  return s || undefined;
}

interface Fetched {
  res: Response;
  linkedEtag: string | undefined;
  linkedSize: number | undefined;
}

/** GET with redirects followed by hand, so the hub's `x-linked-etag` on the redirect is seen. */
async function get(url: URL, headers: Record<string, string>, ctx: DownloadContext, signal: AbortSignal): Promise<Fetched> {
  let current = url;
  let linkedEtag: string | undefined;
  let linkedSize: number | undefined;
  for (let hop = 0; hop <= 10; hop++) {
    const h = { ...headers };
    // Never send the token to another host (the hub redirects big files to a CDN).
    if (current.origin !== url.origin) delete h.authorization;
    let res: Response;
    try {
      res = await ctx.fetch(current, { headers: h, redirect: 'manual', signal });
    } catch (err) {
      throw new TransientError(networkReason(err, signal, ctx));
    }
    linkedEtag ??= normalizeEtag(res.headers.get('x-linked-etag'));
    const ls = Number(res.headers.get('x-linked-size') ?? NaN);
    if (linkedSize === undefined && Number.isSafeInteger(ls) && ls >= 0) linkedSize = ls;
    const location = res.headers.get('location');
    if ([301, 302, 303, 307, 308].includes(res.status) && location) {
      await res.body?.cancel().catch(() => undefined);
      current = new URL(location, current);
      continue;
    }
    return { res, linkedEtag, linkedSize };
  }
  throw new FatalError(`too many redirects for ${url.href}`);
}

function networkReason(err: unknown, signal: AbortSignal, ctx: DownloadContext): string {
  if (signal.aborted) return `no data for ${ctx.timeoutMs} ms`;
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `network error: ${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

async function downloadOnce(
  url: URL,
  dest: string,
  part: string,
  file: string,
  ctx: DownloadContext,
  optional: boolean,
): Promise<'ok' | 'absent'> {
  const have = sizeOf(part);
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'dfdet' };
  if (ctx.token) headers.authorization = `Bearer ${ctx.token}`;
  if (have > 0) headers.range = `bytes=${have}-`;

  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(), ctx.timeoutMs);
  };
  arm();
  try {
    const { res, linkedEtag, linkedSize } = await get(url, headers, ctx, ac.signal);
    const status = res.status;
    if (status === 404 && optional) {
      await res.body?.cancel().catch(() => undefined);
      return 'absent';
    }
    if (status === 416) {
      // The partial file is no prefix of the current file (or already whole): start over.
      await res.body?.cancel().catch(() => undefined);
      rmSync(part, { force: true });
      throw new TransientError(`${file}: the server refused to resume (HTTP 416); restarting`);
    }
    if (status !== 200 && status !== 206) {
      await res.body?.cancel().catch(() => undefined);
      if (status >= 500 || status === 429 || status === 408) throw new TransientError(`${file}: HTTP ${status} ${res.statusText}`.trim());
      if (status === 401 || status === 403) {
        throw new FatalError(
          `${file}: HTTP ${status} (the repository is gated or private${ctx.token ? ' and HF_TOKEN was refused' : '; set HF_TOKEN to an access token'})`,
        );
      }
      if (status === 404) throw new FatalError(`${file}: HTTP 404 (no such repository, revision or file)`);
      throw new FatalError(`${file}: HTTP ${status} ${res.statusText}`.trim());
    }
    if (!res.body) throw new TransientError(`${file}: empty response`);

    let start = 0;
    let total: number | undefined;
    const encoded = (res.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
    if (status === 206) {
      const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== have) {
        await res.body.cancel().catch(() => undefined);
        rmSync(part, { force: true });
        throw new TransientError(`${file}: unusable partial response (content-range ${res.headers.get('content-range') ?? 'missing'}); restarting`);
      }
      start = have;
      if (m[3] !== '*') total = Number(m[3]);
    } else {
      const cl = res.headers.get('content-length');
      if (cl !== null && !encoded && /^\d+$/.test(cl.trim())) total = Number(cl);
    }
    total ??= linkedSize;

    const etag = linkedEtag ?? normalizeEtag(res.headers.get('etag'));
    const sha256 = etag && SHA256_RE.test(etag) ? etag : undefined;

    // 206: append to the partial file; 200: (re)start it.
    const reader = res.body.getReader();
    const fh = await open(part, start > 0 ? 'a' : 'w').catch(async (err: unknown) => {
      await reader.cancel().catch(() => undefined);
      throw err;
    });
    let received = start;
    ctx.onProgress?.(received, total, file);
    try {
      for (;;) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (err) {
          throw new TransientError(`${file}: connection lost after ${received} bytes — ${networkReason(err, ac.signal, ctx)}`);
        }
        if (next.done) break;
        arm();
        await fh.write(next.value);
        received += next.value.byteLength;
        ctx.onProgress?.(received, total, file);
      }
      await fh.sync();
    } finally {
      await reader.cancel().catch(() => undefined);
      await fh.close();
    }
    clearTimeout(timer);

    const size = sizeOf(part);
    if (total !== undefined && size !== total) {
      if (size < total) throw new TransientError(`${file}: got ${size} of ${total} bytes`);
      rmSync(part, { force: true });
      throw new TransientError(`${file}: got ${size} bytes but expected ${total}; restarting`);
    }
    if (sha256) {
      const actual = await sha256File(part);
      if (actual !== sha256) {
        rmSync(part, { force: true });
        throw new FatalError(
          `${file}: checksum mismatch (sha256 ${actual}, the server announced ${sha256}); the corrupt download was deleted — run again to retry`,
        );
      }
    }
    renameSync(part, dest);
    return 'ok';
  } finally {
    clearTimeout(timer);
  }
}

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A progress line on stderr, at most 5 times a second, only when stderr is a TTY. */
export function ttyProgress(stream: NodeJS.WriteStream = process.stderr): ProgressFn | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  let lastFile = '';
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  return (received, total, file) => {
    const now = Date.now();
    const done = total !== undefined && received >= total;
    if (file === lastFile && !done && now - last < 200) return;
    last = now;
    lastFile = file;
    const pct = total ? ` (${Math.floor((100 * received) / total)}%)` : '';
    stream.write(`\rdownloading ${basename(file)}: ${mb(received)}${total !== undefined ? ` / ${mb(total)}` : ''}${pct}\x1b[K${done ? '\n' : ''}`);
  };
}
