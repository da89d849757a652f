/** Where tensors live and kernels run: a tfjs backend, chosen by `engine.backend`. */
export interface EngineBackend {
  /** The tfjs backend name it registers (`cpu`, `wasm`, `tensorflow`, `torch`). */
  readonly name: string;
  /** Higher is preferred by `engine.backend: auto`. */
  readonly priority: number;
  /** Whether it can run here; the reason is shown when it cannot. Must not throw. */
  available(): Promise<{ ok: true; detail?: string } | { ok: false; reason: string }>;
  /** Makes it the active tfjs backend. */
  init(opts: EngineInitOptions): Promise<void>;
  /** Devices it can place tensors on (`cpu`, `cuda:0`, …). */
  supportsDevice(device: string): boolean;
}

export interface EngineInitOptions {
  device: string;
  threads?: number;
}

export interface EngineChoice {
  backend: string;
  device: string;
  /** Why this backend: requested, or the first available by priority. */
  reason: string;
  /** Every candidate considered by `auto`, with why it was or was not usable. */
  candidates: { backend: string; ok: boolean; detail: string }[];
}
