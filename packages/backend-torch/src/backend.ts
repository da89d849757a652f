import { tf } from '@dfdet/core';
import { loadAddon, type NativeArg, type NativeDtype, type NativeId, type TorchAddon } from './native.js';

type DataId = object;
type DataType = tf.DataType;
type TensorInfo = tf.TensorInfo;
type BackendValues = tf.backend_util.BackendValues;

/** One tfjs data bucket: a native tensor (or host strings) with tfjs's reference count. */
export interface TorchData {
  /** Native tensor id; 0 for string tensors, which stay on the host. */
  id: NativeId;
  dtype: DataType;
  shape: number[];
  refCount: number;
  strings?: Uint8Array[];
}

/** A native tensor made inside a kernel; `ctx.out` turns it into the kernel's output. */
export interface Native {
  readonly nid: NativeId;
}

/** What a kernel passes to an ATen op: tfjs tensors, kernel temporaries, or plain values. */
export type OpArg = TensorInfo | Native | number | number[] | boolean | boolean[] | string | null | undefined | (TensorInfo | Native | null)[];

const isNative = (v: unknown): v is Native => typeof v === 'object' && v !== null && 'nid' in v;
const isInfo = (v: unknown): v is TensorInfo => typeof v === 'object' && v !== null && 'dataId' in v;

/**
 * A tfjs KernelBackend whose tensors are libtorch at::Tensors held by the addon. Kernels (see
 * kernels.ts) are calls to ATen operators by name; data ids map to native ids, with tfjs's
 * reference counts; native tensors are freed when their count drops to zero, never by GC.
 */
export class TorchBackend extends tf.KernelBackend {
  readonly data: tf.DataStorage<TorchData>;
  readonly native: TorchAddon;
  readonly device: string;
  private disposed = false;

  constructor(device = 'cpu') {
    super();
    this.native = loadAddon();
    this.native.setDevice(device);
    this.device = device;
    this.data = new tf.DataStorage(this, tf.engine());
  }

  // ---- storage -----------------------------------------------------------------------------

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = {};
    this.data.set(dataId, this.makeData(values, shape, dtype, 1));
    return dataId;
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.data.set(dataId, this.makeData(values, shape, dtype, refCount));
  }

  private makeData(values: BackendValues | null | undefined, shape: number[], dtype: DataType, refCount: number): TorchData {
    if (dtype === 'string') {
      return { id: 0, dtype, shape: [...shape], refCount, strings: (values ?? []) as Uint8Array[] };
    }
    if (dtype === 'complex64') throw new Error('torch backend: complex64 tensors are not supported');
    const size = tf.util.sizeFromShape(shape);
    const typed = toTyped(values, dtype, size);
    return { id: this.native.create(typed, shape, dtype as NativeDtype), dtype, shape: [...shape], refCount };
  }

  makeTensorInfo(shape: number[], dtype: DataType, values?: BackendValues | string[]): TensorInfo {
    const vals = dtype === 'string' && values && values.length > 0 && typeof values[0] === 'string'
      ? (values as string[]).map((s) => tf.util.encodeString(s))
      : (values as BackendValues | undefined);
    return { dataId: this.write(vals as BackendValues, shape, dtype), shape, dtype };
  }

  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId)!.refCount : 0;
  }

  override incRef(dataId: DataId): void {
    this.data.get(dataId)!.refCount++;
  }

  decRef(dataId: DataId): void {
    if (this.data.has(dataId)) this.data.get(dataId)!.refCount--;
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const d = this.data.get(dataId)!;
    d.refCount--;
    if (!force && d.refCount > 0) return false;
    if (d.id) this.native.dispose(d.id);
    this.data.delete(dataId);
    return true;
  }

  disposeIntermediateTensorInfo(info: TensorInfo): void {
    this.disposeData(info.dataId);
  }

  override readSync(dataId: DataId): BackendValues {
    const d = this.data.get(dataId);
    if (!d) throw new Error('torch backend: read of a disposed tensor');
    if (d.dtype === 'string') return d.strings ?? [];
    return this.native.read(d.id);
  }

  override async read(dataId: DataId): Promise<BackendValues> {
    return this.readSync(dataId);
  }

  bufferSync<R extends tf.Rank, D extends DataType>(t: TensorInfo): tf.TensorBuffer<R, D> {
    const data = this.readSync(t.dataId);
    if (t.dtype === 'string') {
      return tf.buffer(t.shape, t.dtype, (data as Uint8Array[]).map((d) => tf.util.decodeString(d))) as unknown as tf.TensorBuffer<R, D>;
    }
    return tf.buffer(t.shape, t.dtype, data as tf.TypedArray) as unknown as tf.TensorBuffer<R, D>;
  }

  override async time(f: () => void): Promise<tf.BackendTimingInfo> {
    const start = tf.util.now();
    f();
    return { kernelMs: tf.util.now() - start };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override memory(): { unreliable: boolean; reasons?: string[]; numNativeTensors: number; numNativeBytes: number } {
    return { unreliable: false, numNativeTensors: this.native.count(), numNativeBytes: this.native.bytes() };
  }

  override floatPrecision(): 16 | 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
  }

  // ---- kernel support ----------------------------------------------------------------------

  /** The native id of a tfjs tensor as the kernel sees it (a view when its shape differs). */
  nativeOf(info: TensorInfo, temps: NativeId[]): NativeId {
    const d = this.data.get(info.dataId);
    if (!d) throw new Error('torch backend: a kernel input was disposed');
    if (d.dtype === 'string') throw new Error('torch backend: string tensors have no native data');
    if (sameShape(d.shape, info.shape)) return d.id;
    const [v] = this.native.runOp('aten::reshape', '', [d.id, info.shape]);
    temps.push(v!);
    return v!;
  }

  /** Registers a native tensor as a tfjs output (refCount 1). */
  adopt(id: NativeId, dtype?: DataType): TensorInfo {
    const shape = this.native.shape(id);
    const nd = this.native.dtype(id);
    if (nd !== 'float32' && nd !== 'int32' && nd !== 'bool') throw new Error(`torch backend: output of dtype ${nd}`);
    let outId = id;
    let outDtype: DataType = nd;
    if (dtype && dtype !== nd) {
      if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') throw new Error(`torch backend: cannot produce ${dtype}`);
      [outId] = this.native.runOp('aten::to', 'dtype', [id, dtype]) as [NativeId];
      this.native.dispose(id);
      outDtype = dtype;
    }
    const dataId = {};
    this.data.set(dataId, { id: outId, dtype: outDtype, shape, refCount: 1 });
    return { dataId, shape, dtype: outDtype };
  }
}

