import { definePlugin, pluginModule, tf, z } from '@dfdet/core';

/** Test plugin: records the live tensor count at every logged step into a global array. */
export const plugins = pluginModule(
  definePlugin({
    kind: 'logger',
    name: 'tensor-probe',
    description: 'records tf.memory().numTensors per step (tests)',
    options: z.object({}),
    create: () => {
      const counts: number[] = ((globalThis as Record<string, unknown>).__tensorCounts = []) as number[];
      return {
        start() {},
        log(r: { step: number; [k: string]: unknown }) {
          if (r['train/loss'] !== undefined) counts.push(tf.memory().numTensors);
        },
        finish() {},
      };
    },
  }),
);
