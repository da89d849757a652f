/**
 * Which ffmpeg binary to run, and running it. Order: an explicit path (`--ffmpeg`), `$DFDET_FFMPEG`, the binary
 * `@ffmpeg-installer/ffmpeg` ships for this platform, then `ffmpeg` on the PATH. ffprobe is never needed.
 */
import { accessSync, constants } from 'node:fs';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { UserError } from '@dfdet/core';

const here = createRequire(import.meta.url);

export interface FfmpegBinary {
  path: string;
  source: 'option' | 'DFDET_FFMPEG' | '@ffmpeg-installer/ffmpeg' | 'PATH';
}

export function resolveFfmpeg(explicit?: string): FfmpegBinary {
  if (explicit) return { path: explicit, source: 'option' };
  const env = process.env.DFDET_FFMPEG;
  if (env) return { path: env, source: 'DFDET_FFMPEG' };
  try {
    const path = (here('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new UserError(
        `${path} is not executable (its package's postinstall "chmod u+x" did not run); run: chmod u+x ${path}, or set DFDET_FFMPEG to another ffmpeg`,
      );
    }
    return { path, source: '@ffmpeg-installer/ffmpeg' };
  } catch (err) {
    if (err instanceof UserError) throw err;
    return { path: 'ffmpeg', source: 'PATH' }; // no binary for this platform: hope for a system one
  }
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs ffmpeg to completion, collecting stdout and stderr. */
export function runFfmpeg(bin: FfmpegBinary, args: string[]): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => (err += s));
    child.on('error', (e) => reject(spawnError(bin, e)));
    child.on('close', (code) => resolvePromise({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

export function spawnError(bin: FfmpegBinary, e: Error): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new UserError(
      bin.source === 'PATH'
        ? 'no ffmpeg found: @ffmpeg-installer/ffmpeg has no binary for this platform and there is no ffmpeg on the PATH; install one or set DFDET_FFMPEG'
        : `ffmpeg not found at ${bin.path} (from ${bin.source})`,
    );
  }
  return new UserError(`cannot run ffmpeg (${bin.path}): ${e.message}`);
}

/** The last meaningful stderr lines of a failed ffmpeg run, for error messages. */
export function ffmpegReason(stderr: string, path: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^(frame=|size=|video:|Press \[q\]|At least one output file)/.test(l));
  const last = lines.slice(-2).join('; ');
  return (last || 'ffmpeg failed').replaceAll(path, '<file>');
}
