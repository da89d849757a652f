import { tf } from '@dfdet/core';

/**
 * A minimal PyTorch-style module tree: parameters and children are registered by name, so the
 * dotted path of every parameter is its Hugging Face state-dict name, and PEFT can replace a
 * child (e.g. wrap `out_proj` with LoRA) without the model knowing.
 */
export abstract class Module {
  private readonly ownParams = new Map<string, tf.Variable>();
  private readonly childModules = new Map<string, Module>();

  protected param(name: string, value: tf.Tensor, trainable = true): tf.Variable {
    if (this.ownParams.has(name) || this.childModules.has(name)) throw new Error(`duplicate member "${name}"`);
    const v = tf.variable(value, trainable);
    value.dispose();
    this.ownParams.set(name, v);
    return v;
  }

  protected module<M extends Module>(name: string, m: M): M {
    if (this.ownParams.has(name) || this.childModules.has(name)) throw new Error(`duplicate member "${name}"`);
    this.childModules.set(name, m);
    return m;
  }

  /** Every parameter under its dotted path, depth-first in registration order. */
  namedParameters(prefix = ''): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [n, p] of this.ownParams) out.push([`${prefix}${n}`, p]);
    for (const [n, c] of this.childModules) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [n, c] of this.childModules) {
      const path = `${prefix}${n}`;
      out.push([path, c], ...c.namedModules(`${path}.`));
    }
    return out;
  }

  getModule(path: string): Module {
    let m: Module = this;
    for (const seg of path.split('.')) {
      const next = m.childModules.get(seg);
      if (!next) throw new Error(`no module "${path}" (missing "${seg}")`);
      m = next;
    }
    return m;
  }

  /** Replaces the child at `path` (adapters wrap layers this way); returns the old one. */
  replaceModule(path: string, replacement: Module): Module {
    const dot = path.lastIndexOf('.');
    const parent = dot < 0 ? this : this.getModule(path.slice(0, dot));
    const key = path.slice(dot + 1);
    const old = parent.childModules.get(key);
    if (!old) throw new Error(`no module "${path}"`);
    parent.childModules.set(key, replacement);
    parent.onChildReplaced(key, replacement);
    return old;
  }

  /** Subclasses holding typed references to children refresh them here. */
  protected onChildReplaced(_key: string, _replacement: Module): void {}

  child<M extends Module>(key: string): M {
    const m = this.childModules.get(key);
    if (!m) throw new Error(`no child module "${key}"`);
    return m as M;
  }

  dispose(): void {
    for (const [, p] of this.namedParameters()) p.dispose();
  }
}

/** A module applied to one tensor (layers that adapters can wrap). */
export abstract class Layer extends Module {
  abstract forward(x: tf.Tensor): tf.Tensor;
}
