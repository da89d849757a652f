import { basename, dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { formatZodIssues } from '../config/issues.js';
import { isPlainObject } from '../config/merge.js';
import { readYamlMapping } from '../config/yaml-file.js';
import { SeededRng } from '../util/rng.js';
import { UserError } from '../util/errors.js';

/** Dotted config keys, as `--set` takes them. */
const KEY = /^[A-Za-z_$][\w$-]*(\.([A-Za-z_$][\w$-]*|\d+))*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const axisKey = z.string().regex(KEY, 'a dotted config key like optim.lr');

const range = z
  .object({
    low: z.number(),
    high: z.number(),
    log: z.boolean().default(false).describe('sample uniformly in log space (low > 0)'),
    int: z.boolean().default(false).describe('integers from low to high, both included'),
  })
  .strict();

export type RandomRange = z.output<typeof range>;

/** The sweep YAML file. */
export const sweepFileSchema = z
  .object({
    $schema: z.string().optional(),
    sweep: z.string().regex(NAME, 'letters, digits, ".", "_" and "-" only (it names the sweep folder)').optional()
      .describe('sweep name: runs go to <output.dir>/<sweep>/<run>; default: the file name'),
    description: z.string().optional(),
    experiment: z
      .union([z.string(), z.array(z.string()).min(1)])
      .describe('base experiment file(s), relative to this file; a list is merged in order like exp run a.yaml b.yaml'),
    name: z
      .string()
      .min(1)
      .optional()
      .describe("run name template, e.g. '{model.peft.name}-{loss.uniformity.weight}-s{seed}' (without {placeholders}: the sweep name)"),
    run_name: z.string().min(1).optional().describe('run name template (then name: is the sweep name)'),
    set: z.record(axisKey, z.unknown()).default({}).describe('fixed overrides for every run: {dotted.key: value}'),
    grid: z.record(axisKey, z.array(z.unknown()).min(1)).optional().describe('cartesian product over these keys'),
    zip: z.record(axisKey, z.array(z.unknown()).min(1)).optional().describe('lists taken in lockstep (equal lengths)'),
    random: z
      .object({
        count: z.number().int().positive(),
        seed: z.number().int().min(0).default(0),
        params: z.record(axisKey, z.union([z.array(z.unknown()).min(1), range])),
      })
      .strict()
      .optional()
      .describe('count samples; each key from a list or a range {low, high, log?, int?}'),
    seeds: z.array(z.number().int().min(0)).min(1).optional().describe('repeat every configuration with these seeds'),
    output: z.object({ dir: z.string().optional() }).strict().optional().describe('run store root (default: the experiment\'s output.dir)'),
    launcher: z
      .object({ name: z.string() })
      .passthrough()
      .default({ name: 'local' })
      .describe('launcher plugin: {name: local, workers, devices} or {name: slurm, partition, gpus, …}'),
    results: z
      .object({
        sort: z.string().optional().describe('metric to sort by (default: the monitor)'),
        metrics: z.array(z.string()).optional().describe('extra metric columns in the markdown table'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type SweepFile = z.output<typeof sweepFileSchema>;

export interface LoadedSweepFile {
  file: string;
  spec: SweepFile;
  /** The sweep name (folder). */
  name: string;
  /** Base experiment files, absolute. */
  experiment: string[];
  /** The run name template, when the file has one. */
  template?: string;
}

export function loadSweepFile(path: string, cwd = process.cwd()): LoadedSweepFile {
  const file = resolve(cwd, path);
  const raw = readYamlMapping(file);
  const parsed = sweepFileSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`${path}: invalid sweep file: ${formatZodIssues(parsed.error.issues, sweepFileSchema)}`);
  const spec = parsed.data;
  const experiment = (typeof spec.experiment === 'string' ? [spec.experiment] : spec.experiment).map((e) => resolve(dirname(file), e));
  // name: is the run name template when it has {placeholders}, else the sweep name (run_name: then the template)
  const nameIsTemplate = spec.name !== undefined && /\{[^{}]+\}/.test(spec.name);
  if (spec.run_name && nameIsTemplate) throw new UserError(`${path}: name: and run_name: are both run name templates; keep one`);
  if (spec.name && !nameIsTemplate && spec.sweep && spec.sweep !== spec.name) {
    throw new UserError(`${path}: name: "${spec.name}" (no {placeholders}: a sweep name) and sweep: "${spec.sweep}" disagree; keep one`);
  }
  const template = spec.run_name ?? (nameIsTemplate ? spec.name : undefined);
  const name = spec.sweep ?? (spec.name && !nameIsTemplate ? spec.name : undefined) ?? basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, '-');
  if (!NAME.test(name)) throw new UserError(`${path}: sweep name "${name}" must start with a letter or digit; set sweep: <name>`);
  return { file, spec, name, experiment, template };
}

/** One combination of axis values, in axis order. */
export type Assignment = Record<string, unknown>;

/** Cartesian product of the blocks (grid, zip, random, seeds), each a list of partial assignments. */
export function expandAxes(spec: Pick<SweepFile, 'grid' | 'zip' | 'random' | 'seeds' | 'set'>): { axes: string[]; assignments: Assignment[] } {
  const blocks: { label: string; keys: string[]; rows: Assignment[] }[] = [];
  if (spec.grid && Object.keys(spec.grid).length) {
    let rows: Assignment[] = [{}];
    for (const [k, values] of Object.entries(spec.grid)) rows = rows.flatMap((r) => values.map((v) => ({ ...r, [k]: v })));
    blocks.push({ label: 'grid', keys: Object.keys(spec.grid), rows });
  }
  if (spec.zip && Object.keys(spec.zip).length) {
    const entries = Object.entries(spec.zip);
    const n = entries[0]![1].length;
    const bad = entries.find(([, v]) => v.length !== n);
    if (bad) {
      throw new UserError(`zip: every list must have the same length; ${entries[0]![0]} has ${n}, ${bad[0]} has ${bad[1].length}`);
    }
    blocks.push({ label: 'zip', keys: entries.map(([k]) => k), rows: Array.from({ length: n }, (_, i) => Object.fromEntries(entries.map(([k, v]) => [k, v[i]]))) });
  }
  if (spec.random) {
    const { count, seed, params } = spec.random;
    const rng = SeededRng.derive(seed, 'sweep:random');
    const rows: Assignment[] = [];
    for (let i = 0; i < count; i++) {
      const row: Assignment = {};
      for (const [k, p] of Object.entries(params)) row[k] = Array.isArray(p) ? p[rng.int(p.length)] : sampleRange(k, p, rng);
      rows.push(row);
    }
    blocks.push({ label: 'random', keys: Object.keys(params), rows });
  }
  if (spec.seeds) blocks.push({ label: 'seeds', keys: ['seed'], rows: spec.seeds.map((s) => ({ seed: s })) });

  const owner = new Map<string, string>();
  for (const k of Object.keys(spec.set ?? {})) owner.set(k, 'set');
  for (const b of blocks) {
    for (const k of b.keys) {
      const prior = owner.get(k) ?? [...owner.keys()].filter((o) => o.startsWith(`${k}.`) || k.startsWith(`${o}.`)).map((o) => owner.get(o))[0];
      if (prior) throw new UserError(`${b.label}: ${k} is also set by ${prior}; a key may belong to one block only`);
      owner.set(k, b.label);
    }
  }
  let assignments: Assignment[] = [{}];
  for (const b of blocks) assignments = assignments.flatMap((a) => b.rows.map((r) => ({ ...a, ...r })));
  return { axes: blocks.flatMap((b) => b.keys), assignments };
}

function sampleRange(key: string, r: RandomRange, rng: SeededRng): number {
  if (!(r.high >= r.low)) throw new UserError(`random.params.${key}: high (${r.high}) must be >= low (${r.low})`);
  if (r.log && r.low <= 0) throw new UserError(`random.params.${key}: log ranges need low > 0`);
  const u = rng.next();
  if (r.int) {
    const lo = Math.ceil(r.low);
    const hi = Math.floor(r.high);
    if (r.log) return Math.min(hi, Math.max(lo, Math.round(Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo))))));
    return lo + Math.floor(u * (hi - lo + 1));
  }
  const v = r.log ? Math.exp(Math.log(r.low) + u * (Math.log(r.high) - Math.log(r.low))) : r.low + u * (r.high - r.low);
  return Number(v.toPrecision(6));
}

/** The value at a dotted key in a plain object (undefined when absent). */
export function getPath(root: unknown, key: string): unknown {
  let node = root;
  for (const seg of key.split('.')) {
    if (Array.isArray(node)) node = node[Number(seg)];
    else if (isPlainObject(node)) node = (node as Record<string, unknown>)[seg];
    else return undefined;
  }
  return node;
}

/** How a value looks in a run name and in tables. */
export function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  if (Array.isArray(v)) return `[${v.map(formatValue).join(',')}]`;
  if (isPlainObject(v)) {
    // a plugin instance reads as its name and options: lora(rank=4,alpha=8)
    const { name, ...rest } = v as Record<string, unknown>;
    const opts = Object.entries(rest).map(([k, x]) => `${k}=${formatValue(x)}`).join(',');
    if (typeof name === 'string') return opts ? `${name}(${opts})` : name;
    return `{${opts}}`;
  }
  return JSON.stringify(v);
}

