// Kernel census: `pnpm vitest run -c packages/backend-torch/scripts/census/vitest.config.ts`
// then `sort -u /tmp/kernel-census.txt`: every tfjs kernel the project's test suites run.
import { defineConfig } from 'vitest/config';
import base from '../../../../vitest.config.ts';

export default defineConfig({
  ...base,
  root: new URL('../../../../', import.meta.url).pathname,
  test: {
    ...base.test,
    include: ['packages/{core,models,peft,losses,datasets}/test/**/*.test.ts', 'test/integration/**/*.test.ts'],
    setupFiles: [new URL('./setup.ts', import.meta.url).pathname],
    reporters: ['dot'],
  },
});
