// Runtime: a device (or the CPU reference) that compiles graphs. In a page it uses navigator.gpu;
// seqgpu/node supplies Dawn's. Nothing here touches navigator at import time.
import { GpuError } from '../errors';
import { HostLife, type Executable } from '../graph/executable';
import { GpuExecutable, type CompileOptions } from '../graph/executor';
import type { Graph } from '../graph/graph';
import { CpuExecutable } from '../reference/interpreter';
import { checkTimestamps } from '../graph/timer';
import { GpuContext, checkEngineLimits, plainLimits, type DeviceLossEvent, type EngineLimits } from './gpu';
import { KernelRegistry } from './kernels';
import { Tuner, type TuneMode, type TuneStats } from './tune';
import { localStorageTuneStore, memoryTuneStore, type TuneStore } from './tune-table';

export type { DeviceLossEvent, EngineLimits } from './gpu';

/**
 * How {@link Runtime.create} gets its device. With none of `device`, `adapter` and `gpu`, it asks
 * `navigator.gpu` (in a page) for an adapter.
 */
export interface RuntimeOptions {
  /** A GPU object (navigator.gpu, or Dawn's create()) to take the adapter from. */
  gpu?: GPU;
  /**
   * An adapter to request the device from. The device is requested with the adapter's own limits
   * and with whichever of the features `subgroups`, `timestamp-query` and `shader-f16` it has.
   */
  adapter?: GPUAdapter;
  /** A device to use as it is: its features and limits are what they are. */
  device?: GPUDevice;
  /** Passed to requestAdapter() when the runtime asks `gpu` for an adapter itself; default 'high-performance'. */
  powerPreference?: GPUPowerPreference;
  /**
   * The engine's own caps, below the device's limits (not requested from the device, which cannot
   * go below WebGPU's defaults). `maxStorageBufferBindingSize`: a tensor larger than this is held in
   * parts (embedding and gather tables by rows, matmul and linear weights by output columns, results
   * likewise); tests use a small cap to run those paths on any adapter. A positive multiple of 16.
   */
  limits?: EngineLimits;
  /**
   * Tune every compile of this runtime, as compile's `{ tune: true }` does (see the README's Tuning
   * section); compile's own `tune` wins. Default false: compiles reuse a stored table without timing.
   */
  tune?: boolean;
  /**
   * Where the tuning table lives. Default: in a page, localStorage under 'seqgpu:tune'; elsewhere,
   * memory (seqgpu/node's `tuneTable` names a JSON file instead).
   */
  tuneStore?: TuneStore;
  /** Where warnings go (a tuning table ignored, a tuning candidate dropped); default console.warn. */
  onWarning?: (message: string) => void;
  /**
   * Recover from a lost device (default true): get a new adapter and device from the GPU object,
   * rebuild pipelines, re-upload weights from the host copies the executables keep, and rebuild
   * each executable's buffers at its next call; g.state tensors come back zeroed (exe.stateLost).
   * A call in flight at the loss rejects with a DeviceLostError whose `recovering` is true. A
   * runtime made from `device` or `adapter` cannot recover (an adapter gives one device only) and
   * behaves as `recover: false`: every call after a loss throws DeviceLostError.
   */
  recover?: boolean;
  /** Told of each device loss (not rt.destroy()): its reason, whether a new device is in use, and how long getting it took. */
  onDeviceLost?: (event: DeviceLossEvent) => void;
}

/** What a runtime runs on ({@link Runtime.info}). */
export interface RuntimeInfo {
  /** 'webgpu' for a GPU runtime, 'cpu' for {@link Runtime.cpu}, the float64 reference. */
  backend: 'webgpu' | 'cpu';
  /**
   * The adapter's GPUAdapterInfo (empty strings where the implementation gives none); for the CPU
   * reference: vendor 'seqgpu', architecture 'cpu-reference'.
   */
  adapter: {
    /** The adapter's vendor, e.g. 'nvidia', 'google'. */
    vendor: string;
    /** The adapter's architecture, e.g. 'swiftshader'. */
    architecture: string;
    /** A description of the adapter, where the implementation gives one. */
    description: string;
  };
  /** The features the device was created with, sorted (empty on the CPU reference). */
  features: string[];
}

/** Features that help a kernel when present; each is requested only if the adapter has it. */
const WANTED_FEATURES = ['subgroups', 'timestamp-query', 'shader-f16'] as const;

/**
 * A WebGPU device (or the CPU reference) that compiles graphs into executables. Make one with
 * {@link Runtime.create} (or {@link Runtime.cpu}); one runtime compiles any number of graphs,
 * which share its pipeline cache and the weights they have in common.
 */
export class Runtime {
  /** The CPU reference's own lifetime (a GPU runtime's is its context's). */
  private readonly host = new HostLife();
  /**
   * User kernels: `rt.kernels.register({ op, name: 'user:...', wgsl, plan })` adds a variant of an
   * engine op (forced with compile's `variants`) or, with operands, shape and reference, a new op
   * for g.custom. On Runtime.cpu() it defines new ops (their references); kernels are not run there.
   */
  readonly kernels = new KernelRegistry();

