import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { interpolateEnv } from './interpolate.js';
import { mergeInto, type Plain, type Sources } from './merge.js';
import { parseOverride, setPath, unsetPath } from './overrides.js';
import { readYamlMapping } from './yaml-file.js';

/** A config before validation: merged files, overrides applied, env interpolated. */
export interface ComposedConfig {
  data: Plain;
  sources: Sources;
  /** Every file read, bases first. */
  files: string[];
}

export interface ComposeOptions {
  overrides?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Loads config files in order (later wins), each after its `extends:` bases, then applies
 * `--set` overrides and `${env:…}` interpolation.
 */
export function composeConfig(files: string[], opts: ComposeOptions = {}): ComposedConfig {
  if (files.length === 0) throw new UserError('no config file given');
  const cwd = opts.cwd ?? process.cwd();
  const sources: Sources = new Map();
  const read: string[] = [];
  let data: Plain = {};
  for (const f of files) data = layer(data, resolve(cwd, f), [], sources, cwd, read);
  for (const raw of opts.overrides ?? []) {
    const o = parseOverride(raw);
    if (o.path[0] === 'extends') throw new UserError(`--set ${raw}: extends cannot be overridden; pass the file as another config instead`);
    if (o.value === null) unsetPath(data, o.path);
    else setPath(data, o.path, o.value, `--set ${raw}`);
    const key = o.path.join('.');
    for (const k of [...sources.keys()]) if (k === key || k.startsWith(`${key}.`)) sources.delete(k);
    sources.set(key, `--set ${raw}`);
  }
  data = interpolateEnv(data, opts.env ?? process.env, sources) as Plain;
  return { data, sources, files: [...new Set(read)] };
}

function layer(data: Plain, file: string, chain: string[], sources: Sources, cwd: string, read: string[]): Plain {
  if (chain.includes(file)) {
    throw new UserError(`extends cycle: ${[...chain, file].map((f) => label(f, cwd)).join(' -> ')}`);
  }
  const own = readYamlMapping(file);
  const bases = extendsList(own, file);
  for (const base of bases) data = layer(data, base, [...chain, file], sources, cwd, read);
  read.push(file);
  const { extends: _e, ...rest } = own;
  return mergeInto(data, absolutizePlugins(rest, file), label(file, cwd), sources);
}

function extendsList(own: Plain, file: string): string[] {
  const ext = own.extends;
  if (ext === undefined || ext === null) return [];
  const list = typeof ext === 'string' ? [ext] : ext;
  if (!Array.isArray(list) || !list.every((e) => typeof e === 'string')) {
    throw new UserError(`${file}: extends: expected a file path or a list of file paths`);
  }
  return list.map((e) => resolve(dirname(file), e));
}

/** `plugins: [./x.ts]` is relative to the file that lists it, not to the working directory. */
function absolutizePlugins(own: Plain, file: string): Plain {
  if (!Array.isArray(own.plugins)) return own;
  return {
    ...own,
    plugins: own.plugins.map((p) => (typeof p === 'string' && /^\.\.?[\\/]/.test(p) ? resolve(dirname(file), p) : p)),
  };
}

function label(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

