// vitest setup for the kernel census: records every kernel name the engine runs (per backend).
import { appendFileSync } from 'node:fs';
import { engine } from '@tensorflow/tfjs-core';

const out = process.env.DFDET_KERNEL_CENSUS ?? '/tmp/kernel-census.txt';
const seen = new Set<string>();
const proto = Object.getPrototypeOf(engine()) as { runKernel: (name: string, inputs: unknown, attrs?: unknown) => unknown; __censused?: boolean };
if (!proto.__censused) {
  proto.__censused = true;
  const original = proto.runKernel;
  proto.runKernel = function (this: { backendName: string }, name: string, inputs: unknown, attrs?: unknown) {
    const key = `${name}`;
    if (!seen.has(key)) {
      seen.add(key);
      appendFileSync(out, `${key}\t${this.backendName}\n`);
    }
    return original.call(this, name, inputs, attrs);
  };
}
