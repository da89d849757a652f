import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { UserError } from '../util/errors.js';
import { isPlainObject, type Plain } from './merge.js';

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Reads one YAML mapping defensively: size bound, duplicate keys and alias bombs refused. */
export function readYamlMapping(file: string): Plain {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new UserError(`config file not found: ${file}`);
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new UserError(`${file}: ${size} bytes is too large for a config file (limit ${MAX_CONFIG_BYTES})`);
  }
  const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0];
    throw new UserError(`${file}${line ? `:${line.line}:${line.col}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new UserError(`${file}: ${(err as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new UserError(`${file}: expected a mapping of config keys at the top level, got ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  return value;
}
