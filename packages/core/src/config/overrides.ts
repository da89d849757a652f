import { parse } from 'yaml';
import { UserError } from '../util/errors.js';
import { isPlainObject, type Plain } from './merge.js';

export interface Override {
  path: string[];
  value: unknown;
  raw: string;
}

const KEY = /^[A-Za-z_$][\w$-]*(\.([A-Za-z_$][\w$-]*|\d+))*$/;

/** Parses `a.b.c=value`; the value is read as YAML, so `3`, `true`, `[1, 2]` and `null` are typed. */
export function parseOverride(raw: string): Override {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${raw}: expected key.path=value, e.g. --set optim.lr=1e-4`);
  const key = raw.slice(0, eq).trim();
  if (!KEY.test(key)) throw new UserError(`--set ${raw}: "${key}" is not a dotted key path like optim.lr`);
  const text = raw.slice(eq + 1);
  let value: unknown;
  try {
    value = text.trim() === '' ? '' : parse(text, { maxAliasCount: 0 });
  } catch {
    value = text;
  }
  return { path: key.split('.'), value, raw };
}

/** Returns the object at `path` in `root`, creating objects on the way; numbers index into lists. */
export function setPath(root: Plain, path: string[], value: unknown, label: string): void {
  let node: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    const container = node as Record<string, unknown>;
    let next = Array.isArray(node) ? (node as unknown[])[Number(seg)] : container[seg];
    if (next === undefined || next === null) {
      next = {};
      container[seg] = next;
    } else if (!isPlainObject(next) && !Array.isArray(next)) {
      throw new UserError(`${label}: ${path.slice(0, i + 1).join('.')} is a ${typeof next}, not a mapping`);
    }
    node = next;
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(node)) {
    const i = Number(last);
    if (!Number.isInteger(i) || i < 0 || i > node.length) {
      throw new UserError(`${label}: index ${last} is outside the list ${path.slice(0, -1).join('.')} of length ${node.length}`);
    }
    node[i] = value;
  } else {
    (node as Plain)[last] = value;
  }
}

/** Removes the key at `path` (a `--set k=null`); missing parents are fine. */
export function unsetPath(root: Plain, path: string[]): void {
  let node: unknown = root;
  for (const seg of path.slice(0, -1)) {
    node = isPlainObject(node) ? node[seg] : Array.isArray(node) ? node[Number(seg)] : undefined;
    if (node === undefined) return;
  }
  const last = path[path.length - 1]!;
  if (isPlainObject(node)) delete node[last];
  else if (Array.isArray(node)) node.splice(Number(last), 1);
}
