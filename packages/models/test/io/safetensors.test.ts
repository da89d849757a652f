import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '@dfdet/core';
import {
  SafetensorsFile,
  bf16ToF32,
  decodeToFloat32,
  f16ToF32,
  readSafetensors,
  writeSafetensors,
  type NamedTensors,
} from '../../src/io/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, '..', 'fixtures', 'torch');
const CLIP_TINY = join(HERE, '..', '..', '..', '..', 'test', 'fixtures', 'clip-tiny', 'model.safetensors');

const tmp = mkdtempSync(join(tmpdir(), 'dfdet-safetensors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function decodeExpected(values: (number | string)[]): number[] {
  return values.map((v) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === '-0' ? -0 : (v as number)));
}

/** Builds a safetensors file from a raw header object (or string) and a data section. */
function rawFile(name: string, header: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  const p = join(tmp, name);
  writeFileSync(p, out);
  return p;
}

function expectUserError(fn: () => unknown, message: RegExp | string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UserError);
  if (typeof message === 'string') expect((caught as Error).message).toContain(message);
  else expect((caught as Error).message).toMatch(message);
}

describe('writeSafetensors / readSafetensors', () => {
  it('round-trips tensors and metadata exactly, with a sorted, padded, contiguous layout', () => {
    const tensors: NamedTensors = new Map([
      ['z.bias', { shape: [3], data: new Float32Array([1.5, -0, Number.MIN_VALUE]) }],
      ['a.weight', { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6e-30]) }],
      ['m.empty', { shape: [0, 4], data: new Float32Array(0) }],
      ['s.scalar', { shape: [], data: new Float32Array([Infinity]) }],
    ]);
    const p = join(tmp, 'rt.safetensors');
    writeSafetensors(p, tensors, { format: 'pt', note: 'hé' });

    const bytes = readFileSync(p);
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const headerText = bytes.subarray(8, 8 + n).toString('utf8');
    const header = JSON.parse(headerText) as Record<string, { data_offsets: [number, number] }>;
    expect(Object.keys(header)).toEqual(['__metadata__', 'a.weight', 'm.empty', 's.scalar', 'z.bias']);
    expect(header['a.weight']!.data_offsets).toEqual([0, 24]);
    expect(header['m.empty']!.data_offsets).toEqual([24, 24]);
    expect(header['s.scalar']!.data_offsets).toEqual([24, 28]);
    expect(header['z.bias']!.data_offsets).toEqual([28, 40]);
    expect(bytes.length).toBe(8 + n + 40);

    const file = SafetensorsFile.open(p);
    try {
      expect(file.metadata).toEqual({ format: 'pt', note: 'hé' });
      expect(file.names()).toEqual(['a.weight', 'm.empty', 's.scalar', 'z.bias']);
      expect(file.entry('a.weight')).toEqual({ dtype: 'F32', shape: [2, 3], dataOffsets: [0, 24] });
    } finally {
      file.close();
    }
    const back = readSafetensors(p);
    expect([...back.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [k, t] of tensors) {
      expect(back.get(k)!.shape).toEqual(t.shape);
      expect(Array.from(back.get(k)!.data)).toEqual(Array.from(t.data));
    }
    expect(Object.is(back.get('z.bias')!.data[1], -0)).toBe(true);
  });

  it('accepts a plain record and no metadata; filter reads a subset', () => {
    const p = join(tmp, 'rec.safetensors');
    writeSafetensors(p, { b: { shape: [1], data: new Float32Array([2]) }, a: { shape: [2], data: new Float32Array([0, 1]) } });
    const file = SafetensorsFile.open(p);
    expect(file.metadata).toEqual({});
    file.close();
    const only = readSafetensors(p, (n) => n === 'b');
    expect([...only.keys()]).toEqual(['b']);
    expect(Array.from(only.get('b')!.data)).toEqual([2]);
  });

  it('rejects data whose length does not match the shape', () => {
    expectUserError(
      () => writeSafetensors(join(tmp, 'bad.safetensors'), { x: { shape: [2, 3], data: new Float32Array(5) } }),
      'tensor "x": data has 5 elements, but shape [2, 3] needs 6',
    );
    expectUserError(() => writeSafetensors(join(tmp, 'bad.safetensors'), { x: { shape: [-1], data: new Float32Array(0) } }), 'non-negative');
  });
});

