import { describe, expect, it } from 'vitest';
import { UserError } from '@dfdet/core';
import { PickleGlobal, toPlain, unpickle, type TorchTensorRef, type UnpickleOptions } from '../../src/io/index.js';

/** Concatenates opcodes: numbers are single bytes, strings latin-1 bytes. */
function pk(...parts: (number | string | Uint8Array | number[])[]): Uint8Array {
  const chunks: Uint8Array[] = parts.map((p) =>
    typeof p === 'number' ? new Uint8Array([p]) : typeof p === 'string' ? new Uint8Array(Buffer.from(p, 'latin1')) : Array.isArray(p) ? new Uint8Array(p) : p,
  );
  return new Uint8Array(Buffer.concat(chunks));
}
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const binunicode = (s: string): Uint8Array => {
  const b = Buffer.from(s, 'utf8');
  return pk(0x58, u32(b.length), b);
};
const shortUnicode = (s: string): Uint8Array => {
  const b = Buffer.from(s, 'utf8');
  return pk(0x8c, b.length, b);
};

function fails(data: Uint8Array, message: RegExp | string, options?: UnpickleOptions): void {
  let caught: unknown;
  try {
    unpickle(data, options);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UserError);
  if (typeof message === 'string') expect((caught as Error).message).toContain(message);
  else expect((caught as Error).message).toMatch(message);
}

