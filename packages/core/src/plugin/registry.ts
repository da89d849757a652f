import { Container, type ContainerModule } from 'inversify';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { didYouMean } from '../util/suggest.js';
import {
  PLUGIN_CATALOG,
  PLUGIN_KINDS,
  PluginTokens,
  type BuildContext,
  type PluginInstanceConfig,
  type PluginKind,
  type PluginSpec,
} from './spec.js';
import { formatZodIssues } from '../config/issues.js';
import { importPluginModule, resolvePluginSpecifier } from './load.js';
import { ServiceTokens, type ServiceTypes } from '../contracts/services.js';

/** Resolves plugins by kind and YAML name from an inversify container. */
export class PluginRegistry {
  readonly container: Container;

  constructor(modules: ContainerModule[] = []) {
    this.container = new Container();
    this.load(...modules);
  }

  private readonly specifiers = new Set<string>();

  /** Imports plugin modules by specifier (npm name or path), each once per registry. */
  async loadPlugins(specs: string[], cwd?: string): Promise<void> {
    for (const spec of specs) {
      const key = resolvePluginSpecifier(spec, cwd);
      if (this.specifiers.has(key)) continue;
      this.load(await importPluginModule(spec, cwd));
      this.specifiers.add(key);
    }
  }

  load(...modules: ContainerModule[]): void {
    this.container.load(...modules);
    this.checkDuplicates();
  }

  /** A service bound by some loaded package (see contracts/services.ts). */
  service<K extends keyof ServiceTypes>(key: K): ServiceTypes[K] {
    if (!this.container.isBound(ServiceTokens[key])) {
      throw new Error(`no package provides the "${key}" service (is @dfdet/models loaded?)`);
    }
    return this.container.get<ServiceTypes[K]>(ServiceTokens[key]);
  }

  all(): PluginSpec[] {
    return this.container.getAll<PluginSpec>(PLUGIN_CATALOG);
  }

  list(kind: PluginKind): PluginSpec[] {
    return this.all()
      .filter((s) => s.kind === kind)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  names(kind: PluginKind): string[] {
    return this.list(kind).map((s) => s.name);
  }

  has(kind: PluginKind, name: string): boolean {
    return this.container.isBound(PluginTokens[kind], { name });
  }

  spec(kind: PluginKind, name: string): PluginSpec {
    if (!this.has(kind, name)) throw unknownPlugin(kind, name, this.names(kind));
    return this.container.get<PluginSpec>(PluginTokens[kind], { name });
  }

  /** Validates the instance's options against the plugin's schema and builds it. */
  async create<T = unknown>(kind: PluginKind, config: PluginInstanceConfig | string, ctx: BuildContext): Promise<T> {
    const instance = typeof config === 'string' ? { name: config } : config;
    const spec = this.spec(kind, instance.name);
    const options = parseOptions(spec, instance);
    return (await spec.create(options, ctx)) as T;
  }

  private checkDuplicates(): void {
    const seen = new Map<string, PluginSpec>();
    for (const spec of this.all()) {
      const key = `${spec.kind}:${spec.name}`;
      const prior = seen.get(key);
      if (prior && prior !== spec) {
        throw new Error(`two ${spec.kind} plugins are registered as "${spec.name}"; plugin names must be unique per kind`);
      }
      seen.set(key, spec);
    }
  }
}

export function parseOptions(spec: PluginSpec, instance: PluginInstanceConfig): Record<string, unknown> {
  const { name: _name, ...rest } = instance;
  const parsed = spec.options.strict().safeParse(rest);
  if (!parsed.success) {
    throw new UserError(`${spec.kind} "${spec.name}": ${formatZodIssues(parsed.error.issues, spec.options)}`);
  }
  return parsed.data as Record<string, unknown>;
}

export function unknownPlugin(kind: PluginKind, name: string, registered: string[]): UserError {
  const hint = didYouMean(name, registered);
  return new UserError(
    `unknown ${kind} plugin "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; registered ${kind} plugins: ${
      registered.length ? registered.join(', ') : '(none)'
    }`,
  );
}

export { PLUGIN_KINDS, z };
