import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { workspaceRoot } from '../plugin/load.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'interrupted';

export interface RunMeta {
  experiment: string;
  run: string;
  status: RunStatus;
  started_at: string;
  ended_at?: string;
  exit_code?: number;
  error?: string;
  /** Every (re)start of this run, oldest first. */
  sessions: { started_at: string; command: string; pid: number; host: string }[];
  git: { commit: string | null; dirty: boolean | null };
  packages: Record<string, string>;
  engine?: { backend: string; device: string; reason?: string };
  host: string;
  node: string;
  [extra: string]: unknown;
}

export function gitState(cwd = workspaceRoot()): RunMeta['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: null, dirty: null };
  }
}

const VERSIONED = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'inversify', 'zod'];

/** Versions of dfdet's packages and the libraries whose numbers matter for reproducing a run. */
export function packageVersions(): Record<string, string> {
  const root = workspaceRoot();
  const out: Record<string, string> = {};
  for (const pkg of ['core', 'models', 'peft', 'losses', 'datasets', 'backend-torch']) {
    try {
      const json = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8')) as { name: string; version: string };
      out[json.name] = json.version;
    } catch {
      // package not present in this checkout
    }
  }
  for (const dep of VERSIONED) {
    try {
      const json = JSON.parse(readFileSync(join(root, 'packages/core/node_modules', dep, 'package.json'), 'utf8')) as { version: string };
      out[dep] = json.version;
    } catch {
      // not installed
    }
  }
  out.node = process.version;
  return out;
}

export function newSession(): RunMeta['sessions'][number] {
  return { started_at: new Date().toISOString(), command: process.argv.slice(1).join(' '), pid: process.pid, host: hostname() };
}
