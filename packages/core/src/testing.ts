/**
 * Test support for dfdet and plugin packages (`@dfdet/core/testing`): run CLI code in-process with
 * its output captured. Kept out of the main entry so production code never loads it.
 */
import { main } from './cli/main.js';

export interface Captured {
  out: string;
  err: string;
}

/** Runs `fn` with process.stdout/stderr writes and console.log/error captured; restores them afterwards. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<Captured & { result: T }> {
  const captured: Captured = { out: '', err: '' };
  const saved = {
    out: process.stdout.write,
    err: process.stderr.write,
    log: console.log,
    error: console.error,
  };
  const sink = (key: keyof Captured) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      captured[key] += String(chunk);
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = sink('out');
  process.stderr.write = sink('err');
  console.log = (...a: unknown[]) => void (captured.out += `${a.join(' ')}\n`);
  console.error = (...a: unknown[]) => void (captured.err += `${a.join(' ')}\n`);
  try {
    const result = await fn();
    return { ...captured, result };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    console.log = saved.log;
    console.error = saved.error;
  }
}

/** The `exp` CLI in-process: exit code and captured output. */
export async function runExp(argv: string[]): Promise<Captured & { code: number }> {
  const { result, out, err } = await captureOutput(() => main(argv));
  return { code: result, out, err };
}
