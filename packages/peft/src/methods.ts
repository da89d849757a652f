import { definePlugin, UserError, z } from '@dfdet/core';
import { LayerNorm, type Module } from '@dfdet/models';
import { compileAll, regexList } from './options.js';
import { markTrainable, type PeftMethod, type PeftResult } from './types.js';

/** Paths of the LayerNorm modules of `root` (optionally restricted by regexes on the path). */
export function layerNormPaths(root: Module, restrict?: readonly RegExp[]): string[] {
  return root
    .namedModules()
    .filter(([path, m]) => m instanceof LayerNorm && (!restrict || restrict.some((r) => r.test(path))))
    .map(([path]) => path);
}

/** LN-tuning (the paper): weight and bias of every LayerNorm train, everything else is frozen. */
export class LnTuning implements PeftMethod {
  readonly name = 'ln-tuning';
  constructor(readonly targetModules?: readonly string[]) {}

  apply(root: Module): PeftResult {
    const restrict = this.targetModules?.length ? compileAll(this.targetModules) : undefined;
    const paths = layerNormPaths(root, restrict);
    if (paths.length === 0) {
      throw new UserError(
        restrict
          ? `ln-tuning: target_modules [${this.targetModules!.join(', ')}] match no LayerNorm (LayerNorms: ${layerNormPaths(root).join(', ') || 'none'})`
          : 'ln-tuning: the model has no LayerNorm',
      );
    }
    const owned = new Set(paths.flatMap((p) => [`${p}.weight`, `${p}.bias`]));
    return markTrainable(this.name, root, (n) => owned.has(n));
  }
}

/** Every parameter trains. */
export class FullFineTuning implements PeftMethod {
  readonly name = 'full';
  apply(root: Module): PeftResult {
    return markTrainable(this.name, root, () => true);
  }
}

/** BitFit: only the biases (names ending `.bias`, LayerNorm biases included). */
export class BitFit implements PeftMethod {
  readonly name = 'bitfit';
  apply(root: Module): PeftResult {
    return markTrainable(this.name, root, (n) => n.endsWith('.bias'));
  }
}

/** Linear probe: the backbone is frozen entirely; the trainer trains the head on its own. */
export class LinearProbe implements PeftMethod {
  readonly name = 'linear-probe';
  apply(root: Module): PeftResult {
    return markTrainable(this.name, root, () => false);
  }
}

/** The parameters whose name matches any pattern train; the rest are frozen. */
export class Unfreeze implements PeftMethod {
  readonly name = 'unfreeze';
  constructor(readonly patterns: readonly string[]) {
    if (patterns.length === 0) throw new UserError('unfreeze: give at least one pattern');
  }

  apply(root: Module): PeftResult {
    const res = compileAll(this.patterns);
    const names = root.namedParameters().map(([n]) => n);
    const unused = this.patterns.filter((_, i) => !names.some((n) => res[i]!.test(n)));
    if (unused.length) {
      throw new UserError(
        `unfreeze: pattern${unused.length > 1 ? 's' : ''} ${unused.map((p) => JSON.stringify(p)).join(', ')} match no parameter ` +
          `(names look like ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`,
      );
    }
    return markTrainable(this.name, root, (n) => res.some((r) => r.test(n)));
  }
}

export const lnTuningPlugin = definePlugin({
  kind: 'peft',
  name: 'ln-tuning',
  description: "the paper's LN-tuning: train weight and bias of every LayerNorm, freeze the rest",
  options: z.object({
    target_modules: regexList.optional().describe('regexes on the LayerNorm module path to restrict to (default: every LayerNorm)'),
  }),
  create: (o) => new LnTuning(o.target_modules),
});

export const fullPlugin = definePlugin({
  kind: 'peft',
  name: 'full',
  description: 'full fine-tuning: every backbone parameter trains',
  options: z.object({}),
  create: () => new FullFineTuning(),
});

export const bitfitPlugin = definePlugin({
  kind: 'peft',
  name: 'bitfit',
  description: 'BitFit: only the biases train (names ending .bias)',
  options: z.object({}),
  create: () => new BitFit(),
});

export const linearProbePlugin = definePlugin({
  kind: 'peft',
  name: 'linear-probe',
  description: 'linear probe: the backbone is frozen, only the head trains',
  options: z.object({}),
  create: () => new LinearProbe(),
});

export const unfreezePlugin = definePlugin({
  kind: 'peft',
  name: 'unfreeze',
  description: 'train the parameters whose name matches a regex, freeze the rest',
  options: z.object({
    patterns: regexList.min(1).describe('regexes searched in the parameter names (HF names); matches train'),
  }),
  create: (o) => new Unfreeze(o.patterns),
});
