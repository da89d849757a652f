import { ContainerModule } from 'inversify';
import type { z } from 'zod';
import type { CommandModule } from 'yargs';
import { ServiceTokens, type ServiceTypes } from '../contracts/services.js';

/** Every pluggable kind. YAML slots, `exp list` sections and container tokens all derive from this list. */
export const PLUGIN_KINDS = [
  'backbone',
  'peft',
  'head',
  'loss',
  'dataset',
  'augmentation',
  'metric',
  'logger',
  'launcher',
  'engine',
] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/**
 * Tokens are `Symbol.for` so that a third-party plugin package bundling its own copy of
 * @dfdet/core still binds to the same tokens as the host process.
 */
export const PluginTokens: Record<PluginKind, symbol> = Object.fromEntries(
  PLUGIN_KINDS.map((k) => [k, Symbol.for(`dfdet.plugin.${k}`)]),
) as Record<PluginKind, symbol>;

/** Multi-binding of the `exp` subcommands that packages contribute. */
export const CLI_COMMAND = Symbol.for('dfdet.cli.command');

/** Unconstrained multi-binding of every spec, so the registry can list what is registered. */
export const PLUGIN_CATALOG = Symbol.for('dfdet.plugin.catalog');

/** What a plugin factory gets besides its own options. Kinds add their own fields. */
export interface BuildContext {
  /** The run's seed; plugins derive their own streams from it. */
  seed: number;
  /** Resolves other plugins (e.g. a dataset asking for an augmentation). */
  registry: { create(kind: PluginKind, config: PluginInstanceConfig, ctx: BuildContext): Promise<unknown> };
  [extra: string]: unknown;
}

/** `{ name: 'lora', rank: 4, ... }` as it appears in YAML. */
export interface PluginInstanceConfig {
  name: string;
  [option: string]: unknown;
}

export interface PluginSpec<S extends z.ZodObject = z.ZodObject, T = unknown> {
  kind: PluginKind;
  /** The YAML name, kebab-case (e.g. `ln-tuning`). */
  name: string;
  /** One line for `exp list`. */
  description: string;
  /** Options schema: validation, defaults, `exp list` and `exp schema` all come from it. */
  options: S;
  create(options: z.output<S>, ctx: BuildContext): T | Promise<T>;
}

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Identity with checks: keeps plugin definitions typed by their own schema. */
export function definePlugin<S extends z.ZodObject, T>(spec: PluginSpec<S, T>): PluginSpec<S, T> {
  if (!KEBAB.test(spec.name)) {
    throw new Error(`plugin name "${spec.name}" (${spec.kind}) must be kebab-case, e.g. "ln-tuning"`);
  }
  if ('name' in spec.options.shape) {
    throw new Error(`plugin "${spec.name}": option "name" is reserved for the plugin's YAML name`);
  }
  return spec;
}

/** The one ContainerModule a package exports: binds each spec by name under its kind's token. */
export function pluginModule(...specs: PluginSpec<any, any>[]): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const spec of specs) {
      bind(PluginTokens[spec.kind]).toConstantValue(spec).whenNamed(spec.name);
      bind(PLUGIN_CATALOG).toConstantValue(spec);
    }
  });
}

/**
 * The ContainerModule of a package that provides services to core as well as plugins.
 * A package still exports exactly one module.
 */
export function packageModule(parts: {
  plugins?: PluginSpec<any, any>[];
  services?: Partial<ServiceTypes>;
  /** `exp` subcommands (yargs CommandModules) this package adds. */
  commands?: CommandModule<any, any>[];
}): ContainerModule {
  const specs = pluginModule(...(parts.plugins ?? []));
  return new ContainerModule((options) => {
    void specs.load(options); // synchronous: pluginModule only binds constants
    for (const [key, impl] of Object.entries(parts.services ?? {})) {
      options.bind(ServiceTokens[key as keyof ServiceTypes]).toConstantValue(impl);
    }
    for (const command of parts.commands ?? []) options.bind(CLI_COMMAND).toConstantValue(command);
  });
}
