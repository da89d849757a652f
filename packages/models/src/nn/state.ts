import { tf, UserError } from '@dfdet/core';
import { assertStateMatches, CLIP_DEFAULT_SKIP, matchState, formatStateMatch, type StateMatch } from '../io/key-mapping.js';
import type { NamedTensors } from '../io/tensor-data.js';
import type { Module } from './module.js';

export interface LoadStateOptions {
  /** Where the tensors came from, for error messages. */
  source?: string;
  /**
   * `strict`: every model parameter present, nothing unexpected (the default).
   * `subset`: load what is given (e.g. only `head.*` for a warm start); unknown names still fail.
   */
  mode?: 'strict' | 'subset';
  skip?: readonly RegExp[];
}

/** Copies named tensors into a module's parameters, after checking names and shapes. */
export function loadState(module: Module, tensors: NamedTensors, opts: LoadStateOptions = {}): StateMatch {
  const params = new Map(module.namedParameters());
  const expected = new Map([...params].map(([n, v]) => [n, v.shape] as const));
  const skip = opts.skip ?? CLIP_DEFAULT_SKIP;
  if ((opts.mode ?? 'strict') === 'strict') {
    assertStateMatches(expected, tensors, { skip, source: opts.source });
  }
  const match = matchState(expected, tensors, { skip });
  if (match.unexpected.length || match.mismatched.length) {
    throw new UserError(formatStateMatch({ ...match, missing: [] }, { source: opts.source }));
  }
  for (const [name, t] of tensors) {
    const v = params.get(name);
    if (!v) continue;
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
  return match;
}

/** The module's parameters (optionally a subset) as host tensors, for checkpoints. */
export function stateDict(module: Module, filter: (name: string, v: tf.Variable) => boolean = () => true): NamedTensors {
  const out: NamedTensors = new Map();
  for (const [name, v] of module.namedParameters()) {
    if (filter(name, v)) out.set(name, { shape: [...v.shape], data: v.dataSync() as Float32Array });
  }
  return out;
}
