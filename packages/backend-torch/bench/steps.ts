/** The benchmarked work, shared with the leak test: a forward, and one LN-tuning AdamW step. */
import { AdamW, tf } from '@dfdet/core';
import { crossEntropy } from '@dfdet/losses';
import type { ClipVisionModel } from '@dfdet/models';

const isLayerNorm = (name: string) => /layer_?norm|layrnorm/.test(name);

export interface LnTuning {
  step(pixels: tf.Tensor4D, labels: tf.Tensor1D): number;
  dispose(): void;
}

/**
 * LN-tuning as scripts/bench/torch_clip.py's `ln-step`: only the LayerNorms and a linear head
 * (d → 2) train; loss = CE(head(normalize(pooler_output))); AdamW (lr 8e-5) over those.
 */
export function lnTuning(model: ClipVisionModel): LnTuning {
  const d = model.config.hidden_size;
  const params = new Map<string, tf.Variable>();
  for (const [name, v] of model.namedParameters()) {
    v.trainable = isLayerNorm(name);
    if (v.trainable) params.set(name, v);
  }
  // (in a tidy: tf.variable shares the initial tensor's data, which must still be disposed)
  const headW = tf.tidy(() => tf.variable(tf.randomNormal([2, d], 0, d ** -0.5, 'float32', 1), true));
  const headB = tf.tidy(() => tf.variable(tf.zeros([2]), true));
  params.set('head.weight', headW);
  params.set('head.bias', headB);
  const opt = new AdamW(params, { lr: 8e-5, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.01, no_decay: ['bias', 'norm'] });
  const vars = [...params.values()];
  const names = [...params.keys()];
  return {
    step(pixels, labels) {
      const { value, grads } = tf.variableGrads(() => {
        const pooled = model.forward(pixels).poolerOutput;
        const z = tf.div(pooled, tf.norm(pooled, 2, 1, true));
        const logits = tf.add(tf.matMul(z, headW, false, true), headB) as tf.Tensor2D;
        return crossEntropy(logits, labels);
      }, vars);
      const byName = new Map(names.map((n, i) => [n, grads[vars[i]!.name]!]));
      opt.step(byName, 8e-5);
      const loss = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    },
    dispose() {
      opt.dispose();
      headW.dispose();
      headB.dispose();
    },
  };
}

/** A forward without gradients, read back (so the work is done), as torch_clip.py's `forward`. */
export function forward(model: ClipVisionModel, pixels: tf.Tensor4D): void {
  tf.tidy(() => {
    model.forward(pixels).poolerOutput.dataSync();
  });
}
