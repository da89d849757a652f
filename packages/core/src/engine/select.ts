import { z } from 'zod';
import { registerSection } from '../config/experiment.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { UserError } from '../util/errors.js';
import type { EngineBackend, EngineChoice } from './engine.js';

/** Backends users may name even when their package is absent (they then report why). */
export const KNOWN_ENGINES = ['torch', 'tensorflow', 'wasm', 'cpu'] as const;

const NOT_REGISTERED: Record<string, string> = {
  torch: 'the @dfdet/backend-torch package is not built here (it needs libtorch: apt-get install libtorch-dev, then pnpm install)',
  tensorflow: 'no tensorflow engine registered',
};

export const engineSectionSchema = (registry: PluginRegistry) =>
  z
    .object({
      backend: z
        .enum(['auto', ...new Set([...KNOWN_ENGINES, ...registry.names('engine')])] as [string, ...string[]])
        .default('auto')
        .describe('auto picks the fastest available: torch, then tensorflow (tfjs-node), then wasm, then cpu'),
      device: z
        .string()
        .regex(/^(cpu|cuda:\d+)$/, 'cpu or cuda:N')
        .default('cpu')
        .describe('cpu or cuda:N (cuda needs the torch or tensorflow backend)'),
      threads: z.number().int().positive().optional().describe('intra-op threads (native backends); default: all cores'),
    })
    .strict()
    .prefault({});

registerSection({ key: 'engine', build: engineSectionSchema });

export interface EngineRequest {
  backend: string;
  device: string;
  threads?: number;
}

/** Picks and initializes the engine; `auto` takes the highest-priority backend that is available. */
export async function selectEngine(registry: PluginRegistry, req: EngineRequest): Promise<EngineChoice> {
  const make = async (name: string): Promise<EngineBackend | undefined> =>
    registry.has('engine', name)
      ? ((await registry.create('engine', { name }, { seed: 0, registry })) as EngineBackend)
      : undefined;

  if (req.backend !== 'auto') {
    const engine = await make(req.backend);
    if (!engine) throw new UserError(`engine.backend: ${req.backend} is unavailable: ${NOT_REGISTERED[req.backend] ?? `no engine "${req.backend}" is registered`}`);
    if (!engine.supportsDevice(req.device)) {
      throw new UserError(`engine.device: the ${req.backend} backend cannot run on ${req.device}; use cpu, or a backend with CUDA (torch, tensorflow)`);
    }
    const avail = await engine.available();
    if (!avail.ok) throw new UserError(`engine.backend: ${req.backend} is unavailable: ${avail.reason}`);
    await engine.init({ device: req.device, threads: req.threads });
    return { backend: engine.name, device: req.device, reason: `requested (${avail.detail ?? engine.name})`, candidates: [{ backend: engine.name, ok: true, detail: avail.detail ?? '' }] };
  }

  const candidates: EngineChoice['candidates'] = [];
  const engines: EngineBackend[] = [];
  for (const name of new Set([...KNOWN_ENGINES, ...registry.names('engine')])) {
    const e = await make(name);
    if (e) engines.push(e);
    else candidates.push({ backend: name, ok: false, detail: NOT_REGISTERED[name] ?? 'not registered' });
  }
  engines.sort((a, b) => b.priority - a.priority);
  for (const engine of engines) {
    if (!engine.supportsDevice(req.device)) {
      candidates.push({ backend: engine.name, ok: false, detail: `cannot run on ${req.device}` });
      continue;
    }
    const avail = await engine.available();
    if (!avail.ok) {
      candidates.push({ backend: engine.name, ok: false, detail: avail.reason });
      continue;
    }
    await engine.init({ device: req.device, threads: req.threads });
    candidates.push({ backend: engine.name, ok: true, detail: avail.detail ?? '' });
    const skipped = candidates.filter((c) => !c.ok).map((c) => `${c.backend}: ${c.detail}`);
    return {
      backend: engine.name,
      device: req.device,
      reason: `auto: fastest available${skipped.length ? ` (skipped ${skipped.join('; ')})` : ''}`,
      candidates,
    };
  }
  throw new UserError(
    `engine.backend auto: no backend can run on ${req.device}: ${candidates.map((c) => `${c.backend}: ${c.detail}`).join('; ')}`,
  );
}

/** One line for the console and meta.json. */
export function describeChoice(c: EngineChoice): string {
  return `engine: ${c.backend} on ${c.device} — ${c.reason}`;
}

/**
 * Every registered engine that can run on `device` here, by name (cpu and wasm always; torch and
 * tensorflow where installed). Parity tests run on each of them.
 */
export async function availableEngines(registry: PluginRegistry, device = 'cpu'): Promise<Record<string, EngineBackend>> {
  const out: Record<string, EngineBackend> = {};
  for (const name of registry.names('engine')) {
    const engine = (await registry.create('engine', { name }, { seed: 0, registry })) as EngineBackend;
    if (engine.supportsDevice(device) && (await engine.available()).ok) out[name] = engine;
  }
  return out;
}
