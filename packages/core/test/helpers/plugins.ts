import { z } from 'zod';
import { definePlugin, pluginModule } from '../../src/index.js';

/** Small plugins standing in for real ones, so config tests do not depend on other packages. */
export const testPlugins = pluginModule(
  definePlugin({
    kind: 'peft',
    name: 'lora',
    description: 'test lora',
    options: z.object({ rank: z.number().int().positive().default(1), alpha: z.number().default(32), target_modules: z.array(z.string()).default(['out_proj']) }),
    create: (o) => o,
  }),
  definePlugin({ kind: 'peft', name: 'ln-tuning', description: 'test ln', options: z.object({}), create: () => ({}) }),
  definePlugin({ kind: 'logger', name: 'console', description: 'test console', options: z.object({ every_n_steps: z.number().int().default(10) }), create: (o) => o }),
);
