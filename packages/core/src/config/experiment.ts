import { z } from 'zod';
import type { PluginRegistry } from '../plugin/registry.js';
import type { PluginKind } from '../plugin/spec.js';

/**
 * The schema of one instance of a plugin kind in YAML: `{ name: <plugin>, ...its options }`,
 * a discriminated union over the registered plugins so editors autocomplete options per name.
 */
export function pluginSlot(registry: PluginRegistry, kind: PluginKind): z.ZodType | undefined {
  const branches = registry.list(kind).map((spec) =>
    spec.options
      .extend({ name: z.literal(spec.name).describe(`${kind} plugin`) })
      .strict()
      .describe(spec.description),
  );
  if (branches.length === 0) return undefined;
  if (branches.length === 1) return branches[0];
  return z.discriminatedUnion('name', branches as unknown as [z.ZodObject, ...z.ZodObject[]]);
}

/**
 * A config section owned by core. Sections are built against the registry so plugin slots
 * list exactly the plugins that are loaded. Later capabilities (trainer, eval, sweeps) add theirs here.
 */
export interface ConfigSection {
  key: string;
  build(registry: PluginRegistry): z.ZodType | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const sections: ConfigSection[] = [];

export function registerSection(section: ConfigSection): void {
  const at = sections.findIndex((s) => s.key === section.key);
  if (at >= 0) sections[at] = section;
  else sections.push(section);
}

registerSection({ key: '$schema', build: () => z.string().optional().describe('path of the JSON Schema, for editors') });
registerSection({
  key: 'name',
  build: () =>
    z
      .string()
      .regex(NAME, 'letters, digits, ".", "_" and "-" only (it names the run folder)')
      .describe('experiment name: runs go to <output.dir>/<name>/<run>'),
});
registerSection({ key: 'description', build: () => z.string().optional() });
registerSection({ key: 'seed', build: () => z.number().int().min(0).default(42).describe('seeds data order, augmentation, initialization') });
registerSection({
  key: 'plugins',
  build: () =>
    z
      .array(z.string())
      .default([])
      .describe('extra plugin modules: npm package names or paths relative to the config file'),
});
registerSection({
  key: 'output',
  build: () =>
    z
      .object({
        dir: z.string().default('runs').describe('root folder of the run store'),
        run: z.string().regex(NAME).optional().describe('run folder name; default: a timestamp'),
      })
      .strict()
      .prefault({}),
});
registerSection({
  key: 'loggers',
  build: (registry) => {
    const slot = pluginSlot(registry, 'logger');
    return slot
      ? z.array(slot).prefault([{ name: 'console' }]).describe('JSONL metrics are always written; these add to it')
      : undefined;
  },
});

/** The whole experiment schema for the plugins loaded in `registry`. */
export function experimentSchema(registry: PluginRegistry): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const s of sections) {
    const schema = s.build(registry);
    if (schema) shape[s.key] = schema;
  }
  return z.object(shape).strict();
}

export type ResolvedConfig = {
  name: string;
  seed: number;
  plugins: string[];
  output: { dir: string; run?: string };
  loggers: { name: string; [k: string]: unknown }[];
  [section: string]: unknown;
};