describe('unpickle: values', () => {
  it('decodes the protocol-2 value opcodes', () => {
    const be = Buffer.alloc(8);
    be.writeDoubleBE(8e-5);
    const data = pk(
      0x80, 2, // PROTO 2
      0x7d, 0x71, 0, // EMPTY_DICT, BINPUT 0
      0x28, // MARK
      binunicode('ints'), 0x28, 0x4b, 7, 0x4d, 0x34, 0x12, 0x4a, u32(-5 >>> 0), 0x8a, 1, 0xff, 0x8a, 9, [0, 0, 0, 0, 0, 0, 0, 0, 1], 0x6c, // LIST
      binunicode('float'), 0x47, be,
      binunicode('flags'), 0x4e, 0x88, 0x89, 0x87, // TUPLE3
      binunicode('bytes'), 0x43, 3, [1, 2, 3],
      binunicode('greeting'), binunicode('héllo'), 0x71, 1, // BINPUT 1
      binunicode('again'), 0x68, 1, // BINGET 1
      binunicode('empty'), 0x29, // EMPTY_TUPLE
      0x75, // SETITEMS
      0x2e, // STOP
    );
    const v = unpickle(data) as Map<string, unknown>;
    expect(v).toBeInstanceOf(Map);
    expect(v.get('ints')).toEqual([7, 0x1234, -5, -1, 2n ** 64n]);
    expect(v.get('float')).toBe(8e-5);
    expect(v.get('flags')).toEqual([null, true, false]);
    expect(Object.isFrozen(v.get('flags'))).toBe(true);
    expect(v.get('bytes')).toEqual(new Uint8Array([1, 2, 3]));
    expect(v.get('greeting')).toBe('héllo');
    expect(v.get('again')).toBe('héllo');
    expect(v.get('empty')).toEqual([]);
  });

  it('decodes protocol-4 framing, memoize, STACK_GLOBAL and OrderedDict with BUILD state', () => {
    const data = pk(
      0x80, 4,
      0x95, [20, 0, 0, 0, 0, 0, 0, 0], // FRAME
      shortUnicode('collections'), 0x94, shortUnicode('OrderedDict'), 0x94, 0x93, 0x94, // STACK_GLOBAL
      0x29, 0x52, 0x94, // EMPTY_TUPLE REDUCE
      0x28, shortUnicode('a'), 0x4b, 1, shortUnicode('b'), 0x68, 0, 0x75, // SETITEMS; value = memo 0 ('collections')
      0x7d, shortUnicode('_metadata'), 0x7d, 0x73, 0x62, // BUILD with {'_metadata': {}}
      0x2e,
    );
    const v = unpickle(data) as Map<string, unknown>;
    expect([...v]).toEqual([
      ['a', 1],
      ['b', 'collections'],
    ]);
  });

  it('builds tensor descriptors from torch rebuild functions without executing anything', () => {
    // _rebuild_parameter(_rebuild_tensor_v2(storage, 2, (2, 3), (1, 2), False, OrderedDict()), True, OrderedDict())
    const data = pk(
      0x80, 2,
      'ctorch._utils\n_rebuild_parameter\n',
      'ctorch._utils\n_rebuild_tensor_v2\n',
      0x28,
      0x28, binunicode('storage'), 'ctorch\nHalfStorage\n', binunicode('7'), binunicode('cuda:0'), 0x4b, 8, 0x74, 0x51, // BINPERSID
      0x4b, 2,
      0x4b, 2, 0x4b, 3, 0x86,
      0x4b, 1, 0x4b, 2, 0x86,
      0x89,
      'ccollections\nOrderedDict\n', 0x71, 0, 0x29, 0x52,
      0x74, 0x52, // TUPLE, REDUCE
      0x88, 0x68, 0, 0x29, 0x52, 0x87, 0x52,
      0x2e,
    );
    const t = unpickle(data) as TorchTensorRef;
    expect(t).toEqual({
      kind: 'torch-tensor',
      dtype: 'float16',
      storage: { kind: 'torch-storage', dtype: 'float16', key: '7', location: 'cuda:0', numel: 8 },
      storageOffset: 2,
      size: [2, 3],
      stride: [1, 2],
    });
    expect(toPlain(t)).toEqual({ __tensor__: { dtype: 'float16', shape: [2, 3] } });
  });

  it('resolves the harmless helper globals', () => {
    const data = pk(
      0x80, 2, 0x28,
      'c_codecs\nencode\n', binunicode('\u00ff\u0001'), binunicode('latin1'), 0x86, 0x52,
      'cbuiltins\nset\n', 0x5d, 0x4b, 1, 0x61, 0x85, 0x52,
      'ctorch.torch_version\nTorchVersion\n', binunicode('2.1.0'), 0x85, 0x81, // NEWOBJ
      'cpathlib\nPosixPath\n', binunicode('/'), binunicode('a'), binunicode('b.txt'), 0x87, 0x52,
      'ctorch\nbfloat16\n',
      0x6c, 0x2e,
    );
    const v = unpickle(data) as unknown[];
    expect(v).toEqual([new Uint8Array([0xff, 1]), [1], '2.1.0', '/a/b.txt', { kind: 'torch-dtype', dtype: 'bfloat16' }]);
    expect(toPlain(v)).toEqual([new Uint8Array([0xff, 1]), [1], '2.1.0', '/a/b.txt', 'torch.bfloat16']);
  });

  it('survives self-referencing containers', () => {
    // l = []; l.append(l)
    const data = pk(0x80, 2, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x2e);
    const v = unpickle(data) as unknown[];
    expect(v[0]).toBe(v);
    expect(toPlain(v)).toEqual(['[circular]']);
  });
});

