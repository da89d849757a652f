/** Shared loaders for the preprocess fixtures (made by ../fixtures/preprocess/make_pil_refs.py). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/preprocess/', import.meta.url));

export function u8(b64: string): Uint8Array {
  const b = Buffer.from(b64, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function f32(b64: string): Float32Array {
  const b = Buffer.from(b64, 'base64');
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

export function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(FIXTURES + name, 'utf8')) as T;
}

export interface PilRefs {
  generator: Record<string, string>;
  hf_crosscheck: unknown;
  inputs: Record<string, { width: number; height: number; data: string }>;
  resize_cases: { name: string; input: string; width: number; height: number; resample: number; expected: string }[];
  pipeline_cases: {
    name: string;
    input?: string;
    file?: string;
    config: Record<string, unknown>;
    shape: [number, number, number];
    expected_f32: string;
  }[];
}

export interface DecodeRefs {
  cases: { file: string; sha256: string; pil_mode: string; width: number; height: number; expected: string }[];
}

/** Max |a - b| over two equal-length arrays, and how many entries differ. */
export function diff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; count: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let max = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d !== 0) count++;
    if (d > max || Number.isNaN(d)) max = Number.isNaN(d) ? Infinity : d;
  }
  return { max, count };
}