/** Folder-safe: letters, digits, ".", "_" and "-"; starts with a letter or digit; at most 120 characters. */
export function sanitizeName(name: string): string {
  const s = name
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[._-]+$/, '')
    .slice(0, 120);
  return s || 'run';
}

/** A short label for an axis key: the last segment, or the one before a trailing `name`. */
export function axisLabel(key: string): string {
  const segs = key.split('.');
  return segs.length > 1 && segs[segs.length - 1] === 'name' ? segs[segs.length - 2]! : segs[segs.length - 1]!;
}

/** The template used when the sweep file has no `name:`: `label-{key}` per axis, joined by `_`. */
export function defaultTemplate(axes: string[]): string {
  if (axes.length === 0) return 'run';
  return axes.map((k) => `${axisLabel(k)}-{${k}}`).join('_');
}

/**
 * Fills `{dotted.key}` placeholders from the run's axis values, then from its resolved config;
 * `{seed}` is the run's seed, `{index}` its position (from 0). The result is sanitized.
 */
export function renderName(template: string, lookup: (key: string) => unknown, index: number): string {
  const out = template.replace(/\{([^{}]+)\}/g, (_, rawKey: string) => {
    const key = rawKey.trim();
    if (key === 'index') return String(index);
    const v = lookup(key);
    if (v === undefined) throw new UserError(`name: {${key}} is neither an axis nor a config key of run #${index}`);
    return formatValue(v);
  });
  return sanitizeName(out);
}

/** A `--set` string whose value survives YAML parsing exactly (JSON is YAML). */
export function toOverride(key: string, value: unknown): string {
  return `${key}=${JSON.stringify(value)}`;
}
