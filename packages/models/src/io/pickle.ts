import { posix } from 'node:path';
import { UserError } from '@dfdet/core';

/**
 * A restricted unpickler for the pickles inside torch checkpoints (`data.pkl`).
 *
 * Nothing is ever executed: GLOBAL / STACK_GLOBAL resolve only names on an allow-list of
 * state-dict globals, and "calling" one of them (REDUCE / NEWOBJ) builds a plain JS descriptor
 * (a tensor reference, a Map for an OrderedDict, a string for a TorchVersion, ...). Any other
 * global is refused with a UserError. Memo size, stack depth and every length field are bounded
 * by the remaining input.
 *
 * Value mapping: None → null, bool → boolean, int → number (bigint when outside the safe
 * integer range), float → number, str → string, bytes/bytearray → Uint8Array, list / tuple /
 * set / frozenset → array (tuples are frozen), dict / OrderedDict → Map.
 */

// ---------------------------------------------------------------------------------------------
// Descriptors.

/** Element type of a torch storage or tensor. */
export type TorchDtype =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export const TORCH_DTYPE_BYTES: Readonly<Record<TorchDtype, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** A resolved, allow-listed global (e.g. `torch.FloatStorage`). */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get fullName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage referenced by a persistent id `('storage', storage_type, key, location, numel)`. */
export interface TorchStorageRef {
  kind: 'torch-storage';
  /** Element type; `untyped` storages (torch>=2 `UntypedStorage`) count bytes. */
  dtype: TorchDtype | 'untyped';
  /** The record name under `<archive>/data/`. */
  key: string;
  location: string;
  /** Element count (bytes for untyped storages). */
  numel: number;
}

/** A tensor as `_rebuild_tensor_v2/v3` describes it: a strided view into a storage. */
export interface TorchTensorRef {
  kind: 'torch-tensor';
  storage: TorchStorageRef;
  dtype: TorchDtype;
  storageOffset: number;
  size: number[];
  stride: number[];
}

export function isTorchTensorRef(v: unknown): v is TorchTensorRef {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'torch-tensor';
}

export function isTorchStorageRef(v: unknown): v is TorchStorageRef {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'torch-storage';
}

/** A torch dtype object (`torch.float32`, ...) appearing as a value. */
export interface TorchDtypeRef {
  kind: 'torch-dtype';
  dtype: string;
}

// ---------------------------------------------------------------------------------------------
// The allow-list.

const STORAGE_TYPES: Readonly<Record<string, TorchDtype | 'untyped'>> = {
  'torch.FloatStorage': 'float32',
  'torch.HalfStorage': 'float16',
  'torch.BFloat16Storage': 'bfloat16',
  'torch.DoubleStorage': 'float64',
  'torch.LongStorage': 'int64',
  'torch.IntStorage': 'int32',
  'torch.ShortStorage': 'int16',
  'torch.CharStorage': 'int8',
  'torch.ByteStorage': 'uint8',
  'torch.BoolStorage': 'bool',
  'torch.UntypedStorage': 'untyped',
  'torch.storage.UntypedStorage': 'untyped',
};

/** `torch.<name>` dtype globals; torch pickles a dtype as its canonical name. */
const DTYPE_GLOBALS: Readonly<Record<string, TorchDtype | null>> = {
  'torch.float32': 'float32',
  'torch.float16': 'float16',
  'torch.bfloat16': 'bfloat16',
  'torch.float64': 'float64',
  'torch.int64': 'int64',
  'torch.int32': 'int32',
  'torch.int16': 'int16',
  'torch.int8': 'int8',
  'torch.uint8': 'uint8',
  'torch.bool': 'bool',
  // Known dtypes this reader cannot turn into float32 tensors, but may meet as plain values.
  'torch.complex64': null,
  'torch.complex128': null,
  'torch.float8_e4m3fn': null,
  'torch.float8_e5m2': null,
  'torch.uint16': null,
  'torch.uint32': null,
  'torch.uint64': null,
};

