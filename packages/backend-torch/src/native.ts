import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A native tensor id (the addon's handle table key); 0 stands for an absent optional output. */
export type NativeId = number;

/** What `runOp` accepts per schema argument; the schema decides how a value is read. */
export type NativeArg = NativeId | number | number[] | boolean | boolean[] | string | null | undefined | (NativeId | null)[];

export type NativeDtype = 'float32' | 'int32' | 'bool' | 'int64' | 'float64' | 'uint8';

/** The addon's surface (native/addon.cc). */
export interface TorchAddon {
  create(values: Float32Array | Int32Array | Uint8Array, shape: number[], dtype: NativeDtype): NativeId;
  read(id: NativeId): Float32Array | Int32Array | Uint8Array;
  dispose(id: NativeId): boolean;
  shape(id: NativeId): number[];
  dtype(id: NativeId): NativeDtype | 'other';
  /** Live native tensors. */
  count(): number;
  /** Bytes held by live native tensors (views counted in full). */
  bytes(): number;
  /**
   * Calls `name.overload` through the c10 dispatcher. Arguments are read by the schema's types
   * (Tensor: an id; int[]: number[]; Scalar: a number, integral values as int; ScalarType: a dtype
   * name; Device: 'cpu' | 'cuda:N'); undefined trailing arguments take the schema's defaults.
   * Returns the ids of the tensor outputs; int64/float64 outputs are narrowed to int32/float32
   * unless `raw`.
   */
  runOp(name: string, overload: string, inputs: NativeArg[], raw?: boolean): NativeId[];
  schema(name: string, overload: string): string;
  setNumThreads(intraOp: number, blas?: number): void;
  getNumThreads(): { intraOp: number; openblas: number };
  setDevice(device: string): void;
  info(): { torchVersion: string; cuda: boolean; device: string; parallel: string; openblas: boolean; cxx11abi: number };
}

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ADDON_PATH = join(PACKAGE_DIR, 'build', 'Release', 'dfdet_torch.node');
const UNAVAILABLE_PATH = join(PACKAGE_DIR, 'build', 'unavailable.txt');

let loaded: { addon: TorchAddon } | { reason: string } | undefined;

/** Why the addon cannot be used here (from the build's unavailable.txt), or undefined when it can. */
export function addonUnavailableReason(): string | undefined {
  const r = tryLoadAddon();
  return 'reason' in r ? r.reason : undefined;
}

function tryLoadAddon(): { addon: TorchAddon } | { reason: string } {
  if (loaded) return loaded;
  if (!existsSync(ADDON_PATH)) {
    const why = existsSync(UNAVAILABLE_PATH)
      ? readFileSync(UNAVAILABLE_PATH, 'utf8').trim()
      : 'the addon was never built (run pnpm install, or pnpm --filter @dfdet/backend-torch build)';
    return (loaded = { reason: `@dfdet/backend-torch: ${why}` });
  }
  // libgomp reads these when it loads (with the addon): threads that finished a parallel region
  // sleep instead of spinning, so they do not steal the cores from the Node thread and OpenBLAS.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as TorchAddon;
    return (loaded = { addon });
  } catch (err) {
    return (loaded = { reason: `@dfdet/backend-torch: ${ADDON_PATH} does not load: ${(err as Error).message.split('\n')[0]}` });
  }
}

/** The addon; throws with the build's reason when it is unavailable. */
export function loadAddon(): TorchAddon {
  const r = tryLoadAddon();
  if ('reason' in r) throw new Error(r.reason);
  return r.addon;
}

/** Intra-op (ATen/OpenMP) threads by default: every core the OS reports. */
export function defaultThreads(): number {
  return Math.max(1, cpus().length);
}

/**
 * Physical cores (distinct core ids in /sys topology), the logical count where unknown. OpenBLAS
 * gets this many threads by default: a gemm already runs one core at its peak, so a second
 * hyperthread adds nothing, and OpenBLAS's spinning threads collapse (2-4× slower) when a
 * sibling is busy or the machine is shared.
 */
export function physicalCores(): number {
  const logical = cpus().length;
  try {
    const ids = new Set<string>();
    for (let i = 0; i < logical; i++) {
      const dir = `/sys/devices/system/cpu/cpu${i}/topology`;
      ids.add(`${readFileSync(`${dir}/physical_package_id`, 'utf8').trim()}:${readFileSync(`${dir}/core_id`, 'utf8').trim()}`);
    }
    return Math.max(1, Math.min(ids.size, logical));
  } catch {
    return Math.max(1, logical);
  }
}

/** Live native tensors (for leak checks). */
export function nativeTensorCount(): number {
  return loadAddon().count();
}

/**
 * Intra-op threads for ATen (OpenMP) and OpenBLAS. ATen calls gemm outside its parallel regions,
 * so the pools take turns rather than oversubscribe; `blas` defaults to min(intraOp, physical
 * cores) (see physicalCores; DFDET_TORCH_BLAS_THREADS overrides).
 */
export function setNumThreads(intraOp: number, blas = Number(process.env.DFDET_TORCH_BLAS_THREADS) || Math.min(intraOp, physicalCores())): void {
  if (!Number.isInteger(intraOp) || intraOp < 1) throw new Error(`threads must be a positive integer, got ${intraOp}`);
  loadAddon().setNumThreads(intraOp, blas);
}

export function getNumThreads(): { intraOp: number; openblas: number } {
  return loadAddon().getNumThreads();
}