describe('the clip-tiny fixture', () => {
  it('lists names, shapes and metadata, and reads tensors', () => {
    const file = SafetensorsFile.open(CLIP_TINY);
    try {
      expect(file.metadata).toEqual({ format: 'pt' });
      expect(file.names()).toHaveLength(40);
      expect(file.names()).toContain('vision_model.post_layernorm.weight');
      expect(file.entry('vision_model.embeddings.patch_embedding.weight')).toMatchObject({ dtype: 'F32', shape: [32, 3, 14, 14] });
      expect(file.entry('vision_model.embeddings.position_embedding.weight').shape).toEqual([5, 32]);
      expect(file.entry('visual_projection.weight').shape).toEqual([16, 32]);
      const w = file.read('vision_model.embeddings.patch_embedding.weight');
      expect(w.shape).toEqual([32, 3, 14, 14]);
      expect(w.data.length).toBe(32 * 3 * 14 * 14);
      expect(w.data.every((v) => Number.isFinite(v))).toBe(true);
      expectUserError(() => file.read('nope'), 'no tensor named "nope"');
    } finally {
      file.close();
    }
    const all = readSafetensors(CLIP_TINY);
    expect(all.size).toBe(40);
    // A re-written copy is byte-for-byte equal in content.
    const copy = join(tmp, 'clip-copy.safetensors');
    writeSafetensors(copy, all, { format: 'pt' });
    const again = readSafetensors(copy);
    for (const [k, t] of all) expect(Array.from(again.get(k)!.data)).toEqual(Array.from(t.data));
  });
});

describe('half-precision and other dtypes', () => {
  it('reads F16 / BF16 / F64 / I64 written by Python exactly', () => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'halfs.safetensors.expected.json'), 'utf8')) as {
      tensors: Record<string, { shape: number[]; values: (number | string)[] }>;
    };
    const file = SafetensorsFile.open(join(FIXTURES, 'halfs.safetensors'));
    try {
      expect(file.names().sort()).toEqual(Object.keys(expected.tensors).sort());
      expect(file.entry('a.f16').dtype).toBe('F16');
      expect(file.entry('b.bf16').dtype).toBe('BF16');
      expect(file.entry('position_ids').dtype).toBe('I64');
      for (const [name, want] of Object.entries(expected.tensors)) {
        const t = file.read(name);
        expect(t.shape, name).toEqual(want.shape);
        expect(Array.from(t.data), name).toEqual(decodeExpected(want.values));
      }
    } finally {
      file.close();
    }
  });

  it('converts float16 bit patterns exactly, including subnormals, infinities and NaN', () => {
    const cases: [number, number][] = [
      [0x0000, 0],
      [0x8000, -0],
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x7bff, 65504],
      [0xfbff, -65504],
      [0x0400, 2 ** -14],
      [0x0001, 2 ** -24],
      [0x8001, -(2 ** -24)],
      [0x03ff, 1023 * 2 ** -24],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x7e00, NaN],
      [0x7c01, NaN],
    ];
    for (const [bits, want] of cases) expect(f16ToF32(bits), bits.toString(16)).toBe(want);
    // The bulk decoder (table-driven) agrees with the scalar one on every pattern, aligned or not.
    const all = new Uint8Array(65536 * 2 + 1);
    const dv = new DataView(all.buffer, 1);
    for (let i = 0; i < 65536; i++) dv.setUint16(i * 2, i, true);
    const unaligned = decodeToFloat32(all.subarray(1), 'F16', 65536);
    const aligned = decodeToFloat32(all.slice(1), 'F16', 65536);
    const bad: number[] = [];
    for (let i = 0; i < 65536; i++) {
      const want = Math.fround(f16ToF32(i));
      const same = (got: number): boolean => Object.is(got, want) || (Number.isNaN(want) && Number.isNaN(got));
      if (!same(unaligned[i]!) || !same(aligned[i]!)) bad.push(i);
      // Every finite half is exactly representable, so float32 storage loses nothing.
      if (Number.isFinite(want) && want !== f16ToF32(i)) bad.push(i);
    }
    expect(bad).toEqual([]);
  });

  it('converts bfloat16 bit patterns exactly', () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc020, -2.5],
      [0x8000, -0],
      [0x7f80, Infinity],
      [0xff80, -Infinity],
      [0x0001, 2 ** -133],
      [0x4049, 3.140625],
      [0x7fc0, NaN],
    ];
    for (const [bits, want] of cases) expect(bf16ToF32(bits), bits.toString(16)).toBe(want);
    const bytes = new Uint8Array(cases.length * 2);
    cases.forEach(([b], i) => new DataView(bytes.buffer).setUint16(i * 2, b, true));
    expect(Array.from(decodeToFloat32(bytes, 'BF16', cases.length))).toEqual(cases.map(([, v]) => v));
  });

  it('reads a hand-built F16 / BF16 / I32 file', () => {
    const data = new Uint8Array(4 + 4 + 8);
    const dv = new DataView(data.buffer);
    dv.setUint16(0, 0x3c00, true);
    dv.setUint16(2, 0x0001, true);
    dv.setUint16(4, 0xc020, true);
    dv.setUint16(6, 0x7f80, true);
    dv.setInt32(8, -7, true);
    dv.setInt32(12, 2 ** 31 - 1, true);
    const p = rawFile('mixed.safetensors', {
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1, 2], data_offsets: [4, 8] },
      i: { dtype: 'I32', shape: [2], data_offsets: [8, 16] },
    }, data);
    const t = readSafetensors(p);
    expect(Array.from(t.get('h')!.data)).toEqual([1, 2 ** -24]);
    expect(t.get('b')!.shape).toEqual([1, 2]);
    expect(Array.from(t.get('b')!.data)).toEqual([-2.5, Infinity]);
    expect(Array.from(t.get('i')!.data)).toEqual([-7, Math.fround(2 ** 31 - 1)]);
  });
});