describe('unpickle: refusals', () => {
  it('refuses os.system via GLOBAL, naming the global and the source', () => {
    const data = pk(0x80, 2, 'cos\nsystem\n', binunicode('echo pwned'), 0x85, 0x52, 0x2e);
    fails(data, 'forbidden global "os.system" in data.pkl of x.ckpt; only state-dict globals are allowed', {
      source: 'data.pkl of x.ckpt',
    });
  });

  it('refuses globals via STACK_GLOBAL, even without a call', () => {
    fails(pk(0x80, 4, shortUnicode('builtins'), shortUnicode('eval'), 0x93, 0x2e), 'forbidden global "builtins.eval"');
    fails(pk(0x80, 4, shortUnicode('torch'), shortUnicode('load'), 0x93, 0x2e), 'forbidden global "torch.load"');
    fails(pk(0x80, 4, shortUnicode('subprocess'), shortUnicode('Popen'), 0x93, 0x2e), 'forbidden global "subprocess.Popen"');
    fails(pk(0x80, 2, 'c__builtin__\ngetattr\n', 0x2e), 'forbidden global "__builtin__.getattr"');
  });

  it('refuses to call type-tag globals and non-globals', () => {
    fails(pk(0x80, 2, 'ctorch\nFloatStorage\n', 0x29, 0x52, 0x2e), 'not something to call');
    fails(pk(0x80, 2, binunicode('x'), 0x29, 0x52, 0x2e), 'REDUCE on a string');
  });

  it('refuses object-building opcodes outside the binary subset', () => {
    fails(pk(0x80, 2, 0x28, 'ios\nsystem\n', 0x2e), 'unsupported pickle opcode 0x69'); // INST
    fails(pk(0x80, 2, 0x82, 1, 0x2e), 'unsupported pickle opcode 0x82'); // EXT1
    fails(pk(0x80, 6, 0x2e), 'unsupported pickle protocol 6');
  });

  it('bounds every length by the remaining input', () => {
    fails(pk(0x80, 2, 0x58, u32(0xfffffff0), 'abc'), /truncated: BINUNICODE needs 4294967280 bytes/);
    fails(pk(0x80, 4, 0x8d, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), /truncated: BINUNICODE8/);
    fails(pk(0x80, 4, 0x95, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), /truncated: FRAME/);
    fails(pk(0x80, 2, 0x42, u32(100), [1, 2]), /truncated: BINBYTES/);
    fails(pk(0x80, 2, 0x8a, 50, [1, 2]), /truncated: LONG1/);
    fails(pk(0x80, 2, 0x4b), /truncated/);
    fails(pk(0x80, 2, 0x4e), 'truncated: no STOP opcode');
    fails(pk(0x80, 2, 'cos\nsys'), /unterminated GLOBAL/);
  });

  it('refuses malformed stacks and memo use', () => {
    fails(pk(0x80, 2, 0x2e), 'STOP with 0 values');
    fails(pk(0x80, 2, 0x85, 0x2e), 'stack underflow at TUPLE1');
    fails(pk(0x80, 2, 0x74, 0x2e), 'TUPLE without a MARK');
    fails(pk(0x80, 2, 0x68, 3, 0x2e), 'memo key 3 used before it was stored');
    fails(pk(0x80, 2, 0x4e, 0x4e, 0x73, 0x2e), /stack underflow|SETITEM on a None/);
    fails(pk(0x80, 2, 0x7d, 0x5d, 0x4e, 0x73, 0x2e), 'unhashable or unsupported dict key');
    fails(pk(0x80, 2, 0x58, u32(2), [0xc3, 0x28], 0x2e), 'BINUNICODE is not valid UTF-8');
  });

  it('bounds the stack and the memo', () => {
    const many = pk(0x80, 2, ...Array.from({ length: 20 }, () => 0x4e), 0x2e);
    fails(many, 'stack depth exceeds 10', { maxStack: 10 });
    const memo = pk(0x80, 2, 0x4e, ...Array.from({ length: 20 }, (_, i) => [0x71, i]).flat(), 0x2e);
    fails(memo, 'memo exceeds 5 entries', { maxMemo: 5 });
  });

  it('refuses persistent ids that are not torch storages', () => {
    fails(pk(0x80, 2, binunicode('x'), 0x51, 0x2e), 'unsupported persistent id');
    const badKey = pk(0x80, 2, 0x28, binunicode('storage'), 'ctorch\nFloatStorage\n', binunicode('../../etc/passwd'), binunicode('cpu'), 0x4b, 1, 0x74, 0x51, 0x2e);
    fails(badKey, 'is not a plain record name');
    const notStorage = pk(0x80, 2, 0x28, binunicode('storage'), 'ctorch\nfloat32\n', binunicode('0'), binunicode('cpu'), 0x4b, 1, 0x74, 0x51, 0x2e);
    fails(notStorage, 'is not a storage type');
  });

  it('exposes resolved globals as inert descriptors', () => {
    const g = unpickle(pk(0x80, 2, 'ctorch\nFloatStorage\n', 0x2e));
    expect(g).toBeInstanceOf(PickleGlobal);
    expect((g as PickleGlobal).fullName).toBe('torch.FloatStorage');
  });
});
