export type Plain = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Dotted path → source label of the value there (the last writer wins). */
export type Sources = Map<string, string>;

/**
 * Deep merge: objects merge key by key, lists and scalars are replaced, and `null` removes a key
 * (JSON merge-patch semantics, so a file or `--set k=null` can switch off what a base file set).
 * Two plugin instances with different `name`s are not merged: switching plugin drops the
 * old plugin's options, which would otherwise fail validation as unknown keys.
 */
export function mergeInto(base: Plain, over: Plain, source: string, sources: Sources, prefix: string[] = []): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const path = [...prefix, key];
    const prior = out[key];
    if (value === null) {
      dropSources(sources, path);
      delete out[key];
      sources.set(path.join('.'), source);
      continue;
    }
    if (isPlainObject(prior) && isPlainObject(value) && !switchesPlugin(prior, value)) {
      out[key] = mergeInto(prior, value, source, sources, path);
    } else {
      dropSources(sources, path);
      out[key] = structuredClone(value);
      recordSources(value, path, source, sources);
    }
  }
  return out;
}

function switchesPlugin(a: Plain, b: Plain): boolean {
  return typeof a.name === 'string' && typeof b.name === 'string' && a.name !== b.name;
}

export function recordSources(value: unknown, path: string[], source: string, sources: Sources): void {
  sources.set(path.join('.'), source);
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) recordSources(v, [...path, k], source, sources);
  }
}

function dropSources(sources: Sources, path: string[]): void {
  const key = path.join('.');
  for (const k of [...sources.keys()]) if (k === key || k.startsWith(`${key}.`)) sources.delete(k);
}
