import { vi } from 'vitest';
import yargs from 'yargs';
import type { CommandModule } from 'yargs';

/** Runs one CommandModule through yargs as `exp` would, in-process, capturing stdout / stderr. */
export async function runCommand(cmd: CommandModule<any, any>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((out += String(c)), true)),
    vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((err += String(c)), true)),
    vi.spyOn(console, 'log').mockImplementation((...a) => void (out += `${a.join(' ')}\n`)),
    vi.spyOn(console, 'error').mockImplementation((...a) => void (err += `${a.join(' ')}\n`)),
  ];
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
    return { code: 0, out, err };
  } catch (e) {
    err += `error: ${(e as Error).message}\n`;
    return { code: 1, out, err };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}
