import * as tf from '../tf.js';
import type { HostTensor } from '../contracts/services.js';

export interface AdamWOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  /** A parameter whose name contains any of these gets no weight decay (official: bias, norm). */
  no_decay: string[];
}

/**
 * torch.optim.AdamW, exactly: decoupled decay p ← p(1 − lr·wd), bias-corrected moments, eps added
 * after the bias-corrected square root. Moments are tf variables so steps stay on the device.
 */
export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  /** Optimizer steps taken (k in the bias corrections). */
  stepCount = 0;

  constructor(
    private readonly params: ReadonlyMap<string, tf.Variable>,
    private readonly opts: AdamWOptions,
  ) {
    for (const [name, p] of params) {
      for (const table of [this.m, this.v]) {
        const zeros = tf.zerosLike(p);
        table.set(name, tf.variable(zeros, false));
        zeros.dispose();
      }
    }
  }

  decays(name: string): boolean {
    return this.opts.weight_decay > 0 && !this.opts.no_decay.some((s) => name.includes(s));
  }

  /** One update with the given gradients (by parameter name) at learning rate `lr`. */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.stepCount += 1;
    const k = this.stepCount;
    const [b1, b2] = this.opts.betas;
    const bc1 = 1 - b1 ** k;
    const bc2sqrt = Math.sqrt(1 - b2 ** k);
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) throw new Error(`no gradient for trainable parameter ${name}`);
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      tf.tidy(() => {
        const base = this.decays(name) ? tf.mul(p, 1 - lr * this.opts.weight_decay) : p;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2sqrt), this.opts.eps);
        p.assign(tf.sub(base, tf.mul(tf.div(m, denom), lr / bc1)));
      });
    }
  }

  /** Moments as host tensors (`exp_avg.<name>`, `exp_avg_sq.<name>`) for checkpoints. */
  state(): { step: number; tensors: Map<string, HostTensor> } {
    const tensors = new Map<string, HostTensor>();
    for (const [name, m] of this.m) tensors.set(`exp_avg.${name}`, { shape: [...m.shape], data: m.dataSync() as Float32Array });
    for (const [name, v] of this.v) tensors.set(`exp_avg_sq.${name}`, { shape: [...v.shape], data: v.dataSync() as Float32Array });
    return { step: this.stepCount, tensors };
  }

  loadState(state: { step: number; tensors: Map<string, HostTensor> }, source: string): void {
    for (const [prefix, table] of [['exp_avg', this.m], ['exp_avg_sq', this.v]] as const) {
      for (const [name, variable] of table) {
        const t = state.tensors.get(`${prefix}.${name}`);
        if (!t) throw new Error(`${source}: optimizer state lacks ${prefix}.${name}`);
        if (t.data.length !== variable.size) throw new Error(`${source}: ${prefix}.${name} has ${t.data.length} values, expected ${variable.size}`);
        tf.tidy(() => variable.assign(tf.tensor(t.data, variable.shape)));
      }
    }
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/** Scales gradients in place so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  const norm = Math.sqrt(tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))).dataSync()[0]!));
  if (norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const [name, g] of grads) {
      grads.set(name, tf.mul(g, scale));
      g.dispose();
    }
  }
  return norm;
}
