import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const FIXTURE_DIR = resolve(__dirname, '../../../../test/fixtures/clip-tiny');
export const fixturePath = (name: string) => resolve(FIXTURE_DIR, name);

let clip: any;
let train: any;
/** clip_ref.json: forward references for the tiny CLIP model (see test/fixtures/README.md). */
export function clipRef(): any {
  return (clip ??= JSON.parse(readFileSync(fixturePath('clip_ref.json'), 'utf8')));
}
export function trainRef(): any {
  return (train ??= JSON.parse(readFileSync(fixturePath('train_ref.json'), 'utf8')));
}

export function maxAbsDiff(a: ArrayLike<number>, b: number[]): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
