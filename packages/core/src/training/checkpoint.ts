import type { HostTensor, TensorFiles } from '../contracts/services.js';
import * as tf from '../tf.js';
import { UserError } from '../util/errors.js';

const OPT = 'optimizer.';

/** What a checkpoint's metadata holds besides tensors (stored as JSON in `__metadata__.dfdet`). */
export interface CheckpointMeta {
  format: 'dfdet-checkpoint/1';
  kind: 'last' | 'best' | 'export';
  step: number;
  epoch: number;
  /** First batch of `epoch` not yet trained (exact resume). */
  next_batch: number;
  metrics: Record<string, number>;
  /** Trainer bookkeeping: best value, validations without improvement, RNG streams, … */
  trainer: Record<string, unknown>;
  /** The resolved config of the run that wrote it. */
  config: unknown;
}

export interface Checkpoint {
  params: Map<string, HostTensor>;
  optimizer?: { step: number; tensors: Map<string, HostTensor> };
  meta: CheckpointMeta;
}

/** One safetensors file: parameters under model names, optional optimizer moments under `optimizer.*`. */
export function saveCheckpoint(files: TensorFiles, path: string, ck: Checkpoint): void {
  const tensors = new Map(ck.params);
  if (ck.optimizer) for (const [n, t] of ck.optimizer.tensors) tensors.set(`${OPT}${n}`, t);
  const meta = { ...ck.meta, optimizer_step: ck.optimizer?.step };
  files.write(path, tensors, { format: 'pt', dfdet: JSON.stringify(meta) });
}

export function readCheckpointMeta(files: TensorFiles, path: string): CheckpointMeta | undefined {
  const raw = files.metadata(path).dfdet;
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as CheckpointMeta;
  } catch {
    throw new UserError(`${path}: its dfdet metadata is not valid JSON`);
  }
}

export function loadCheckpoint(files: TensorFiles, path: string): Checkpoint {
  const meta = readCheckpointMeta(files, path);
  if (!meta) throw new UserError(`${path}: not a dfdet checkpoint (no dfdet metadata); use model.init_from for plain weight files`);
  const all = files.read(path);
  const params = new Map<string, HostTensor>();
  const opt = new Map<string, HostTensor>();
  for (const [n, t] of all) (n.startsWith(OPT) ? opt : params).set(n.startsWith(OPT) ? n.slice(OPT.length) : n, t);
  const step = (meta as unknown as { optimizer_step?: number }).optimizer_step;
  return { params, optimizer: opt.size > 0 ? { step: step ?? meta.step, tensors: opt } : undefined, meta };
}

/** Host copies of the given variables. */
export function snapshot(params: Map<string, tf.Variable>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [n, v] of params) out.set(n, { shape: [...v.shape], data: v.dataSync() as Float32Array });
  return out;
}

/** Assigns host tensors to variables by name; every name must exist with the same size. */
export function assignParams(vars: Map<string, tf.Variable>, tensors: Map<string, HostTensor>, source: string, names?: Iterable<string>): void {
  for (const name of names ?? tensors.keys()) {
    const v = vars.get(name);
    const t = tensors.get(name);
    if (!v) throw new UserError(`${source}: tensor ${name} is not a parameter of this model`);
    if (!t) throw new UserError(`${source}: lacks tensor ${name}`);
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new UserError(`${source}: ${name} has shape [${t.shape.join(', ')}], the model expects [${v.shape.join(', ')}]`);
    }
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
  }
}
