import type { Module } from '@dfdet/models';

/**
 * Sets `training` on `root` and every module below it that has a boolean `training` field
 * (LoraLinear's dropout, any future dropout layer). Returns how many modules were set.
 */
export function setTraining(root: Module, training: boolean): number {
  let n = 0;
  for (const m of [root, ...root.namedModules().map(([, c]) => c)]) {
    const t = m as unknown as { training?: unknown };
    if (typeof t.training === 'boolean') {
      t.training = training;
      n++;
    }
  }
  return n;
}