const CALLABLES = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'builtins.set',
  'builtins.frozenset',
  '_codecs.encode',
  'torch.torch_version.TorchVersion',
  'pathlib.PosixPath',
  'pathlib.PurePosixPath',
]);

/** Every global name the unpickler resolves; anything else is refused. */
export const ALLOWED_PICKLE_GLOBALS: ReadonlySet<string> = new Set([
  ...CALLABLES,
  ...Object.keys(STORAGE_TYPES),
  ...Object.keys(DTYPE_GLOBALS),
]);

// ---------------------------------------------------------------------------------------------
// The machine.

export interface UnpickleOptions {
  /** Names the input in error messages, e.g. `data.pkl of model.ckpt`. */
  source?: string;
  /**
   * Resolves BINPERSID ids. The default understands torch's
   * `('storage', storage_type, key, location, numel)` and returns a TorchStorageRef.
   */
  persistentLoad?: (pid: unknown) => unknown;
  /** Upper bound on the value stack (default 1,000,000 entries). */
  maxStack?: number;
  /** Upper bound on memo entries (default 1,000,000). */
  maxMemo?: number;
}

type Stack = unknown[];

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly fail: (msg: string) => never,
  ) {}
  get remaining(): number {
    return this.buf.byteLength - this.pos;
  }
  need(n: number, what: string): void {
    if (n > this.remaining) this.fail(`truncated: ${what} needs ${n} bytes at offset ${this.pos}, only ${this.remaining} left`);
  }
  u8(): number {
    this.need(1, 'opcode argument');
    return this.buf[this.pos++]!;
  }
  view(n: number): DataView {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }
  u16(): number {
    this.need(2, 'u16');
    return this.view(2).getUint16(0, true);
  }
  u32(): number {
    this.need(4, 'u32');
    return this.view(4).getUint32(0, true);
  }
  i32(): number {
    this.need(4, 'i32');
    return this.view(4).getInt32(0, true);
  }
  /** u64 length field, which must fit in the remaining input. */
  len64(what: string): number {
    this.need(8, what);
    const n = this.view(8).getBigUint64(0, true);
    if (n > BigInt(this.remaining)) this.fail(`truncated: ${what} of ${n} bytes at offset ${this.pos - 8}, only ${this.remaining} left`);
    return Number(n);
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** A newline-terminated ASCII line (GLOBAL arguments), at most 1000 bytes. */
  line(what: string): string {
    const limit = Math.min(this.buf.byteLength, this.pos + 1000);
    for (let i = this.pos; i < limit; i++) {
      if (this.buf[i] === 0x0a) {
        const s = Buffer.from(this.buf.subarray(this.pos, i)).toString('latin1');
        this.pos = i + 1;
        return s;
      }
    }
    return this.fail(`unterminated ${what} at offset ${this.pos}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function intFromLE(bytes: Uint8Array): number | bigint {
  if (bytes.byteLength === 0) return 0;
  let v = 0n;
  for (let i = bytes.byteLength - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.byteLength - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.byteLength);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PickleGlobal) return v.fullName;
  if (Array.isArray(v)) return Object.isFrozen(v) ? 'tuple' : 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return (v as { kind?: string }).kind ?? 'object';
  return typeof v;
}

function tuple(items: unknown[]): readonly unknown[] {
  return Object.freeze(items);
}

/**
 * Unpickles `data` without executing anything. Throws UserError on forbidden globals,
 * malformed or truncated input.
 */
export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  const source = options.source ?? 'pickle';
  const maxStack = options.maxStack ?? 1_000_000;
  const maxMemo = options.maxMemo ?? 1_000_000;
  const fail = (msg: string): never => {
    throw new UserError(`${source}: ${msg}`);
  };
  const r = new Reader(data, fail);
  const persistentLoad = options.persistentLoad ?? ((pid: unknown) => torchPersistentLoad(pid, fail));

  let stack: Stack = [];
  const metastack: Stack[] = [];
  const memo = new Map<number, unknown>();

  const push = (v: unknown): void => {
    if (stack.length >= maxStack) fail(`stack depth exceeds ${maxStack}`);
    stack.push(v);
  };
  const pop = (what: string): unknown => {
    if (stack.length === 0) fail(`stack underflow at ${what} (offset ${r.pos - 1})`);
    return stack.pop();
  };
  const top = (what: string): unknown => {
    if (stack.length === 0) fail(`stack underflow at ${what} (offset ${r.pos - 1})`);
    return stack[stack.length - 1];
  };
  const popMark = (what: string): unknown[] => {
    if (metastack.length === 0) fail(`${what} without a MARK (offset ${r.pos - 1})`);
    const items = stack;
    stack = metastack.pop()!;
    return items;
  };
  const memoPut = (idx: number, v: unknown): void => {
    if (!memo.has(idx) && memo.size >= maxMemo) fail(`memo exceeds ${maxMemo} entries`);
    memo.set(idx, v);
  };
  const memoGet = (idx: number): unknown => {
    if (!memo.has(idx)) fail(`memo key ${idx} used before it was stored`);
    return memo.get(idx);
  };
  const str = (bytes: Uint8Array, what: string): string => {
    try {
      return utf8.decode(bytes);
    } catch {
      return fail(`${what} is not valid UTF-8`);
    }
  };
  const resolveGlobal = (module: string, name: string): unknown => {
    const full = `${module}.${name}`;
    if (!ALLOWED_PICKLE_GLOBALS.has(full)) {
      throw new UserError(
        `forbidden global ${JSON.stringify(full)} in ${source}; only state-dict globals are allowed (nothing was executed; the file may be malicious, or hold more than plain weights)`,
      );
    }
    return globalValue(new PickleGlobal(module, name));
  };
  const asDict = (v: unknown, what: string): Map<unknown, unknown> => {
    if (!(v instanceof Map)) fail(`${what} on a ${describe(v)}, expected a dict`);
    return v as Map<unknown, unknown>;
  };
  const asList = (v: unknown, what: string): unknown[] => {
    if (!Array.isArray(v) || Object.isFrozen(v)) fail(`${what} on a ${describe(v)}, expected a list`);
    return v as unknown[];
  };
  const setItems = (d: Map<unknown, unknown>, items: unknown[], what: string): void => {
    if (items.length % 2 !== 0) fail(`${what} with an odd number of items`);
    for (let i = 0; i < items.length; i += 2) d.set(dictKey(items[i], fail), items[i + 1]);
  };

  for (;;) {
    if (r.remaining === 0) fail('truncated: no STOP opcode');
    const op = r.u8();
    switch (op) {
      case 0x80: {
        // PROTO
        const v = r.u8();
        if (v > 5) fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case 0x95: // FRAME: a length hint; the whole pickle is already in memory.
        r.len64('FRAME');
        break;
      case 0x2e: // STOP
        if (metastack.length !== 0) fail('STOP inside an unclosed MARK');
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack (expected 1)`);
        return stack[0];
      case 0x28: // MARK
        if (metastack.length >= maxStack) fail(`MARK nesting exceeds ${maxStack}`);
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length > 0) stack.pop();
        else popMark('POP');
        break;
      case 0x31: // POP_MARK
        popMark('POP_MARK');
        break;
      case 0x32: // DUP
        push(top('DUP'));
        break;

      // Constants and numbers.
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(r.i32());
        break;
      case 0x4b: // BININT1
        push(r.u8());
        break;
      case 0x4d: // BININT2
        push(r.u16());
        break;
      case 0x8a: {
        // LONG1
        const n = r.u8();
        push(intFromLE(r.bytes(n, 'LONG1')));
        break;
      }
      case 0x8b: {
        // LONG4
        const n = r.i32();
        if (n < 0) fail('negative LONG4 length');
        if (n > 1 << 16) fail(`LONG4 of ${n} bytes is unreasonably large`);
        push(intFromLE(r.bytes(n, 'LONG4')));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        r.need(8, 'BINFLOAT');
        push(r.view(8).getFloat64(0, false));
        break;

      // Strings and bytes.
      case 0x58: {
        // BINUNICODE
        const n = r.u32();
        push(str(r.bytes(n, 'BINUNICODE'), 'BINUNICODE'));
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        const n = r.u8();
        push(str(r.bytes(n, 'SHORT_BINUNICODE'), 'SHORT_BINUNICODE'));
        break;
      }
      case 0x8d: {
        // BINUNICODE8
        const n = r.len64('BINUNICODE8');
        push(str(r.bytes(n, 'BINUNICODE8'), 'BINUNICODE8'));
        break;
      }
      case 0x54: {
        // BINSTRING (Python 2 str)
        const n = r.i32();
        if (n < 0) fail('negative BINSTRING length');
        push(Buffer.from(r.bytes(n, 'BINSTRING')).toString('latin1'));
        break;
      }
      case 0x55: {
        // SHORT_BINSTRING
        const n = r.u8();
        push(Buffer.from(r.bytes(n, 'SHORT_BINSTRING')).toString('latin1'));
        break;
      }
      case 0x43: {
        // SHORT_BINBYTES
        const n = r.u8();
        push(r.bytes(n, 'SHORT_BINBYTES'));
        break;
      }
      case 0x42: {
        // BINBYTES
        const n = r.u32();
        push(r.bytes(n, 'BINBYTES'));
        break;
      }
      case 0x8e: // BINBYTES8
      case 0x96: {
        // BYTEARRAY8
        const n = r.len64('BINBYTES8');
        push(r.bytes(n, 'BINBYTES8'));
        break;
      }

      // Containers.
      case 0x29: // EMPTY_TUPLE
        push(tuple([]));
        break;
      case 0x85: // TUPLE1
        push(tuple([pop('TUPLE1')]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop('TUPLE2');
        const a = pop('TUPLE2');
        push(tuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop('TUPLE3');
        const b = pop('TUPLE3');
        const a = pop('TUPLE3');
        push(tuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        push(tuple(popMark('TUPLE')));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark('LIST'));
        break;
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x64: {
        // DICT
        const items = popMark('DICT');
        const d = new Map<unknown, unknown>();
        setItems(d, items, 'DICT');
        push(d);
        break;
      }
      case 0x8f: // EMPTY_SET
        push([]);
        break;
      case 0x91: // FROZENSET
        push(tuple(popMark('FROZENSET')));
        break;
      case 0x61: {
        // APPEND
        const v = pop('APPEND');
        asList(top('APPEND'), 'APPEND').push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark('APPENDS');
        const list = asList(top('APPENDS'), 'APPENDS');
        for (const v of items) list.push(v);
        break;
      }
      case 0x90: {
        // ADDITEMS (sets are arrays here)
        const items = popMark('ADDITEMS');
        const set = asList(top('ADDITEMS'), 'ADDITEMS');
        for (const v of items) set.push(v);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop('SETITEM');
        const k = pop('SETITEM');
        asDict(top('SETITEM'), 'SETITEM').set(dictKey(k, fail), v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark('SETITEMS');
        setItems(asDict(top('SETITEMS'), 'SETITEMS'), items, 'SETITEMS');
        break;
      }

      // Memo.
      case 0x71: // BINPUT
        memoPut(r.u8(), top('BINPUT'));
        break;
      case 0x72: // LONG_BINPUT
        memoPut(r.u32(), top('LONG_BINPUT'));
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size, top('MEMOIZE'));
        break;
      case 0x68: // BINGET
        push(memoGet(r.u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(r.u32()));
        break;

      // Globals and object construction: allow-listed descriptors only.
      case 0x63: {
        // GLOBAL
        const module = r.line('GLOBAL module');
        const name = r.line('GLOBAL name');
        push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop('STACK_GLOBAL');
        const module = pop('STACK_GLOBAL');
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop('REDUCE');
        const fn = pop('REDUCE');
        push(callGlobal(fn, args, 'REDUCE', fail));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop('NEWOBJ');
        const cls = pop('NEWOBJ');
        push(callGlobal(cls, args, 'NEWOBJ', fail));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop('NEWOBJ_EX');
        const args = pop('NEWOBJ_EX');
        const cls = pop('NEWOBJ_EX');
        if (!(kwargs instanceof Map) || kwargs.size !== 0) fail('NEWOBJ_EX with keyword arguments is not supported');
        push(callGlobal(cls, args, 'NEWOBJ_EX', fail));
        break;
      }
      case 0x62: {
        // BUILD: instance state (e.g. an OrderedDict's `_metadata`) is not needed; dropped.
        pop('BUILD');
        top('BUILD');
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop('BINPERSID');
        push(persistentLoad(pid));
        break;
      }
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail('out-of-band pickle buffers are not supported');
        break;
      default:
        fail(
          `unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${r.pos - 1} (only the binary opcodes torch.save emits are accepted)`,
        );
    }
  }
}

/** Dict keys: primitives keep value semantics in a JS Map; tuples of primitives become strings. */
function dictKey(k: unknown, fail: (msg: string) => never): unknown {
  if (k === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof k)) return k;
  if (Array.isArray(k) && Object.isFrozen(k)) return JSON.stringify(k, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  if (k instanceof PickleGlobal) return k.fullName;
  return fail(`unhashable or unsupported dict key of type ${describe(k)}`);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function intTuple(v: unknown, what: string, fail: (msg: string) => never): number[] {
  if (!Array.isArray(v) || !v.every((x) => isInt(x) && x >= 0)) {
    return fail(`${what} must be a tuple of non-negative integers, got ${describe(v)}`);
  }
  return [...(v as number[])];
}

function callGlobal(fn: unknown, argsRaw: unknown, op: string, fail: (msg: string) => never): unknown {
  if (!(fn instanceof PickleGlobal)) return fail(`${op} on a ${describe(fn)}, expected an allowed global`);
  if (!Array.isArray(argsRaw)) return fail(`${op} ${fn.fullName}: arguments must be a tuple, got ${describe(argsRaw)}`);
  const args = argsRaw as unknown[];
  const name = fn.fullName;
  switch (name) {
    case 'collections.OrderedDict':
      if (args.length === 0) return new Map();
      if (args.length === 1 && Array.isArray(args[0])) {
        const m = new Map<unknown, unknown>();
        for (const pair of args[0] as unknown[]) {
          if (!Array.isArray(pair) || pair.length !== 2) return fail('OrderedDict items must be (key, value) pairs');
          m.set(dictKey(pair[0], fail), pair[1]);
        }
        return m;
      }
      return fail('OrderedDict called with unexpected arguments');
    case 'torch._utils._rebuild_tensor_v2':
    case 'torch._utils._rebuild_tensor_v3': {
      // v2: (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      // v3: (storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[, metadata])
      const [storage, offset, size, stride] = args;
      if (!isTorchStorageRef(storage)) return fail(`${name}: first argument must be a storage, got ${describe(storage)}`);
      if (!isInt(offset) || offset < 0) return fail(`${name}: storage offset must be a non-negative integer`);
      const sizes = intTuple(size, `${name}: size`, fail);
      const strides = intTuple(stride, `${name}: stride`, fail);
      if (sizes.length !== strides.length) return fail(`${name}: size has ${sizes.length} dims but stride has ${strides.length}`);
      let dtype: TorchDtype;
      if (name.endsWith('v3')) {
        const d = args[6];
        if (typeof d !== 'object' || d === null || (d as TorchDtypeRef).kind !== 'torch-dtype') {
          return fail(`${name}: seventh argument must be a dtype`);
        }
        const known = DTYPE_GLOBALS[`torch.${(d as TorchDtypeRef).dtype}`];
        if (!known) return fail(`${name}: tensors of dtype ${(d as TorchDtypeRef).dtype} are not supported`);
        dtype = known;
      } else {
        if (storage.dtype === 'untyped') return fail(`${name}: an untyped storage needs _rebuild_tensor_v3 with a dtype`);
        dtype = storage.dtype;
      }
      const t: TorchTensorRef = { kind: 'torch-tensor', storage, dtype, storageOffset: offset, size: sizes, stride: strides };
      return t;
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      const [data] = args;
      if (!isTorchTensorRef(data)) return fail(`${name}: first argument must be a tensor, got ${describe(data)}`);
      return data;
    }
    case 'builtins.set':
    case 'builtins.frozenset':
      if (args.length === 0) return [];
      if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as unknown[])];
      return fail(`${name} called with unexpected arguments`);
    case '_codecs.encode': {
      const [text, encoding] = args;
      if (typeof text !== 'string') return fail('_codecs.encode: first argument must be a string');
      const enc = typeof encoding === 'string' ? encoding.toLowerCase().replace('_', '-') : 'utf-8';
      if (enc === 'latin1' || enc === 'latin-1' || enc === 'iso-8859-1') {
        for (let i = 0; i < text.length; i++) {
          if (text.charCodeAt(i) > 0xff) return fail('_codecs.encode: character outside latin-1');
        }
        return new Uint8Array(Buffer.from(text, 'latin1'));
      }
      if (enc === 'utf-8' || enc === 'utf8') return new Uint8Array(Buffer.from(text, 'utf8'));
      return fail(`_codecs.encode: unsupported encoding ${JSON.stringify(encoding)}`);
    }
    case 'torch.torch_version.TorchVersion': {
      const [v] = args;
      if (typeof v !== 'string') return fail('TorchVersion needs a string');
      return v;
    }
    case 'pathlib.PosixPath':
    case 'pathlib.PurePosixPath': {
      if (!args.every((p) => typeof p === 'string')) return fail(`${name} needs string parts`);
      return args.length === 0 ? '.' : posix.join(...(args as string[]));
    }
    default:
      return fail(`${op} ${name}: this global is a type tag, not something to call`);
  }
}

/** dtype globals (`torch.float32`, ...) are values, not callables: they become TorchDtypeRef. */
function globalValue(g: PickleGlobal): unknown {
  if (DTYPE_GLOBALS[g.fullName] !== undefined) {
    const ref: TorchDtypeRef = { kind: 'torch-dtype', dtype: g.name };
    return ref;
  }
  return g;
}

/**
 * torch's persistent ids: `('storage', storage_type, key, location, numel)` where storage_type
 * is one of the allow-listed `torch.*Storage` globals.
 */
export function torchPersistentLoad(pid: unknown, fail: (msg: string) => never): TorchStorageRef {
  if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
    return fail(`unsupported persistent id ${describe(pid)} (expected ('storage', type, key, location, numel))`);
  }
  const [, type, key, location, count] = pid as unknown[];
  const g = type instanceof PickleGlobal ? type : null;
  const dtype = g ? STORAGE_TYPES[g.fullName] : undefined;
  if (!dtype) return fail(`persistent id: ${describe(type)} is not a storage type`);
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]{1,200}$/.test(key) || key === '.' || key === '..') {
    return fail(`persistent id: storage key ${JSON.stringify(key)} is not a plain record name`);
  }
  if (typeof location !== 'string') return fail('persistent id: storage location must be a string');
  if (!isInt(count) || count < 0) return fail('persistent id: storage size must be a non-negative integer');
  return { kind: 'torch-storage', dtype, key, location, numel: count };
}
