import { definePlugin, pluginModule, z } from '@dfdet/core';

/** Test plugin: a logger that SIGKILLs its own process at a given step (a hard crash mid-epoch). */
export const plugins = pluginModule(
  definePlugin({
    kind: 'logger',
    name: 'killer',
    description: 'kills the process at step at_step (tests)',
    options: z.object({ at_step: z.number().int().positive() }),
    create: (o) => ({
      start() {},
      log(r: { step: number }) {
        if (r.step === o.at_step) process.kill(process.pid, 'SIGKILL');
      },
      finish() {},
    }),
  }),
);
