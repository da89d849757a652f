import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import yauzl from 'yauzl';
import { UserError } from '@dfdet/core';
import { numel, type NamedTensors, type TensorData } from './tensor-data.js';
import { decodeToFloat32, type RawDtype } from './safetensors.js';
import {
  PickleGlobal,
  TORCH_DTYPE_BYTES,
  isTorchStorageRef,
  isTorchTensorRef,
  unpickle,
  type TorchDtype,
  type TorchDtypeRef,
  type TorchTensorRef,
} from './pickle.js';

/**
 * Reads `torch.save` checkpoints in the zip format (torch >= 1.6): `<archive>/data.pkl` holds the
 * pickled object, `<archive>/data/<key>` the raw little-endian storages. The pickle goes through
 * the restricted unpickler (nothing is executed); only the storages that the state dict's
 * tensors use are read, each straight from the zip with random access.
 */

export interface TorchCheckpoint {
  /** The state dict's tensors as contiguous float32, in checkpoint order. */
  tensors: NamedTensors;
  /**
   * Every other top-level entry (Lightning's `hyper_parameters`, `epoch`, `global_step`, ...) as
   * plain JSON-like values: dicts become objects, tuples arrays, big ints strings; tensors are
   * not loaded but summarised as `{ __tensor__: { dtype, shape } }`.
   */
  extra: Record<string, unknown>;
}

export interface ReadTorchCheckpointOptions {
  /** Load only the state-dict tensors whose (checkpoint) names pass. */
  filter?: (name: string) => boolean;
}

/** data.pkl is small even for large models (it holds names and shapes, not weights). */
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;
const MAX_ZIP_ENTRIES = 1_000_000;
/** Where a state dict may hide inside a checkpoint dict, in the order they are tried. */
const STATE_DICT_KEYS = ['state_dict', 'model', 'module', 'model_state_dict'];
const MAX_PLAIN_DEPTH = 64;
const LITTLE_ENDIAN = endianness() === 'LE';

const RAW: Readonly<Record<TorchDtype, RawDtype>> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