  protected constructor(
    /** The backend, the adapter's vendor, architecture and description, and the device's features. */
    readonly info: RuntimeInfo,
    private readonly ctx: GpuContext | null,
    private readonly options: RuntimeOptions = {},
  ) {}

  private tuner_?: Tuner;

  private tuner(ctx: GpuContext): Tuner {
    const o = this.options;
    const inPage = typeof window !== 'undefined' && typeof localStorage !== 'undefined';
    return (this.tuner_ ??= new Tuner({
      adapter: this.info.adapter,
      limits: ctx.limits,
      store: o.tuneStore ?? (inPage ? localStorageTuneStore() : memoryTuneStore()),
      warn: o.onWarning ?? ((m) => console.warn(m)),
      compile: (g, overrides) => GpuExecutable.compile(ctx, g, { ...overrides, timestamps: true }, this.kernels),
      reference: (g) => Runtime.cpu().compile(g),
    }));
  }

  /** What tuning has done on this runtime: candidates timed, signatures measured, candidates dropped for parity. */
  get tuneStats(): TuneStats {
    return { ...(this.tuner_?.stats ?? { candidatesTimed: 0, signaturesTimed: 0, parityFailures: 0 }) };
  }

  /** A WebGPU runtime: from opts.device, opts.adapter, opts.gpu, or navigator.gpu, in that order. */
  static async create(opts: RuntimeOptions = {}): Promise<Runtime> {
    const caps = checkEngineLimits(opts.limits);
    let adapter = opts.adapter ?? null;
    let device = opts.device;
    let gpu: GPU | undefined;
    if (!device) {
      if (!adapter) {
        gpu = opts.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
        if (!gpu) {
          throw new GpuError(
            'Runtime.create: no WebGPU here (navigator.gpu is undefined). In a browser, serve the page from a secure ' +
              "context (https or http://127.0.0.1); in Node, import { Runtime } from 'seqgpu/node'.",
          );
        }
        adapter = await requestAdapter(gpu, opts, 'Runtime.create');
      }
      device = await requestDevice(adapter);
    }
    const ai = (adapter?.info ?? (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo ?? {}) as Partial<GPUAdapterInfo>;
    const info: RuntimeInfo = {
      backend: 'webgpu',
      adapter: { vendor: ai.vendor ?? '', architecture: ai.architecture ?? '', description: ai.description ?? '' },
      features: [...device.features].sort(),
    };
    const name = `${info.adapter.architecture} ${info.adapter.description}`;
    const emulated = /swiftshader/i.test(name) ? 'swiftshader' : /llvmpipe|lavapipe|software/i.test(name);
    // A new device needs a new adapter (an adapter gives one device), so only a runtime that asked
    // the GPU object itself can recover.
    const g = gpu;
    const newDevice = g && opts.recover !== false
      ? async () => requestDevice(await requestAdapter(g, opts, 'device-loss recovery'))
      : null;
    return new this(info, new GpuContext(device, emulated, caps, { newDevice, onLost: opts.onDeviceLost }), opts);
  }

  /** The CPU reference: the same interface, float64 sums, no GPU. */
  static cpu(): Runtime {
    return new this({ backend: 'cpu', adapter: { vendor: 'seqgpu', architecture: 'cpu-reference', description: 'float64 CPU reference' }, features: [] }, null);
  }

  /** The GPUDevice this runtime runs on; null for the CPU reference. */
  get device(): GPUDevice | null {
    return this.ctx?.device ?? null;
  }

  /** Device losses this runtime has seen (recovered or not; rt.destroy() is not one); 0 on the CPU reference. */
  get deviceLosses(): number {
    return this.ctx?.losses ?? 0;
  }

  /** Checks shapes and limits, plans buffers, builds pipelines and bind groups: once per graph. */
  async compile(graph: Graph, opts: CompileOptions = {}): Promise<Executable> {
    checkTimestamps(opts.timestamps, 0);
    if (!this.ctx) {
      this.host.check('compile');
      return new CpuExecutable(graph, this.host, opts.shareStateWith);
    }
    const tune = opts.tune ?? this.options.tune;
    const mode: TuneMode = opts.tune === false ? 'off' : tune ? 'measure' : 'reuse';
    const choose = await this.tuner(this.ctx).chooser(graph, opts, mode);
    return GpuExecutable.compile(this.ctx, graph, opts, this.kernels, choose);
  }

  /** Releases the device; every later call on this runtime or its executables throws DestroyedError. */
  destroy(): void {
    this.host.destroyed = true;
    if (!this.ctx || this.ctx.destroyed) return;
    this.ctx.destroyed = true;
    this.ctx.device.destroy();
  }
}


async function requestAdapter(gpu: GPU, opts: RuntimeOptions, what: string): Promise<GPUAdapter> {
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new GpuError(`${what}: requestAdapter() returned null: this browser or driver offers no WebGPU adapter`);
  return adapter;
}

/** A device with the adapter's own limits and whichever wanted features it has. */
function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  return adapter.requestDevice({ label: 'seqgpu', requiredFeatures, requiredLimits: plainLimits(adapter.limits) });
}
