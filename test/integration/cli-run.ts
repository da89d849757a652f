import { vi } from 'vitest';
import { main } from '../../packages/core/src/cli/main.js';

/** Runs the exp CLI in-process, capturing stdout and stderr. */
export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((out += String(c)), true)),
    vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((err += String(c)), true)),
    vi.spyOn(console, 'log').mockImplementation((...a) => void (out += `${a.join(' ')}\n`)),
    vi.spyOn(console, 'error').mockImplementation((...a) => void (err += `${a.join(' ')}\n`)),
  ];
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}
