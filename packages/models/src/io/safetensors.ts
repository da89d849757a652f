import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { UserError, writeFileAtomic } from '@dfdet/core';
import { numel, type NamedTensors, type TensorData } from './tensor-data.js';

/**
 * safetensors reading and writing (https://github.com/huggingface/safetensors), parsed
 * defensively: weight files are untrusted input. Layout: u64 little-endian header length N,
 * N bytes of UTF-8 JSON, then the data section that every tensor's `data_offsets` index into.
 */

/** Element types this reader accepts. I64/I32 exist so buffers such as `position_ids` can be listed (and read as float). */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32';

export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
};

/** The largest JSON header accepted (the reference implementation uses the same limit). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) byte offsets relative to the start of the data section. */
  dataOffsets: [number, number];
}

const LITTLE_ENDIAN = endianness() === 'LE';
/** readSync moves at most this many bytes per call (well under its int32 length limit). */
const READ_CHUNK = 1 << 30;

function isDtype(v: unknown): v is SafetensorsDtype {
  return typeof v === 'string' && Object.hasOwn(SAFETENSORS_DTYPE_BYTES, v);
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Element conversion (shared with the torch checkpoint reader).

let f16Table: Float32Array | undefined;

/** IEEE 754 binary16 bits → number (exact; subnormals, ±0, ±inf and NaN included). */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** bfloat16 bits → number (bfloat16 is the upper half of a float32). */
export function bf16ToF32(bits: number): number {
  const u32 = new Uint32Array([(bits & 0xffff) << 16]);
  return new Float32Array(u32.buffer)[0]!;
}

function getF16Table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16ToF32(i);
  }
  return f16Table;
}

