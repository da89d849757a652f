import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '@dfdet/core';
import { gatherStrided, readTorchCheckpoint, type NamedTensors } from '../../src/io/index.js';

/**
 * Fixtures come from packages/models/test/fixtures/make_torch_fixtures.py (real torch.save output);
 * each `X.expected.json` holds the exact float32 values torch itself produced.
 */
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'torch');
const fx = (name: string): string => join(FIXTURES, name);

const tmp = mkdtempSync(join(tmpdir(), 'dfdet-torch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Expected {
  tensors: Record<string, { shape: number[]; values: (number | string)[] }>;
  extra?: Record<string, unknown>;
}

function loadExpected(name: string): Expected {
  return JSON.parse(readFileSync(fx(`${name}.expected.json`), 'utf8')) as Expected;
}

function decodeExpected(values: (number | string)[]): number[] {
  return values.map((v) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === '-0' ? -0 : (v as number)));
}

function expectTensorsExactly(got: NamedTensors, want: Expected['tensors']): void {
  expect(new Set(got.keys())).toEqual(new Set(Object.keys(want)));
  for (const [name, w] of Object.entries(want)) {
    const t = got.get(name)!;
    expect(t.shape, name).toEqual(w.shape);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data), name).toEqual(decodeExpected(w.values));
  }
}

async function rejects(p: Promise<unknown>, message: RegExp | string): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UserError);
  if (typeof message === 'string') expect((caught as Error).message).toContain(message);
  else expect((caught as Error).message).toMatch(message);
}

describe('readTorchCheckpoint', () => {
  it('reads a Lightning checkpoint: state_dict tensors and the other keys as plain extra', async () => {
    const want = loadExpected('lightning.ckpt');
    const { tensors, extra } = await readTorchCheckpoint(fx('lightning.ckpt'));
    expectTensorsExactly(tensors, want.tensors);
    // state_dict order is preserved.
    expect([...tensors.keys()][0]).toBe('feature_extractor.base_model.model.vision_model.embeddings.class_embedding');
    expect([...tensors.keys()].at(-1)).toBe('model.linear.bias');
    expect(extra).toEqual(want.extra);
    expect(extra).not.toHaveProperty('state_dict');
  });

  it('honours storage offsets and strides (transposed, sliced, strided, permuted views) and converts dtypes', async () => {
    const want = loadExpected('plain.pt');
    for (const file of ['plain.pt', 'plain-proto4.pt']) {
      const { tensors, extra } = await readTorchCheckpoint(fx(file));
      expectTensorsExactly(tensors, want.tensors);
      expect(extra).toEqual({});
    }
  });

  it('reads float16 tensors (subnormals, ±0, ±inf, NaN) from a `model` entry', async () => {
    const want = loadExpected('half.pt');
    const { tensors, extra } = await readTorchCheckpoint(fx('half.pt'));
    expectTensorsExactly(tensors, want.tensors);
    expect(extra).toEqual(want.extra);
    expect(Object.is(tensors.get('visual.ln.weight')!.data[1], -0)).toBe(true);
  });

  it('finds the archive folder whatever it is named', async () => {
    const { tensors } = await readTorchCheckpoint(fx('renamed.pt'));
    expectTensorsExactly(tensors, loadExpected('renamed.pt').tensors);
  });

  it('loads only the tensors a filter accepts', async () => {
    const { tensors } = await readTorchCheckpoint(fx('plain.pt'), { filter: (n) => n === 'transposed' || n === 'slice' });
    expect([...tensors.keys()]).toEqual(['transposed', 'slice']);
  });

  it('refuses a pickle that references os.system, executing nothing', async () => {
    await rejects(
      readTorchCheckpoint(fx('malicious.pt')),
      /^forbidden global "os\.system" in data\.pkl of .*malicious\.pt; only state-dict globals are allowed/,
    );
  });

  it('refuses the legacy (pre-1.6) format with a re-save hint', async () => {
    await rejects(readTorchCheckpoint(fx('legacy.pt')), 'legacy torch.save format; re-save with torch>=1.6');
  });

  it('refuses TorchScript archives', async () => {
    await rejects(readTorchCheckpoint(fx('scripted.pt')), 'is a TorchScript archive');
  });

  it('refuses storages shorter than declared and views reaching past their storage', async () => {
    await rejects(readTorchCheckpoint(fx('bad-storage.pt')), 'storage data/0 has 8 bytes, but 4 float32 elements need 16');
    await rejects(readTorchCheckpoint(fx('bad-view.pt')), /tensor "w": view \(offset 2, size \[3\], stride \[1\]\) reaches element 4, but its storage holds 4/);
  });

  it('explains when there is no state dict', async () => {
    await rejects(readTorchCheckpoint(fx('list.pt')), 'holds a list, not a dict');
  });

  it('reports truncated, missing and foreign files clearly', async () => {
    const whole = readFileSync(fx('lightning.ckpt'));
    const cut = join(tmp, 'cut.ckpt');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    await rejects(readTorchCheckpoint(cut), /cut\.ckpt: .*(truncated or corrupt)/);

    const junk = join(tmp, 'junk.pt');
    writeFileSync(junk, 'hello world, not a checkpoint');
    await rejects(readTorchCheckpoint(junk), 'not a torch checkpoint');

    await rejects(readTorchCheckpoint(join(tmp, 'absent.pt')), /absent\.pt: file not found/);
    await rejects(readTorchCheckpoint(fx('halfs.safetensors')), 'looks like a safetensors file');
  });
});

describe('gatherStrided', () => {
  it('copies arbitrary strided views into contiguous order', () => {
    const src = Float32Array.from({ length: 24 }, (_, i) => i);
    // A (2, 3, 4) contiguous tensor permuted to (4, 2, 3): strides (1, 12, 4).
    const out = gatherStrided(src, 0, [4, 2, 3], [1, 12, 4]);
    const want: number[] = [];
    for (let a = 0; a < 4; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) want.push(a + 12 * b + 4 * c);
    expect(Array.from(out)).toEqual(want);
    expect(Array.from(gatherStrided(src, 5, [], []))).toEqual([5]);
    expect(Array.from(gatherStrided(src, 3, [2, 1], [10, 0]))).toEqual([3, 13]);
    expect(Array.from(gatherStrided(src, 2, [3], [0]))).toEqual([2, 2, 2]); // expanded (stride 0)
    expect(Array.from(gatherStrided(src, 1, [0, 5], [5, 1]))).toEqual([]);
  });
});
