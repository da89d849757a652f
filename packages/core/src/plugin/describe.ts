import { z } from 'zod';
import type { PluginSpec } from './spec.js';

export interface OptionInfo {
  key: string;
  type: string;
  default?: unknown;
  required: boolean;
  description?: string;
}

/** A plugin's options as rows for `exp list`, read from the same schema that validates them. */
export function describeOptions(spec: PluginSpec): OptionInfo[] {
  const json = z.toJSONSchema(spec.options, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([key, prop]) => ({
    key,
    type: typeName(prop),
    default: prop.default,
    required: (json.required ?? []).includes(key) && prop.default === undefined,
    description: typeof prop.description === 'string' ? prop.description : undefined,
  }));
}

function typeName(prop: Record<string, any>): string {
  if (prop.const !== undefined) return JSON.stringify(prop.const);
  if (Array.isArray(prop.enum)) return prop.enum.map((v: unknown) => JSON.stringify(v)).join(' | ');
  const alts = prop.anyOf ?? prop.oneOf;
  if (Array.isArray(alts)) return alts.map(typeName).join(' | ');
  if (prop.type === 'array') return `${prop.items ? typeName(prop.items) : 'any'}[]`;
  if (prop.type === 'integer' || prop.type === 'number') {
    const bounds: string[] = [];
    if (typeof prop.exclusiveMinimum === 'number') bounds.push(`> ${prop.exclusiveMinimum}`);
    else if (typeof prop.minimum === 'number' && Math.abs(prop.minimum) < 1e15) bounds.push(`>= ${prop.minimum}`);
    if (typeof prop.exclusiveMaximum === 'number') bounds.push(`< ${prop.exclusiveMaximum}`);
    else if (typeof prop.maximum === 'number' && Math.abs(prop.maximum) < 1e15) bounds.push(`<= ${prop.maximum}`);
    return bounds.length ? `${prop.type} ${bounds.join(', ')}` : prop.type;
  }
  if (Array.isArray(prop.type)) return prop.type.join(' | ');
  return typeof prop.type === 'string' ? prop.type : 'any';
}
