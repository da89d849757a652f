import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ContainerModule } from 'inversify';
import { UserError } from '../util/errors.js';
import { plugins as corePlugins } from '../plugins.js';

/** The workspace's own plugin packages, loaded by name exactly like third-party ones. */
export const BUILTIN_PLUGIN_PACKAGES = ['@dfdet/models', '@dfdet/peft', '@dfdet/losses', '@dfdet/datasets', '@dfdet/backend-torch'];
/** Built-ins that may be absent (an optional native backend) without it being an error. */
const OPTIONAL_BUILTINS = new Set(['@dfdet/backend-torch']);

export function workspaceRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

/** Where a plugin specifier (npm name or path) points, searched from the cwd, then the workspace root. */
export function resolvePluginSpecifier(spec: string, cwd = process.cwd()): string {
  if (/^\.\.?[\\/]/.test(spec) || isAbsolute(spec)) {
    const file = resolve(cwd, spec);
    if (!existsSync(file)) throw new UserError(`plugin module not found: ${file}`);
    return file;
  }
  for (const base of [cwd, workspaceRoot()]) {
    try {
      return createRequire(join(base, 'package.json')).resolve(spec);
    } catch {
      // try the next base
    }
  }
  throw new UserError(`plugin package "${spec}" is not installed (looked from ${cwd} and the workspace root); add it with pnpm add ${spec}`);
}

function asContainerModule(value: unknown): value is ContainerModule {
  return typeof value === 'object' && value !== null && typeof (value as ContainerModule).load === 'function' && 'id' in value;
}

/**
 * Imports a plugin module. It must export an inversify ContainerModule as `default` or as `plugins`
 * (what `pluginModule(...)` returns).
 */
export async function importPluginModule(spec: string, cwd = process.cwd()): Promise<ContainerModule> {
  const file = resolvePluginSpecifier(spec, cwd);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`plugin "${spec}" failed to load: ${(err as Error).message}`, { cause: err });
  }
  const found = [mod.plugins, mod.default].find(asContainerModule);
  if (!found) {
    throw new UserError(`plugin "${spec}" (${file}) exports no ContainerModule; export one as "plugins" or default, made with pluginModule(...)`);
  }
  return found;
}

export async function loadBuiltinModules(): Promise<ContainerModule[]> {
  const out: ContainerModule[] = [corePlugins];
  for (const name of BUILTIN_PLUGIN_PACKAGES) {
    try {
      out.push(await importPluginModule(name, workspaceRoot()));
    } catch (err) {
      if (OPTIONAL_BUILTINS.has(name)) continue;
      throw err;
    }
  }
  return out;
}