/** Element types a raw little-endian byte buffer can be decoded from. */
export type RawDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const RAW_DTYPE_BYTES: Readonly<Record<RawDtype, number>> = {
  ...SAFETENSORS_DTYPE_BYTES,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/**
 * Decodes `count` little-endian elements of `dtype` starting at byte 0 of `bytes` into a new
 * float32 array. `bytes.byteOffset` need not be aligned.
 */
export function decodeToFloat32(bytes: Uint8Array, dtype: RawDtype, count: number): Float32Array {
  const size = RAW_DTYPE_BYTES[dtype];
  if (bytes.byteLength < count * size) {
    throw new Error(`decodeToFloat32: ${bytes.byteLength} bytes hold fewer than ${count} ${dtype} elements`);
  }
  const out = new Float32Array(count);
  if (count === 0) return out;
  const aligned = bytes.byteOffset % size === 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  switch (dtype) {
    case 'F32':
      if (LITTLE_ENDIAN) {
        new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
      } else {
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      }
      break;
    case 'F16': {
      const table = getF16Table();
      if (LITTLE_ENDIAN && aligned) {
        const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
        for (let i = 0; i < count; i++) out[i] = table[u16[i]!]!;
      } else {
        for (let i = 0; i < count; i++) out[i] = table[view.getUint16(i * 2, true)]!;
      }
      break;
    }
    case 'BF16': {
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      break;
    }
    case 'F64':
      if (LITTLE_ENDIAN && aligned) {
        const f64 = new Float64Array(bytes.buffer, bytes.byteOffset, count);
        for (let i = 0; i < count; i++) out[i] = f64[i]!;
      } else {
        for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      }
      break;
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'U8':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i) !== 0 ? 1 : 0;
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading.

function readExactly(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.byteLength) {
    const n = readSync(fd, target, done, Math.min(READ_CHUNK, target.byteLength - done), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function validateEntry(label: string, name: string, raw: unknown, dataBytes: number): SafetensorsEntry {
  const where = `${label}: tensor ${JSON.stringify(name)}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${where}: expected an object {dtype, shape, data_offsets}, got ${JSON.stringify(raw)?.slice(0, 80)}`);
  }
  const r = raw as Record<string, unknown>;
  const { dtype, shape, data_offsets: offsets } = r;
  if (!isDtype(dtype)) {
    throw new UserError(
      `${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')})`,
    );
  }
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
    throw new UserError(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const dims = shape as number[];
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (!Number.isSafeInteger(count)) throw new UserError(`${where}: shape ${fmtShape(dims)} has too many elements`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
  ) {
    throw new UserError(`${where}: data_offsets must be two non-negative integers [begin, end], got ${JSON.stringify(offsets)}`);
  }
  const [b, e] = offsets as [number, number];
  if (e < b) throw new UserError(`${where}: data_offsets [${b}, ${e}] end before they begin`);
  if (e > dataBytes) {
    throw new UserError(
      `${where}: data_offsets [${b}, ${e}] reach past the data section (${dataBytes} bytes); the file is truncated or corrupt`,
    );
  }
  const need = count * SAFETENSORS_DTYPE_BYTES[dtype];
  if (e - b !== need) {
    throw new UserError(`${where}: data_offsets [${b}, ${e}] hold ${e - b} bytes, but ${dtype} ${fmtShape(dims)} needs ${need}`);
  }
  return { dtype, shape: [...dims], dataOffsets: [b, e] };
}

/**
 * An open safetensors file. `open` validates the whole header up front; `read` then pulls
 * one tensor's bytes at a time, so a multi-GB file is never held in memory at once.
 */
export class SafetensorsFile {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute byte position where the data section starts (8 + header length). */
  readonly dataStart: number;
  private readonly entries: Map<string, SafetensorsEntry>;
  private fd: number | undefined;

  private constructor(path: string, fd: number, dataStart: number, entries: Map<string, SafetensorsEntry>, metadata: Record<string, string>) {
    this.path = path;
    this.fd = fd;
    this.dataStart = dataStart;
    this.entries = entries;
    this.metadata = Object.freeze(metadata);
  }

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new UserError(`${path}: file not found`, { cause: err });
      if (code === 'EISDIR') throw new UserError(`${path}: is a directory, not a .safetensors file`, { cause: err });
      throw new UserError(`${path}: cannot open (${(err as Error).message})`, { cause: err });
    }
    try {
      return SafetensorsFile.parse(path, fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  private static parse(path: string, fd: number): SafetensorsFile {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UserError(`${path}: not a regular file`);
    const fileSize = stat.size;
    if (fileSize < 8) {
      throw new UserError(`${path}: truncated: ${fileSize} bytes is too short for a safetensors file (needs at least the 8-byte header length)`);
    }
    const lenBytes = new Uint8Array(8);
    if (readExactly(fd, lenBytes, 0) !== 8) throw new UserError(`${path}: truncated while reading the header length`);
    const n64 = new DataView(lenBytes.buffer).getBigUint64(0, true);
    if (n64 > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
      throw new UserError(
        `${path}: header length ${n64} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES / 1024 / 1024} MiB limit; not a safetensors file, or corrupt`,
      );
    }
    const n = Number(n64);
    if (n < 2) throw new UserError(`${path}: header length ${n} is too small for a JSON object; not a safetensors file`);
    if (8 + n > fileSize) {
      throw new UserError(`${path}: truncated: the header claims ${n} bytes but only ${fileSize - 8} follow the length prefix`);
    }
    const headerBytes = new Uint8Array(n);
    if (readExactly(fd, headerBytes, 8) !== n) throw new UserError(`${path}: truncated while reading the ${n}-byte header`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
    } catch (err) {
      throw new UserError(`${path}: the header is not valid UTF-8; not a safetensors file, or corrupt`, { cause: err });
    }
    let header: unknown;
    try {
      header = JSON.parse(text);
    } catch (err) {
      throw new UserError(`${path}: the header is not valid JSON (${(err as Error).message}); not a safetensors file, or corrupt`, {
        cause: err,
      });
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) {
      throw new UserError(`${path}: the header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}`);
    }

    const dataStart = 8 + n;
    const dataBytes = fileSize - dataStart;
    const entries = new Map<string, SafetensorsEntry>();
    const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
          throw new UserError(`${path}: __metadata__ must be an object of string values`);
        }
        for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
          if (typeof v !== 'string') {
            throw new UserError(`${path}: __metadata__ ${JSON.stringify(k)} must be a string, got ${JSON.stringify(v)?.slice(0, 80)}`);
          }
          metadata[k] = v;
        }
        continue;
      }
      entries.set(name, validateEntry(path, name, raw, dataBytes));
    }

    // No two tensors may share bytes (empty tensors occupy none).
    const spans = [...entries].filter(([, e]) => e.dataOffsets[1] > e.dataOffsets[0]);
    spans.sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
    for (let i = 1; i < spans.length; i++) {
      const [prevName, prev] = spans[i - 1]!;
      const [name, cur] = spans[i]!;
      if (cur.dataOffsets[0] < prev.dataOffsets[1]) {
        throw new UserError(
          `${path}: tensor ${JSON.stringify(name)}: data_offsets [${cur.dataOffsets.join(', ')}] overlap tensor ${JSON.stringify(prevName)} [${prev.dataOffsets.join(', ')}]`,
        );
      }
    }
    return new SafetensorsFile(path, fd, dataStart, entries, metadata);
  }

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new UserError(`${this.path}: no tensor named ${JSON.stringify(name)}`);
    return { dtype: e.dtype, shape: [...e.shape], dataOffsets: [...e.dataOffsets] };
  }

  /** Reads one tensor (only its bytes) and converts it to float32. */
  read(name: string): TensorData {
    const e = this.entries.get(name);
    if (!e) throw new UserError(`${this.path}: no tensor named ${JSON.stringify(name)}`);
    if (this.fd === undefined) throw new Error(`${this.path}: read(${JSON.stringify(name)}) after close()`);
    const [b, end] = e.dataOffsets;
    const count = numel(e.shape);
    // F32 on a little-endian host: read straight into the result, no second copy.
    const direct = e.dtype === 'F32' && LITTLE_ENDIAN ? new Float32Array(count) : undefined;
    const bytes = direct ? new Uint8Array(direct.buffer) : new Uint8Array(end - b);
    const got = readExactly(this.fd, bytes, this.dataStart + b);
    if (got !== bytes.byteLength) {
      throw new UserError(
        `${this.path}: tensor ${JSON.stringify(name)}: truncated (read ${got} of ${bytes.byteLength} bytes; the file changed since it was opened?)`,
      );
    }
    return { shape: [...e.shape], data: direct ?? decodeToFloat32(bytes, e.dtype, count) };
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

/** Reads every tensor (or those `filter` accepts) of a safetensors file as float32. */
export function readSafetensors(path: string, filter?: (name: string) => boolean): NamedTensors {
  const file = SafetensorsFile.open(path);
  try {
    const out: NamedTensors = new Map();
    for (const name of file.names()) {
      if (!filter || filter(name)) out.set(name, file.read(name));
    }
    return out;
  } finally {
    file.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing.

/**
 * Writes float32 tensors as a safetensors file, atomically. Keys are sorted, the data is laid
 * out contiguously in that order, and the header is space-padded so the data section starts on
 * an 8-byte boundary.
 */
export function writeSafetensors(
  path: string,
  tensors: NamedTensors | Record<string, TensorData>,
  metadata?: Record<string, string>,
): void {
  const items: [string, TensorData][] = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  items.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new UserError(`${path}: metadata ${JSON.stringify(k)} must be a string, got ${typeof v}`);
      meta[k] = v;
    }
    header.__metadata__ = meta;
  }
  let offset = 0;
  for (const [name, t] of items) {
    if (name === '' || name === '__metadata__') throw new UserError(`${path}: ${JSON.stringify(name)} is not a valid tensor name`);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new UserError(`${path}: tensor ${JSON.stringify(name)}: shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
    }
    if (!(t.data instanceof Float32Array)) throw new UserError(`${path}: tensor ${JSON.stringify(name)}: data must be a Float32Array`);
    const count = numel(t.shape);
    if (t.data.length !== count) {
      throw new UserError(
        `${path}: tensor ${JSON.stringify(name)}: data has ${t.data.length} elements, but shape ${fmtShape(t.shape)} needs ${count}`,
      );
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + count * 4] };
    offset += count * 4;
  }

  let json = JSON.stringify(header);
  let headerBytes = Buffer.from(json, 'utf8');
  const pad = (8 - ((8 + headerBytes.length) % 8)) % 8;
  if (pad > 0) {
    json += ' '.repeat(pad);
    headerBytes = Buffer.from(json, 'utf8');
  }
  if (headerBytes.length > MAX_SAFETENSORS_HEADER_BYTES) {
    throw new UserError(`${path}: the header would be ${headerBytes.length} bytes, over the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of items) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    } else {
      for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + i * 4, t.data[i]!, true);
    }
    pos += t.data.byteLength;
  }
  writeFileAtomic(path, out);
}
