import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { captureOutput } from '@dfdet/core/testing';

/** Runs one CommandModule through yargs as `exp` would, in-process, capturing stdout / stderr. */
export async function runCommand(cmd: CommandModule<any, any>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let error: unknown;
  const { out, err } = await captureOutput(async () => {
    try {
      await yargs(argv)
        .scriptName('exp')
        .command(cmd)
        .strict()
        .demandCommand(1)
        .fail((msg, e) => {
          throw e ?? new Error(msg);
        })
        .parseAsync();
    } catch (e) {
      error = e;
    }
  });
  return error === undefined ? { code: 0, out, err } : { code: 1, out, err: `${err}error: ${(error as Error).message}\n` };
}
