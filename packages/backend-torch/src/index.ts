import { pluginModule } from '@dfdet/core';
import { torchEngine } from './engine.js';

export { TorchBackend, Ctx, type TorchData, type Native, type OpArg } from './backend.js';
export { TORCH_KERNELS, BACKEND_NAME, registerTorchKernels } from './kernels.js';
export { torchEngine, createTorchEngine, registerTorchBackend, useTorchBackend } from './engine.js';
export {
  loadAddon,
  addonUnavailableReason,
  nativeTensorCount,
  setNumThreads,
  getNumThreads,
  defaultThreads,
  physicalCores,
  ADDON_PATH,
  type TorchAddon,
  type NativeArg,
  type NativeId,
} from './native.js';
export * from './fused.js';
// the fused ops themselves live in core (they run on every backend); re-exported for convenience
export { attention, attentionDecomposed, layerNorm, layerNormDecomposed, quickGelu, quickGeluDecomposed, FUSED_KERNELS } from '@dfdet/core';

/** The package's one ContainerModule: @dfdet/core's builtin loader picks the torch engine from it. */
export const plugins = pluginModule(torchEngine);
