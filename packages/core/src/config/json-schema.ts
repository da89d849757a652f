import { z } from 'zod';
import type { PluginRegistry } from '../plugin/registry.js';
import { experimentSchema } from './experiment.js';

/** One JSON Schema for experiment YAML, built from the same plugin schemas that validate runs. */
export function experimentJsonSchema(registry: PluginRegistry): Record<string, unknown> {
  const json = z.toJSONSchema(experimentSchema(registry), { io: 'input', unrepresentable: 'any' }) as Record<string, any>;
  // `extends` is consumed while loading, before validation; editors must still accept it.
  json.properties = {
    extends: {
      description: 'base config file(s), relative to this file; merged first, this file on top (lists are replaced)',
      anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    },
    ...json.properties,
  };
  json.title = 'dfdet experiment';
  // name defaults to the file name when loading
  json.required = (json.required ?? []).filter((k: string) => k !== 'name');
  return json;
}
