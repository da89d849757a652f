import { Worker } from 'node:worker_threads';
import {
  SeededRng,
  UserError,
  buildRegistry,
  type Batch,
  type DataLoader,
  type FrameRecord,
  type ImageAugmentation,
  type LoaderRequest,
} from '@dfdet/core';
import { loadSample, type SampleTask } from './sample.js';

type Result = { data: Float32Array; shape: [3, number, number] } | { error: string };

/** Decodes samples on a pool of worker threads (or inline with 0 workers). */
interface Decoder {
  decode(task: SampleTask, epoch: number): Promise<Result>;
  close(): Promise<void>;
}

function inlineDecoder(req: LoaderRequest): Decoder {
  let augs: Promise<ImageAugmentation[]> | undefined;
  const build = async () => {
    const registry = await buildRegistry(req.plugins ?? []);
    return Promise.all(req.augmentations.map((a) => registry.create<ImageAugmentation>('augmentation', a, { seed: req.seed, registry })));
  };
  return {
    decode: async (task, epoch) => {
      try {
        return await loadSample(task, req.preprocessing, await (augs ??= build()), req.seed, epoch);
      } catch (err) {
        return { error: (err as Error).message };
      }
    },
    close: async () => {},
  };
}

function workerDecoder(req: LoaderRequest): Decoder {
  const bootstrap = new URL('./worker-bootstrap.mjs', import.meta.url);
  const entry = new URL('./worker.ts', import.meta.url).href;
  let nextId = 0;
  const pending = new Map<number, (r: Result) => void>();
  const workers = Array.from({ length: req.workers }, () => {
    const w = new Worker(bootstrap, {
      workerData: { entry, preprocessing: req.preprocessing, augmentations: req.augmentations, plugins: req.plugins ?? [], seed: req.seed },
    });
    const ready = new Promise<void>((resolve, reject) => {
      w.once('error', reject);
      w.on('message', (m: { ready?: boolean; id?: number } & Result) => {
        if (m.ready) return resolve();
        const done = pending.get(m.id!);
        pending.delete(m.id!);
        done?.(m);
      });
    });
    // a worker that fails to start is reported by decode(), not as an unhandled rejection
    ready.catch(() => undefined);
    w.on('error', (err) => {
      for (const [id, done] of pending) {
        pending.delete(id);
        done({ error: `loader worker failed: ${err.message}` });
      }
    });
    return { w, ready };
  });
  let rr = 0;
  return {
    decode: async (task, epoch) => {
      const slot = workers[rr++ % workers.length]!;
      try {
        await slot.ready;
      } catch (err) {
        throw new UserError(`a data loader worker failed to start: ${(err as Error).message}`);
      }
      const id = nextId++;
      return new Promise<Result>((resolve) => {
        pending.set(id, resolve);
        slot.w.postMessage({ id, epoch, task });
      });
    },
    close: async () => {
      await Promise.all(workers.map((s) => s.w.terminate()));
    },
  };
}

/**
 * Batches of decoded frames in a seeded per-epoch order. Decoding runs ahead of the consumer
 * (`prefetch` batches) on worker threads, so compute does not wait on JPEG decoding.
 */
export class FrameLoader implements DataLoader {
  readonly badFiles: { path: string; reason: string }[] = [];
  private readonly decoder: Decoder;
  private readonly prefetch: number;

  constructor(private readonly req: LoaderRequest) {
    if (req.records.length === 0) throw new UserError('the data loader got no frames (check the dataset paths and split)');
    if (!(req.batchSize >= 1)) throw new UserError(`batch size must be at least 1, got ${req.batchSize}`);
    this.decoder = req.workers > 0 ? workerDecoder(req) : inlineDecoder(req);
    this.prefetch = Math.max(2, req.workers);
  }

  get batchesPerEpoch(): number {
    const n = this.req.records.length / this.req.batchSize;
    return Math.max(1, this.req.dropLast ? Math.floor(n) : Math.ceil(n));
  }

  /** The epoch's sample order: a seeded permutation (or class-balanced draw), deterministic per epoch. */
  order(epoch: number): number[] {
    const n = this.req.records.length;
    if (!this.req.shuffle) return Array.from({ length: n }, (_, i) => i);
    const rng = SeededRng.derive(this.req.seed, `order:${epoch}`);
    if (!this.req.balanced) return rng.permutation(n);
    const byClass = [0, 1].map((c) => this.req.records.flatMap((r, i) => (r.label === c ? [i] : [])));
    const present = byClass.filter((ids) => ids.length > 0);
    return Array.from({ length: n }, (_, k) => {
      const ids = present[k % present.length]!;
      return ids[rng.int(ids.length)]!;
    });
  }

  async *epoch(epoch: number, startBatch = 0): AsyncGenerator<Batch> {
    const order = this.order(epoch);
    const bs = this.req.batchSize;
    const total = this.batchesPerEpoch;
    const inflight: Promise<Batch | undefined>[] = [];
    let next = startBatch;
    const launch = () => {
      if (next >= total) return;
      const b = next++;
      inflight.push(this.loadBatch(epoch, b, order.slice(b * bs, Math.min((b + 1) * bs, order.length))));
    };
    for (let i = 0; i < this.prefetch; i++) launch();
    while (inflight.length > 0) {
      const batch = await inflight.shift()!;
      launch();
      if (batch) yield batch;
    }
  }

  private async loadBatch(epoch: number, index: number, ids: number[]): Promise<Batch | undefined> {
    const slots = ids.map((id, k) => ({ record: this.req.records[id]!, task: { slot: index * this.req.batchSize + k, path: this.req.records[id]!.path } }));
    const results = await Promise.all(slots.map((s) => this.decoder.decode(s.task, epoch)));
    const kept: { record: FrameRecord; data: Float32Array; shape: [3, number, number] }[] = [];
    results.forEach((r, k) => {
      const { record } = slots[k]!;
      if ('error' in r) {
        if (this.req.onBadFile === 'skip') {
          this.badFiles.push({ path: record.path, reason: r.error });
          return;
        }
        throw new UserError(`cannot load ${record.path}: ${r.error} (set data.on_bad_file: skip to skip and count such files)`);
      }
      kept.push({ record, data: r.data, shape: r.shape });
    });
    if (kept.length === 0) return undefined;
    const [c, h, w] = kept[0]!.shape;
    const per = c * h * w;
    const pixels = new Float32Array(kept.length * per);
    kept.forEach((k, i) => {
      if (k.shape[1] !== h || k.shape[2] !== w) throw new UserError(`${k.record.path}: preprocessed to ${k.shape[1]}x${k.shape[2]}, batch is ${h}x${w}`);
      pixels.set(k.data, i * per);
    });
    return {
      index,
      pixels,
      shape: [kept.length, c, h, w],
      labels: Int32Array.from(kept.map((k) => k.record.label)),
      records: kept.map((k) => k.record),
    };
  }

  close(): Promise<void> {
    return this.decoder.close();
  }
}

export const createLoader = (req: LoaderRequest): DataLoader => new FrameLoader(req);