/** A kernel's scope: temporaries are freed when the kernel returns. */
export class Ctx {
  private readonly temps: NativeId[] = [];
  constructor(readonly backend: TorchBackend) {}

  private args(args: OpArg[]): NativeArg[] {
    const b = this.backend;
    return args.map((a): NativeArg => {
      if (isInfo(a)) return b.nativeOf(a, this.temps);
      if (isNative(a)) return a.nid;
      if (Array.isArray(a) && a.length > 0 && typeof a[0] === 'object') {
        return (a as (TensorInfo | Native | null)[]).map((e) => (e === null ? null : isInfo(e) ? b.nativeOf(e, this.temps) : e.nid));
      }
      return a as NativeArg;
    });
  }

  /** Runs `aten::name.overload` (e.g. 'aten::add.Tensor'; no dot for the default overload). */
  op(qualified: string, ...args: OpArg[]): Native {
    return this.ops(qualified, ...args)[0]!;
  }

  ops(qualified: string, ...args: OpArg[]): Native[] {
    const dot = qualified.indexOf('.');
    const name = dot < 0 ? qualified : qualified.slice(0, dot);
    const overload = dot < 0 ? '' : qualified.slice(dot + 1);
    const ids = this.backend.native.runOp(name, overload, this.args(args));
    for (const id of ids) if (id) this.temps.push(id);
    return ids.map((nid) => ({ nid }));
  }

  /** Runs an op whose int64/float64 outputs must stay wide (e.g. indices for aten::gather). */
  raw(qualified: string, ...args: OpArg[]): Native {
    const dot = qualified.indexOf('.');
    const [id] = this.backend.native.runOp(dot < 0 ? qualified : qualified.slice(0, dot), dot < 0 ? '' : qualified.slice(dot + 1), this.args(args), true);
    this.temps.push(id!);
    return { nid: id! };
  }

  /** Makes a kernel output (cast to `dtype` when given and different). */
  out(n: Native | TensorInfo, dtype?: DataType): TensorInfo {
    if (isInfo(n)) {
      // an input passed through unchanged: a new data bucket on the same native tensor
      return this.out(this.op('aten::alias', n), dtype ?? n.dtype);
    }
    const i = this.temps.lastIndexOf(n.nid);
    if (i >= 0) this.temps.splice(i, 1);
    return this.backend.adopt(n.nid, dtype);
  }

  shape(n: Native | TensorInfo): number[] {
    return isInfo(n) ? n.shape : this.backend.native.shape(n.nid);
  }

  dispose(): void {
    for (const id of this.temps) this.backend.native.dispose(id);
    this.temps.length = 0;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function toTyped(values: BackendValues | null | undefined, dtype: DataType, size: number): Float32Array | Int32Array | Uint8Array {
  if (values == null) {
    return dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
  }
  if (dtype === 'float32') return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  if (dtype === 'int32') return values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
  if (dtype === 'bool') return values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
  throw new Error(`torch backend: unsupported dtype ${dtype}`);
}
