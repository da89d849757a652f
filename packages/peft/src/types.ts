import { tf } from '@dfdet/core';
import type { Module } from '@dfdet/models';

/** What `PeftMethod.apply` reports. */
export interface PeftResult {
  /** Names (module paths = Hugging Face state-dict names) of the parameters that train, in model order. */
  trainable: string[];
  /** Element counts (not tensor counts). */
  counts: { trainable: number; total: number };
  /** One line for logs, e.g. `ln-tuning: 49,152 / 303,179,776 parameters trainable (0.016%)`. */
  summary: string;
}

/**
 * The `peft` plugin kind's contract, in the style of Hugging Face `peft`: a method may wrap
 * layers of the module tree (LoRA), then marks which parameters train.
 *
 * How "trainable" is represented: tfjs's `Variable.trainable` is a plain writable field, so
 * `apply` sets it in place on every parameter of `root` (true = trains, false = frozen); no
 * variable is re-created for that. `tf.variableGrads(f, varList)` drops non-trainable variables
 * from an explicit `varList` (their gradient comes back `null`). A trainer should pass the
 * explicit list `root.namedParameters().filter(([, v]) => v.trainable)` (or the returned
 * `trainable` names): with no list, tfjs takes every registered variable of the process.
 * The returned names are the same set, for logging, optimizer groups and checkpoints.
 */
export interface PeftMethod {
  /** The plugin's YAML name (`ln-tuning`, `lora`, …). */
  name: string;
  /** Mutates `root` (wrapping layers where the method does) and sets every parameter's `trainable`. */
  apply(root: Module): PeftResult;
}

const intFmt = new Intl.NumberFormat('en-US');

/** `name: 49,152 / 303,179,776 parameters trainable (0.016%)`. */
export function formatSummary(name: string, trainable: number, total: number): string {
  const pct = total > 0 ? (100 * trainable) / total : 0;
  return `${name}: ${intFmt.format(trainable)} / ${intFmt.format(total)} parameters trainable (${pct.toFixed(3)}%)`;
}

/**
 * Sets `trainable` on every parameter of `root` from a predicate over its name and returns the
 * result. Every method ends with this, so no parameter keeps a stale flag.
 */
export function markTrainable(name: string, root: Module, isTrainable: (param: string, v: tf.Variable) => boolean): PeftResult {
  const trainableNames: string[] = [];
  let trainable = 0;
  let total = 0;
  for (const [n, v] of root.namedParameters()) {
    const on = isTrainable(n, v);
    v.trainable = on;
    total += v.size;
    if (on) {
      trainable += v.size;
      trainableNames.push(n);
    }
  }
  return { trainable: trainableNames, counts: { trainable, total }, summary: formatSummary(name, trainable, total) };
}

/** The parameters of `root` whose `trainable` flag is set, for `tf.variableGrads(f, varList)` and optimizers. */
export function trainableParameters(root: Module): [string, tf.Variable][] {
  return root.namedParameters().filter(([, v]) => v.trainable);
}
