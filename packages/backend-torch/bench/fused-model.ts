/**
 * Routes a ClipVisionModel's layer norms, attention and quick_gelu through this package's fused
 * ops by patching the module instances (packages/models is not changed here; this is what
 * switching vision-model.ts / layers.ts to the fused ops will do — see the package README).
 */
import { tf } from '@dfdet/core';
import { LayerNorm, type ClipVisionModel, type Layer, type Module } from '@dfdet/models';
import { attention, layerNorm, quickGelu } from '../src/index.js';

export function useFusedOps(model: ClipVisionModel): void {
  for (const [, m] of model.namedModules()) {
    if (m instanceof LayerNorm) {
      const ln = m;
      ln.forward = (x: tf.Tensor) => layerNorm(x, ln.weight, ln.bias, ln.eps);
    } else if (m.constructor.name === 'Attention') {
      const attn = m as Module & { heads: number; headDim: number; forward: unknown };
      const original = (attn.forward as (x: tf.Tensor3D, keepProbs: boolean) => unknown).bind(attn);
      attn.forward = (x: tf.Tensor3D, keepProbs: boolean) => {
        if (keepProbs) return original(x, keepProbs); // attention maps asked for: the decomposed path
        const p = (name: string) => attn.child<Layer>(name).forward(x) as tf.Tensor3D;
        const ctx = attention(p('q_proj'), p('k_proj'), p('v_proj'), attn.heads, attn.headDim ** -0.5);
        return { out: attn.child<Layer>('out_proj').forward(ctx) as tf.Tensor3D };
      };
    } else if (m.constructor.name === 'Mlp') {
      const mlp = m as Module & { cfg: { hidden_act: string }; forward: unknown };
      if (mlp.cfg.hidden_act !== 'quick_gelu') continue;
      mlp.forward = (x: tf.Tensor) => mlp.child<Layer>('fc2').forward(quickGelu(mlp.child<Layer>('fc1').forward(x)));
    }
  }
}
