import { z } from 'zod';
import { didYouMean } from '../util/suggest.js';

type JsonSchema = Record<string, any>;

export interface IssueContext {
  /** The validated value, to pick union branches when looking up the keys allowed at a path. */
  data?: unknown;
  /** Dotted key path → where that value came from (a file, `--set`, …). */
  sources?: ReadonlyMap<string, string>;
}

/** Formats zod issues as "source: key.path: expected X, got Y" lines, with "did you mean" for unknown keys. */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, ctx: IssueContext = {}): string {
  return describeIssues(issues, schema, ctx).join('\n');
}

export function describeIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, ctx: IssueContext = {}): string[] {
  let json: JsonSchema | undefined;
  const jsonSchema = () => (json ??= z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema);
  const lines: string[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(jsonSchema(), path, ctx.data);
      for (const key of issue.keys) {
        const hint = didYouMean(key, allowed);
        const full = [...path, key];
        lines.push(
          `${where(full, ctx)}unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; allowed here: ${allowed.join(', ') || '(none)'}`,
        );
      }
      continue;
    }
    lines.push(`${where(path, ctx)}${explain(issue)}`);
  }
  return lines;
}

function where(path: string[], ctx: IssueContext): string {
  const key = path.join('.') || '(top level)';
  const source = sourceOf(path, ctx.sources);
  return `${source ? `${source}: ` : ''}${key}: `;
}

function sourceOf(path: string[], sources?: ReadonlyMap<string, string>): string | undefined {
  if (!sources) return undefined;
  for (let n = path.length; n >= 0; n--) {
    const hit = sources.get(path.slice(0, n).join('.'));
    if (hit) return hit;
  }
  return undefined;
}

function explain(issue: z.core.$ZodIssue): string {
  const got = 'input' in issue ? `, got ${show(issue.input)}` : '';
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `required (expected ${issue.expected})` : `expected ${issue.expected}${got}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    case 'invalid_union': {
      const u = issue as z.core.$ZodIssueInvalidUnion & { discriminator?: string; options?: unknown[] };
      if (u.discriminator && Array.isArray(u.options)) {
        const value = (issue.input as Record<string, unknown> | undefined)?.[u.discriminator];
        const options = u.options.map(String);
        const hint = typeof value === 'string' ? didYouMean(value, options) : undefined;
        return `unknown ${u.discriminator} ${show(value)}${hint ? ` (did you mean "${hint}"?)` : ''}; registered: ${options.join(', ')}`;
      }
      return `${issue.message}${got}`;
    }
    default:
      return `${issue.message}${got}`;
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The keys an object at `path` may have, following union branches by the data's `name`. */
export function allowedKeys(root: JsonSchema, path: string[], data: unknown): string[] {
  let node: JsonSchema | undefined = root;
  let value: unknown = data;
  for (const seg of path) {
    node = pickBranch(root, node, value);
    if (!node) return [];
    value = (value as Record<string, unknown> | undefined)?.[seg];
    if (node.properties?.[seg]) node = node.properties[seg];
    else if (node.items && /^\d+$/.test(seg)) node = node.items;
    else if (typeof node.additionalProperties === 'object') node = node.additionalProperties;
    else return [];
  }
  node = pickBranch(root, node, value);
  return node?.properties ? Object.keys(node.properties).sort() : [];
}

function pickBranch(root: JsonSchema, node: JsonSchema | undefined, value: unknown): JsonSchema | undefined {
  node = deref(root, node);
  const branches: JsonSchema[] | undefined = node?.oneOf ?? node?.anyOf;
  if (!branches) return node;
  const resolved = branches.map((b) => deref(root, b)!);
  const name = (value as Record<string, unknown> | undefined)?.name;
  const match = resolved.find((b) => b.properties?.name?.const !== undefined && b.properties.name.const === name);
  if (match) return match;
  const objects = resolved.filter((b) => b.properties);
  if (objects.length === 1) return objects[0];
  return { properties: Object.assign({}, ...objects.map((b) => b.properties)) };
}

function deref(root: JsonSchema, node: JsonSchema | undefined): JsonSchema | undefined {
  let n = node;
  for (let i = 0; n?.$ref && i < 16; i++) {
    const ref: string = n.$ref;
    const parts = ref.replace(/^#\/?/, '').split('/').filter(Boolean);
    n = parts.reduce<JsonSchema | undefined>((acc, p) => acc?.[p], root);
  }
  return n;
}