function sniff(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: file not found`, { cause: err });
    throw new UserError(`${path}: cannot open (${(err as Error).message})`, { cause: err });
  }
  const head = new Uint8Array(16);
  let n: number;
  try {
    n = readSync(fd, head, 0, 16, 0);
  } catch (err) {
    throw new UserError(`${path}: cannot read (${(err as Error).message})`, { cause: err });
  } finally {
    closeSync(fd);
  }
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return;
  if (n >= 2 && head[0] === 0x80 && head[1]! <= 5) {
    throw new UserError(
      `${path}: legacy torch.save format; re-save with torch>=1.6 (e.g. torch.save(torch.load(f), f)), or convert to .safetensors`,
    );
  }
  if (n >= 9 && head[8] === 0x7b /* '{' after a u64 header length */) {
    throw new UserError(`${path}: looks like a safetensors file, not a torch checkpoint; name it *.safetensors`);
  }
  throw new UserError(`${path}: not a torch checkpoint (expected the zip format that torch.save writes)`);
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, path: string): Promise<Uint8Array> {
  const out = new Uint8Array(entry.uncompressedSize);
  let pos = 0;
  try {
    const stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (pos + chunk.length > out.byteLength) throw new Error('entry is longer than its recorded size');
      out.set(chunk, pos);
      pos += chunk.length;
    }
  } catch (err) {
    throw new UserError(`${path}: cannot read ${entry.fileName} (${(err as Error).message}); the file is truncated or corrupt`, {
      cause: err,
    });
  }
  if (pos !== out.byteLength) throw new UserError(`${path}: ${entry.fileName} is truncated (${pos} of ${out.byteLength} bytes)`);
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof Map) return 'dict';
  if (Array.isArray(v)) return 'list';
  if (isTorchTensorRef(v)) return 'tensor';
  return typeof v;
}

function hasTensor(m: Map<unknown, unknown>, depth = 0, seen = new Set<unknown>()): boolean {
  if (depth > 32 || seen.has(m)) return false;
  seen.add(m);
  for (const v of m.values()) {
    if (isTorchTensorRef(v)) return true;
    if (v instanceof Map && hasTensor(v, depth + 1, seen)) return true;
  }
  return false;
}

/** Flattens nested dicts of tensors into dotted names; non-tensor leaves are skipped. */
function collectTensors(
  m: Map<unknown, unknown>,
  prefix: string,
  out: [string, TorchTensorRef][],
  depth: number,
  seen: Set<unknown>,
): void {
  if (depth > 32 || seen.has(m)) return;
  seen.add(m);
  for (const [k, v] of m) {
    const name = `${prefix}${String(k)}`;
    if (isTorchTensorRef(v)) out.push([name, v]);
    else if (v instanceof Map) collectTensors(v, `${name}.`, out, depth + 1, seen);
  }
}

/** Converts unpickled values to plain JSON-like data (see TorchCheckpoint.extra). */
export function toPlain(v: unknown, depth = 0, active: Set<unknown> = new Set()): unknown {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean':
    case 'number':
    case 'string':
      return v;
    case 'bigint':
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    default:
      break;
  }
  if (v instanceof Uint8Array) return v;
  if (isTorchTensorRef(v)) return { __tensor__: { dtype: v.dtype, shape: [...v.size] } };
  if (isTorchStorageRef(v)) return { __storage__: { dtype: v.dtype, numel: v.numel } };
  if (v instanceof PickleGlobal) return { __global__: v.fullName };
  if (typeof v === 'object' && (v as TorchDtypeRef).kind === 'torch-dtype') return `torch.${(v as TorchDtypeRef).dtype}`;
  if (depth >= MAX_PLAIN_DEPTH) return '[too deep]';
  if (active.has(v)) return '[circular]';
  active.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => toPlain(x, depth + 1, active));
    if (v instanceof Map) {
      const obj: Record<string, unknown> = {};
      for (const [k, x] of v) {
        Object.defineProperty(obj, String(k), { value: toPlain(x, depth + 1, active), enumerable: true, writable: true, configurable: true });
      }
      return obj;
    }
    return String(v);
  } finally {
    active.delete(v);
  }
}

function checkedExtent(t: TorchTensorRef, storageElems: number, where: string): void {
  let last = t.storageOffset;
  for (let i = 0; i < t.size.length; i++) {
    if (t.size[i]! > 0) last += (t.size[i]! - 1) * t.stride[i]!;
    if (!Number.isSafeInteger(last)) throw new UserError(`${where}: size/stride overflow`);
  }
  if (last >= storageElems) {
    throw new UserError(
      `${where}: view (offset ${t.storageOffset}, size [${t.size.join(', ')}], stride [${t.stride.join(', ')}]) reaches element ${last}, but its storage holds ${storageElems}`,
    );
  }
}

/** Whether size/stride describe a row-major contiguous layout (size-1 dims may have any stride). */
function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  for (let i = size.length - 1, expect = 1; i >= 0; i--) {
    if (size[i]! !== 1 && stride[i]! !== expect) return false;
    expect *= size[i]!;
  }
  return true;
}

/** Copies a strided view of a decoded storage into a new contiguous float32 tensor. */
export function gatherStrided(src: Float32Array, offset: number, size: readonly number[], stride: readonly number[]): Float32Array {
  const count = numel(size);
  const nd = size.length;
  if (count === 0 || isContiguous(size, stride)) return src.slice(offset, offset + count);
  const out = new Float32Array(count);
  if (nd === 0) {
    out[0] = src[offset]!;
    return out;
  }
  const idx = new Array<number>(nd).fill(0);
  const inner = size[nd - 1]!;
  const innerStride = stride[nd - 1]!;
  let base = offset;
  for (let o = 0; o < count; ) {
    for (let j = 0, p = base; j < inner; j++, p += innerStride) out[o++] = src[p]!;
    // Advance the outer odometer (dims 0..nd-2).
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      base += stride[d]!;
      if (idx[d]! < size[d]!) break;
      base -= stride[d]! * size[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Reads a torch.save checkpoint (zip format). The state dict is the top-level dict when it holds
 * tensors directly, else its `state_dict` (Lightning), `model`, `module` or `model_state_dict`
 * entry; nested dicts inside it are flattened to dotted names.
 */
export async function readTorchCheckpoint(path: string, options: ReadTorchCheckpointOptions = {}): Promise<TorchCheckpoint> {
  sniff(path);
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true });
  } catch (err) {
    throw new UserError(`${path}: not a valid zip archive (${(err as Error).message}); the file is truncated or corrupt`, { cause: err });
  }
  try {
    const entries = new Map<string, yauzl.Entry>();
    try {
      for await (const entry of zip.eachEntry()) {
        if (entries.size >= MAX_ZIP_ENTRIES) throw new UserError(`${path}: more than ${MAX_ZIP_ENTRIES} zip entries`);
        if (entries.has(entry.fileName)) throw new UserError(`${path}: duplicate zip entry ${JSON.stringify(entry.fileName)}`);
        entries.set(entry.fileName, entry);
      }
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`${path}: corrupt zip directory (${(err as Error).message})`, { cause: err });
    }

    if ([...entries.keys()].some((n) => /^[^/]+\/(constants\.pkl|code\/)/.test(n))) {
      throw new UserError(
        `${path}: is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; use the .ckpt/.pt state dict or .safetensors weights`,
      );
    }
    const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pkls.length === 0) {
      throw new UserError(`${path}: a zip archive without <archive>/data.pkl; not a torch.save checkpoint`);
    }
    if (pkls.length > 1) throw new UserError(`${path}: several data.pkl records (${pkls.join(', ')}); not a single torch.save checkpoint`);
    const prefix = pkls[0]!.slice(0, -'data.pkl'.length);

    const byteorder = entries.get(`${prefix}byteorder`);
    if (byteorder) {
      if (byteorder.uncompressedSize > 16) throw new UserError(`${path}: corrupt byteorder record`);
      const order = Buffer.from(await readEntry(zip, byteorder, path)).toString('latin1').trim();
      if (order !== 'little') throw new UserError(`${path}: storages are ${JSON.stringify(order)}-endian; only little-endian checkpoints are supported`);
    }

    const pklEntry = entries.get(pkls[0]!)!;
    if (pklEntry.uncompressedSize > MAX_PICKLE_BYTES) {
      throw new UserError(`${path}: data.pkl is ${pklEntry.uncompressedSize} bytes, over the ${MAX_PICKLE_BYTES}-byte limit`);
    }
    const root = unpickle(await readEntry(zip, pklEntry, path), { source: `data.pkl of ${path}` });

    // Locate the state dict.
    if (!(root instanceof Map)) {
      throw new UserError(`${path}: the checkpoint holds a ${describe(root)}, not a dict; expected a state dict or a dict with one`);
    }
    let stateKey: unknown = null;
    let state: Map<unknown, unknown> | undefined;
    const topTensors = [...root.values()].some((v) => isTorchTensorRef(v));
    if (!topTensors) {
      for (const k of STATE_DICT_KEYS) {
        const v = root.get(k);
        if (v instanceof Map && hasTensor(v)) {
          stateKey = k;
          state = v;
          break;
        }
      }
    } else {
      state = root;
    }
    if (!state) {
      const keys = [...root.keys()].slice(0, 20).map((k) => JSON.stringify(k));
      throw new UserError(
        `${path}: no state dict found; top-level keys are ${keys.join(', ') || '(none)'}; expected tensors, or a ${STATE_DICT_KEYS.join('/')} entry holding them`,
      );
    }

    const named: [string, TorchTensorRef][] = [];
    if (state === root) {
      for (const [k, v] of root) if (isTorchTensorRef(v)) named.push([String(k), v]);
    } else {
      collectTensors(state, '', named, 0, new Set());
    }
    const wanted = options.filter ? named.filter(([n]) => options.filter!(n)) : named;

    // Load storages lazily, each once; drop a decoded storage after its last use.
    const uses = new Map<string, number>();
    const cacheKey = (t: TorchTensorRef): string => `${t.storage.key}\u0000${t.dtype}`;
    for (const [, t] of wanted) uses.set(cacheKey(t), (uses.get(cacheKey(t)) ?? 0) + 1);
    const decoded = new Map<string, Float32Array>();
    const tensors: NamedTensors = new Map();
    for (const [name, t] of wanted) {
      const where = `${path}: tensor ${JSON.stringify(name)}`;
      const elemBytes = TORCH_DTYPE_BYTES[t.dtype];
      const storageBytes = t.storage.dtype === 'untyped' ? t.storage.numel : t.storage.numel * TORCH_DTYPE_BYTES[t.storage.dtype];
      if (storageBytes % elemBytes !== 0) throw new UserError(`${where}: storage of ${storageBytes} bytes is not a whole number of ${t.dtype}`);
      const storageElems = storageBytes / elemBytes;
      const count = numel(t.size);
      if (count === 0) {
        tensors.set(name, { shape: [...t.size], data: new Float32Array(0) });
        continue;
      }
      checkedExtent(t, storageElems, where);
      const ck = cacheKey(t);
      let src = decoded.get(ck);
      if (!src) {
        const entry = entries.get(`${prefix}data/${t.storage.key}`);
        if (!entry) throw new UserError(`${where}: its storage record data/${t.storage.key} is missing from the archive`);
        if (entry.uncompressedSize !== storageBytes) {
          throw new UserError(`${where}: storage data/${t.storage.key} has ${entry.uncompressedSize} bytes, but ${t.storage.numel} ${t.storage.dtype} elements need ${storageBytes}`);
        }
        const bytes = await readEntry(zip, entry, path);
        // float32 on a little-endian host needs no conversion: view the bytes in place.
        src =
          t.dtype === 'float32' && LITTLE_ENDIAN && bytes.byteOffset % 4 === 0
            ? new Float32Array(bytes.buffer, bytes.byteOffset, storageElems)
            : decodeToFloat32(bytes, RAW[t.dtype], storageElems);
        decoded.set(ck, src);
      }
      const left = uses.get(ck)! - 1;
      uses.set(ck, left);
      if (left === 0) decoded.delete(ck);
      // The last user of a storage that it covers exactly, contiguously, takes it without a copy.
      const whole = left === 0 && t.storageOffset === 0 && count === src.length && isContiguous(t.size, t.stride);
      const data = whole ? src : gatherStrided(src, t.storageOffset, t.size, t.stride);
      const td: TensorData = { shape: [...t.size], data };
      tensors.set(name, td);
    }

    const extra: Record<string, unknown> = {};
    for (const [k, v] of root) {
      if (state === root ? isTorchTensorRef(v) : k === stateKey) continue;
      Object.defineProperty(extra, String(k), { value: toPlain(v), enumerable: true, writable: true, configurable: true });
    }
    return { tensors, extra };
  } finally {
    zip.close();
  }
}
