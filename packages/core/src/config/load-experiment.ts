import { basename, extname } from 'node:path';
import type { ContainerModule } from 'inversify';
import { UserError } from '../util/errors.js';
import { loadBuiltinModules } from '../plugin/load.js';
import { PluginRegistry } from '../plugin/registry.js';
import { composeConfig, type ComposeOptions, type ComposedConfig } from './compose.js';
import { experimentSchema, type ResolvedConfig } from './experiment.js';
import { describeIssues } from './issues.js';

export class ConfigError extends UserError {
  constructor(readonly problems: string[]) {
    super(`invalid config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedExperiment {
  config: ResolvedConfig;
  registry: PluginRegistry;
  composed: ComposedConfig;
}

export interface LoadOptions extends ComposeOptions {
  /** Modules to load instead of the workspace's built-in plugin packages (tests). */
  builtins?: ContainerModule[];
}

/** Builds a registry of the built-in plugins plus the `plugins:` a config lists. */
export async function buildRegistry(pluginSpecs: string[], opts: { builtins?: ContainerModule[]; cwd?: string } = {}) {
  const registry = new PluginRegistry(opts.builtins ?? (await loadBuiltinModules()));
  await registry.loadPlugins(pluginSpecs, opts.cwd);
  return registry;
}

/** compose → load plugins → validate against the plugins' schemas → the resolved config a run records. */
export async function loadExperiment(files: string[], opts: LoadOptions = {}): Promise<LoadedExperiment> {
  const composed = composeConfig(files, opts);
  const data = composed.data;
  if (data.name === undefined) data.name = basename(files[files.length - 1]!, extname(files[files.length - 1]!));
  const plugins = data.plugins ?? [];
  if (!Array.isArray(plugins) || !plugins.every((p) => typeof p === 'string')) {
    throw new ConfigError([`${composed.sources.get('plugins') ?? 'config'}: plugins: expected a list of module names or paths`]);
  }
  const registry = await buildRegistry(plugins, { builtins: opts.builtins, cwd: opts.cwd });
  const config = validateConfig(registry, composed);
  return { config, registry, composed };
}

export function validateConfig(registry: PluginRegistry, composed: Pick<ComposedConfig, 'data' | 'sources'>): ResolvedConfig {
  const schema = experimentSchema(registry);
  const parsed = schema.safeParse(composed.data, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(describeIssues(parsed.error.issues, schema, { data: composed.data, sources: composed.sources }));
  }
  return parsed.data as ResolvedConfig;
}
