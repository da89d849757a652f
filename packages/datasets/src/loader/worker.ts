import { parentPort, workerData } from 'node:worker_threads';
import { buildRegistry, type ImageAugmentation, type ImagePreprocessing } from '@dfdet/core';
import { loadSample, type SampleTask } from './sample.js';

/** Loader worker: decodes, augments and preprocesses images off the main thread. */
interface Init {
  preprocessing: ImagePreprocessing;
  augmentations: { name: string }[];
  plugins: string[];
  seed: number;
}

const init = workerData as Init;
const registry = await buildRegistry(init.plugins);
const augmentations = await Promise.all(
  init.augmentations.map((a) => registry.create<ImageAugmentation>('augmentation', a, { seed: init.seed, registry })),
);

parentPort!.on('message', async (msg: { id: number; epoch: number; task: SampleTask }) => {
  try {
    const out = await loadSample(msg.task, init.preprocessing, augmentations, init.seed, msg.epoch);
    parentPort!.postMessage({ id: msg.id, data: out.data, shape: out.shape }, [out.data.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: (err as Error).message });
  }
});
parentPort!.postMessage({ ready: true });
