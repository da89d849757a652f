import { tf } from '@dfdet/core';

/**
 * Shared tensor helpers. Every op here has a gradient on the cpu and wasm backends without
 * UnsortedSegmentSum: no tf.gather / gatherND in a differentiated path; index-based selections are
 * built on the host as constant 0/1 masks or permutation matrices and applied by multiply / matMul.
 */

/**
 * torch.nn.functional.normalize(x, p=2, dim=1, eps): x / max(‖x‖₂, eps), row-wise.
 * Written as x · rsqrt(max(‖x‖², eps²)) so an all-zero row gets a zero (not NaN) gradient:
 * the max gates the gradient before the square root.
 */
export function l2Normalize(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), 1, true), eps * eps))) as tf.Tensor2D);
}

/**
 * Pairwise squared Euclidean distances [N, N] as ‖a‖² + ‖b‖² − 2a·b (one matMul), clamped at 0.
 * The diagonal is ~0 (rounding); callers mask it out.
 */
export function pairwiseSquaredDistances(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1, true); // [N, 1]
    const gram = tf.matMul(x, x, false, true); // [N, N]
    return tf.relu(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(gram, 2))) as tf.Tensor2D;
  });
}

/** Strict upper triangle (i < j) of an N×N matrix as a 0/1 host array, row-major: torch.pdist's pairs. */
export function upperTriangle(n: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) m[i * n + j] = 1;
  return m;
}

/**
 * A scalar 0 that is still connected to `x` in the gradient tape (like the official code's
 * `logits.sum() * 0`), so summing it into a loss never breaks `tf.grads` for lack of a path.
 */
export function connectedZero(x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mul(tf.sum(x), 0) as tf.Scalar);
}

/** Labels as int32 (the LossInputs contract says int32; a float tensor of class ids is accepted too). */
export function asInt32(labels: tf.Tensor1D): tf.Tensor1D {
  return labels.dtype === 'int32' ? labels : (tf.cast(labels, 'int32') as tf.Tensor1D);
}