describe('defensive parsing', () => {
  const f32 = (n: number): Uint8Array => new Uint8Array(n * 4);

  it('reports a file shorter than the length prefix as truncated', () => {
    const p = join(tmp, 'tiny.safetensors');
    writeFileSync(p, new Uint8Array([1, 2, 3]));
    expectUserError(() => SafetensorsFile.open(p), /tiny\.safetensors: truncated/);
  });

  it('reports a header running past the end of the file as truncated', () => {
    const p = rawFile('cut.safetensors', { x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1), 1000n);
    expectUserError(() => SafetensorsFile.open(p), /cut\.safetensors: truncated: the header claims 1000 bytes/);
  });

  it('reports a data section cut short', () => {
    const p = rawFile('short.safetensors', { x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2));
    expectUserError(() => SafetensorsFile.open(p), 'tensor "x": data_offsets [0, 16] reach past the data section (8 bytes); the file is truncated');
  });

  it('refuses an oversized header length before allocating anything', () => {
    const p = rawFile('huge.safetensors', {}, new Uint8Array(0), 2n ** 40n);
    expectUserError(() => SafetensorsFile.open(p), /header length 1099511627776 exceeds the 100 MiB limit/);
    const q = rawFile('huge2.safetensors', {}, new Uint8Array(0), 2n ** 64n - 1n);
    expectUserError(() => SafetensorsFile.open(q), /exceeds the 100 MiB limit/);
  });

  it('refuses headers that are not UTF-8 JSON objects', () => {
    const bad = join(tmp, 'latin.safetensors');
    const junk = new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xff, 0xfe, 0x7d, 0x20, 0x20, 0x20, 0x20]);
    writeFileSync(bad, junk);
    expectUserError(() => SafetensorsFile.open(bad), 'not valid UTF-8');
    expectUserError(() => SafetensorsFile.open(rawFile('nojson.safetensors', '{"x": ')), 'not valid JSON');
    expectUserError(() => SafetensorsFile.open(rawFile('array.safetensors', '[1, 2]')), 'must be a JSON object');
    expectUserError(() => SafetensorsFile.open(rawFile('entry.safetensors', { x: 3 })), 'tensor "x": expected an object');
  });

  it('names the tensor and the byte count when offsets disagree with dtype and shape', () => {
    const p = rawFile('model.safetensors', { 'x.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 12] } }, f32(3));
    expectUserError(
      () => SafetensorsFile.open(p),
      /model\.safetensors: tensor "x\.weight": data_offsets \[0, 12\] hold 12 bytes, but F32 \[2, 3\] needs 24$/,
    );
  });

  it('refuses overlapping tensors', () => {
    const p = rawFile('overlap.safetensors', {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    }, f32(3));
    expectUserError(() => SafetensorsFile.open(p), 'tensor "b": data_offsets [4, 12] overlap tensor "a" [0, 8]');
    // Touching is fine, and so are empty tensors anywhere.
    const ok = rawFile('touch.safetensors', {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
      b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
    }, f32(3));
    expect(readSafetensors(ok).size).toBe(3);
  });

  it('refuses unsupported dtypes, bad shapes and bad offsets', () => {
    expectUserError(
      () => SafetensorsFile.open(rawFile('u8.safetensors', { x: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1))),
      'tensor "x": unsupported dtype "U8" (supported: F32, F16, BF16, F64, I64, I32)',
    );
    expectUserError(
      () => SafetensorsFile.open(rawFile('neg.safetensors', { x: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } })),
      'tensor "x": shape must be a list of non-negative integers',
    );
    expectUserError(
      () => SafetensorsFile.open(rawFile('frac.safetensors', { x: { dtype: 'F32', shape: [1.5], data_offsets: [0, 0] } })),
      'non-negative integers',
    );
    expectUserError(
      () => SafetensorsFile.open(rawFile('big.safetensors', { x: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 0] } })),
      'too many elements',
    );
    expectUserError(
      () => SafetensorsFile.open(rawFile('offs.safetensors', { x: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1))),
      'data_offsets must be two non-negative integers',
    );
    expectUserError(
      () => SafetensorsFile.open(rawFile('rev.safetensors', { x: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, f32(1))),
      'end before they begin',
    );
    expectUserError(
      () => SafetensorsFile.open(rawFile('meta.safetensors', { __metadata__: { epoch: 3 } })),
      '__metadata__ "epoch" must be a string',
    );
  });

  it('reports a missing file clearly', () => {
    expectUserError(() => SafetensorsFile.open(join(tmp, 'absent.safetensors')), /absent\.safetensors: file not found/);
  });
});
