// Runtime: a device (or the CPU reference) that compiles graphs. In a page it uses navigator.gpu;
// seqgpu/node supplies Dawn's. Nothing here touches navigator at import time.
import { GpuError } from '../errors';
import { HostLife, type Executable } from '../graph/executable';
import { GpuExecutable, type CompileOptions } from '../graph/executor';
import type { Graph } from '../graph/graph';
import { CpuExecutable } from '../reference/interpreter';
import { GpuContext, checkEngineLimits, plainLimits, type EngineLimits } from './gpu';
import { KernelRegistry } from './kernels';

export type { EngineLimits } from './gpu';

export interface RuntimeOptions {
  /** A GPU object (navigator.gpu, or Dawn's create()) to take the adapter from. */
  gpu?: GPU;
  adapter?: GPUAdapter;
  /** A device to use as it is: its features and limits are what they are. */
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
  /**
   * The engine's own caps, below the device's limits (not requested from the device, which cannot
   * go below WebGPU's defaults). `maxStorageBufferBindingSize`: a tensor larger than this is held in
   * parts (embedding and gather tables by rows, matmul and linear weights by output columns, results
   * likewise); tests use a small cap to run those paths on any adapter. A positive multiple of 16.
   */
  limits?: EngineLimits;
}

export interface RuntimeInfo {
  backend: 'webgpu' | 'cpu';
  adapter: { vendor: string; architecture: string; description: string };
  features: string[];
}

/** Features that help a kernel when present; each is requested only if the adapter has it. */
const WANTED_FEATURES = ['subgroups', 'timestamp-query', 'shader-f16'] as const;

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
    readonly info: RuntimeInfo,
    private readonly ctx: GpuContext | null,
  ) {}

  /** A WebGPU runtime: from opts.device, opts.adapter, opts.gpu, or navigator.gpu, in that order. */
  static async create(opts: RuntimeOptions = {}): Promise<Runtime> {
    const caps = checkEngineLimits(opts.limits);
    let adapter = opts.adapter ?? null;
    let device = opts.device;
    if (!device) {
      if (!adapter) {
        const gpu = opts.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
        if (!gpu) {
          throw new GpuError(
            'Runtime.create: no WebGPU here (navigator.gpu is undefined). In a browser, serve the page from a secure ' +
              "context (https or http://127.0.0.1); in Node, import { Runtime } from 'seqgpu/node'.",
          );
        }
        adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
        if (!adapter) throw new GpuError('Runtime.create: requestAdapter() returned null: this browser or driver offers no WebGPU adapter');
      }
      const requiredFeatures = WANTED_FEATURES.filter((f) => adapter!.features.has(f)) as GPUFeatureName[];
      device = await adapter.requestDevice({ label: 'seqgpu', requiredFeatures, requiredLimits: plainLimits(adapter.limits) });
    }
    const ai = (adapter?.info ?? (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo ?? {}) as Partial<GPUAdapterInfo>;
    const info: RuntimeInfo = {
      backend: 'webgpu',
      adapter: { vendor: ai.vendor ?? '', architecture: ai.architecture ?? '', description: ai.description ?? '' },
      features: [...device.features].sort(),
    };
    const emulated = /swiftshader|llvmpipe|lavapipe|software/i.test(`${info.adapter.architecture} ${info.adapter.description}`);
    return new this(info, new GpuContext(device, emulated, caps));
  }

  /** The CPU reference: the same interface, float64 sums, no GPU. */
  static cpu(): Runtime {
    return new this({ backend: 'cpu', adapter: { vendor: 'seqgpu', architecture: 'cpu-reference', description: 'float64 CPU reference' }, features: [] }, null);
  }

  get device(): GPUDevice | null {
    return this.ctx?.device ?? null;
  }

  /** Checks shapes and limits, plans buffers, builds pipelines and bind groups: once per graph. */
  async compile(graph: Graph, opts: CompileOptions = {}): Promise<Executable> {
    if (!this.ctx) {
      this.host.check('compile');
      return new CpuExecutable(graph, this.host, opts.shareStateWith);
    }
    return GpuExecutable.compile(this.ctx, graph, opts, this.kernels);
  }

  /** Releases the device; every later call on this runtime or its executables throws DestroyedError. */
  destroy(): void {
    this.host.destroyed = true;
    if (!this.ctx || this.ctx.destroyed) return;
    this.ctx.destroyed = true;
    this.ctx.device.destroy();
  }
}

