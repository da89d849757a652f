import { parse } from 'yaml';
import { UserError } from '../util/errors.js';
import { isPlainObject, type Sources } from './merge.js';

const ENV = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?:,([^}]*))?\}/g;
const WHOLE = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?:,([^}]*))?\}$/;

/**
 * Replaces `${env:VAR}` and `${env:VAR,default}` in every string. A string that is exactly one
 * interpolation is read as a YAML scalar, so `epochs: ${env:EPOCHS}` yields a number.
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, sources: Sources, path: string[] = []): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) {
      const text = lookup(whole[1]!, whole[2], env, path, sources);
      try {
        return parse(text, { maxAliasCount: 0 }) ?? text;
      } catch {
        return text;
      }
    }
    return value.replace(ENV, (_m, name: string, fallback?: string) => lookup(name, fallback, env, path, sources));
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, sources, [...path, String(i)]));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, sources, [...path, k])]));
  }
  return value;
}

function lookup(name: string, fallback: string | undefined, env: NodeJS.ProcessEnv, path: string[], sources: Sources): string {
  const v = env[name];
  if (v !== undefined) return v;
  if (fallback !== undefined) return fallback;
  const key = path.join('.');
  let source: string | undefined;
  for (let n = path.length; n >= 0 && !source; n--) source = sources.get(path.slice(0, n).join('.'));
  throw new UserError(
    `${source ? `${source}: ` : ''}${key}: environment variable ${name} is not set (set it, or write \${env:${name},default})`,
  );
}
