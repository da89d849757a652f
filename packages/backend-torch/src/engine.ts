import { definePlugin, tf, z, type EngineBackend, type EngineInitOptions } from '@dfdet/core';
import { TorchBackend } from './backend.js';
import { BACKEND_NAME, registerTorchKernels } from './kernels.js';
import './fused.js'; // adds the fused ops' kernels before registration
import { addonUnavailableReason, defaultThreads, loadAddon, setNumThreads } from './native.js';

let registeredDevice: string | undefined;

/**
 * Registers the `torch` tfjs backend (and its kernels) for `device`; does not activate it.
 * Re-registering for another device replaces the backend (its tensors are moved by tfjs first
 * when it is the active one, so switch to another backend before changing devices).
 */
export function registerTorchBackend(opts: { device?: string } = {}): void {
  const device = opts.device ?? 'cpu';
  registerTorchKernels();
  if (registeredDevice === device && tf.findBackendFactory(BACKEND_NAME)) return;
  if (tf.findBackendFactory(BACKEND_NAME)) tf.removeBackend(BACKEND_NAME);
  // validate the device now, with a clear error, rather than inside tfjs's backend initialization
  loadAddon().setDevice(device);
  tf.registerBackend(BACKEND_NAME, () => new TorchBackend(device), 0);
  registeredDevice = device;
}

/** Registers and activates the torch backend (what the engine's init does). */
export async function useTorchBackend(opts: EngineInitOptions = { device: 'cpu' }): Promise<void> {
  setNumThreads(opts.threads ?? defaultThreads());
  registerTorchBackend({ device: opts.device });
  const ok = await tf.setBackend(BACKEND_NAME);
  if (!ok) throw new Error('tfjs could not initialize the torch backend');
  await tf.ready();
}

export function createTorchEngine(): EngineBackend {
  return {
    name: BACKEND_NAME,
    priority: 100,
    supportsDevice: (device) => {
      if (device === 'cpu') return true;
      if (!/^cuda:\d+$/.test(device)) return false;
      // without the addon, say yes so that available() reports why it is missing
      if (addonUnavailableReason()) return true;
      return loadAddon().info().cuda;
    },
    available: async () => {
      const reason = addonUnavailableReason();
      if (reason) return { ok: false, reason };
      try {
        const info = loadAddon().info();
        return { ok: true, detail: `libtorch ${info.torchVersion} via N-API${info.cuda ? ' (CUDA)' : ' (CPU)'}, ATen kernels through the c10 dispatcher` };
      } catch (err) {
        return { ok: false, reason: `@dfdet/backend-torch: ${(err as Error).message}` };
      }
    },
    init: (opts) => useTorchBackend(opts),
  };
}

export const torchEngine = definePlugin({
  kind: 'engine',
  name: 'torch',
  description: 'libtorch (ATen) through an N-API addon: native CPU kernels, CUDA where torch has it (fastest; needs libtorch at install)',
  options: z.object({}),
  create: createTorchEngine,
});
