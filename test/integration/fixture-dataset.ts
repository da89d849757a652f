import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { definePlugin, pluginModule, z, type DatasetAdapter } from '@dfdet/core';

const FIX = fileURLToPath(new URL('../fixtures/clip-tiny', import.meta.url));

/** A third-party style dataset plugin serving the three reference images with the reference labels. */
export const plugins = pluginModule(
  definePlugin({
    kind: 'dataset',
    name: 'clip-tiny-images',
    description: 'the three clip-tiny reference PNGs, labels [0, 1, 1], in every split',
    options: z.object({ repeat: z.number().int().positive().default(1) }),
    create: (o): DatasetAdapter => ({
      name: 'clip-tiny',
      index: async () =>
        Array.from({ length: o.repeat }, (_, r) =>
          [0, 1, 2].map((i) => ({
            path: resolve(FIX, `img${i}.png`),
            video: `v${i}-${r}`,
            label: (i === 0 ? 0 : 1) as 0 | 1,
            source: i === 0 ? 'real' : 'fake',
            dataset: 'clip-tiny',
          })),
        ).flat(),
    }),
  }),
);
