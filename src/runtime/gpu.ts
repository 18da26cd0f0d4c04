// One device and what hangs off it: the content-keyed pipeline cache (sharing in-flight compiles),
// error scopes that turn GPU errors into typed ones, device-loss handling (a new device, and a
// generation number that tells executables to rebuild, or a latch when there is no recovery), and
// the engine's own caps on the device's limits (Runtime.create's `limits`).
import { DeviceLostError, GpuError, LimitError, runtimeDestroyed } from '../errors';
import { sourceLine, type Constants, type DeviceLimits, type Shader } from '../kernels/kernel';
import { shaderKey } from './hash';
import { entryLayout } from './reflect';
import { trackBuffers } from './buffer-count';

/**
 * Limits the engine keeps below the device's: what plans and splits see, not what the device was
 * asked for (requestDevice cannot lower a limit below WebGPU's defaults).
 */
export interface EngineLimits {
  /** Bytes one storage binding may hold; a tensor past it is held in parts. A multiple of 16. */
  maxStorageBufferBindingSize?: number;
}

/** Checks Runtime.create's `limits` option: known names, each a positive multiple of 16 bytes. */
export function checkEngineLimits(caps: unknown): EngineLimits {
  if (caps === undefined) return {};
  if (caps === null || typeof caps !== 'object') throw new LimitError(`Runtime.create: limits must be an object, got ${String(caps)}`);
  for (const [k, v] of Object.entries(caps)) {
    if (k !== 'maxStorageBufferBindingSize') throw new LimitError(`Runtime.create: limits.${k} is not a limit the engine caps; it caps maxStorageBufferBindingSize`);
    if (!Number.isSafeInteger(v) || (v as number) < 16 || (v as number) % 16 !== 0) {
      throw new LimitError(`Runtime.create: limits.maxStorageBufferBindingSize must be a positive multiple of 16 bytes, got ${String(v)}`);
    }
  }
  return caps as EngineLimits;
}

/** What {@link RuntimeOptions.onDeviceLost} is told about one device loss. */
export interface DeviceLossEvent {
  /** The loss as the device reported it: `reason: message` (e.g. `destroyed: ...`, `unknown: ...`). */
  reason: string;
  /** A new device is in use (false: recovery is off, or getting a new device failed: see `error`). */
  recovered: boolean;
  /** Milliseconds from the loss being reported to the new device being ready (0 without recovery). */
  recoveryMs: number;
  /** Why recovery failed, when it did. */
  error?: string;
}

/** How a context gets a new device after a loss, and whom it tells. */
export interface Recovery {
  /** A new device with the first one's features and limits; null: no recovery (the runtime was given a device or adapter, or recover: false). */
  newDevice: (() => Promise<GPUDevice>) | null;
  /** Called once per loss, after recovery succeeded or failed. */
  onLost?: (e: DeviceLossEvent) => void;
}

export interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class GpuContext {
  // Everything below holds objects of one device: a recovery starts each afresh.
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, Promise<Pipeline>>();
  /** Buffers shared between executables (weights, states), destroyed with their last user. */
  private refs = new Map<GPUBuffer, { count: number; forget?: () => void }>();
  /** Weight buffers by the memory they were uploaded from: a weight used by many graphs is uploaded once. */
  private constants = new WeakMap<ArrayBufferLike, Map<string, GPUBuffer>>();
  private device_!: GPUDevice;
  /** Devices lost, and why: a call that failed on one of them failed because of the loss. */
  private readonly lostDevices = new WeakMap<GPUDevice, string>();
  /** A state buffer of an older generation -> the buffer that replaces it (zeroed) in a newer one. */
  private readonly successors = new WeakMap<GPUBuffer, GPUBuffer>();
  /** The generation each state buffer was made in. */
  private readonly bornIn = new WeakMap<GPUBuffer, number>();
  private recovering_: Promise<void> | null = null;
  /** Why the context is down for good: a loss without recovery, or a recovery that failed. */
  lostReason: string | null = null;
  destroyed = false;
  /** Bumped by each recovery: an executable built in an older generation rebuilds before its next call. */
  generation = 0;
  /** Device losses seen (rt.destroy() is not one). */
  losses = 0;

  /**
   * @param emulated the adapter is a CPU emulation (SwiftShader, llvmpipe/lavapipe): there a
   * workgroup barrier costs far more than on a GPU, which changes which variant is fastest.
   * 'swiftshader' also says that every buffer load is gathered lane by lane (`limits.laneGathers`).
   * @param caps the engine's own limits (Runtime.create's `limits`): lower than the device's, never higher.
   */
  constructor(
    device: GPUDevice,
    emulated: boolean | 'swiftshader' = false,
    caps: EngineLimits = {},
    private readonly recovery: Recovery = { newDevice: null },
  ) {
    const limits = plainLimits(device.limits);
    for (const [k, v] of Object.entries(caps)) if (v !== undefined) limits[k] = Math.min(limits[k] ?? v, v);
    this.emulated = emulated !== false;
    this.limits = {
      ...limits, emulated: this.emulated, laneGathers: emulated === 'swiftshader', shaderF16: device.features.has('shader-f16'),
    } as unknown as GpuContext['limits'];
    this.adopt_(device);
  }

  /** The device in use: after a recovery, the new one. */
  get device(): GPUDevice {
    return this.device_;
  }

  /** True while a new device is being requested after a loss. */
  get recovering(): boolean {
    return this.recovering_ !== null;
  }

  /** Resolves once no recovery is under way (at once when none is). */
  ready(): Promise<void> {
    return this.recovering_ ?? Promise.resolve();
  }

  /** Whether a GPU buffer was made on the device now in use (state buffers only). */
  isCurrentState(b: GPUBuffer): boolean {
    return this.bornIn.get(b) === this.generation;
  }

  /** Records a new state buffer as made in this generation. */
  noteState(b: GPUBuffer): GPUBuffer {
    this.bornIn.set(b, this.generation);
    return b;
  }

  /**
   * The current generation's buffer standing for state buffer `old` of a lost device: the one a
   * sharing executable already made, or a new one from `make` (zeroed: the contents are gone).
   * `fresh` says which.
   */
  renewState(old: GPUBuffer, make: () => GPUBuffer): { buffer: GPUBuffer; fresh: boolean } {
    let b = old;
    for (let n = this.successors.get(b); n; n = this.successors.get(b)) b = n;
    if (this.isCurrentState(b)) return { buffer: b, fresh: false };
    const buffer = this.noteState(make());
    this.successors.set(b, buffer);
    return { buffer, fresh: true };
  }

  private adopt_(device: GPUDevice): void {
    trackBuffers(device);
    this.device_ = device;
    device.lost.then((info) => this.onLost_(device, `${info.reason ?? 'unknown'}: ${info.message}`));
  }

  private onLost_(device: GPUDevice, reason: string): void {
    if (this.destroyed || device !== this.device_) return;
    this.lostDevices.set(device, reason);
    this.losses++;
    const { newDevice, onLost } = this.recovery;
    if (!newDevice) {
      this.lostReason = reason;
      onLost?.({ reason, recovered: false, recoveryMs: 0 });
      return;
    }
    this.recovering_ = this.recover_(newDevice, reason, onLost);
  }

  /** A new device; pipelines, constants and shared buffers start afresh, executables rebuild when next used. */
  private async recover_(newDevice: () => Promise<GPUDevice>, reason: string, onLost?: (e: DeviceLossEvent) => void): Promise<void> {
    const t0 = performance.now();
    let event: DeviceLossEvent;
    try {
      const device = await newDevice();
      if (this.destroyed) {
        device.destroy();
        return;
      }
      this.modules = new Map();
      this.pipelines = new Map();
      this.refs = new Map();
      this.constants = new WeakMap();
      this.generation++;
      this.adopt_(device);
      event = { reason, recovered: true, recoveryMs: performance.now() - t0 };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.lostReason = `${reason}; getting a new device failed: ${msg}`;
      event = { reason, recovered: false, recoveryMs: performance.now() - t0, error: msg };
    } finally {
      this.recovering_ = null;
    }
    try {
      onLost?.(event);
    } catch {
      // A throwing listener must not stop the runtime from working on.
    }
  }

  /** The adapter is a CPU emulation (SwiftShader, llvmpipe/lavapipe). */
  readonly emulated: boolean;
  /** The device's limits as a plain object (native getters do not survive spreading), plus `emulated` and `laneGathers`. */
  readonly limits: DeviceLimits & GPUSupportedLimits & { emulated: boolean; laneGathers: boolean; shaderF16: boolean };

  /**
   * After `error` failed a GPU call: when it reads as a lost device, waits (up to a second) for the
   * device's lost promise, so that check() then reports the loss rather than the failed call.
   */
  async settleLoss(error: unknown, device: GPUDevice = this.device_): Promise<void> {
    if (this.destroyed || this.lostDevices.has(device)) return;
    const msg = error instanceof Error ? error.message : String(error);
    if (!/lost|destroy/i.test(msg)) return;
    await Promise.race([device.lost, new Promise((r) => setTimeout(r, 1000))]);
    await Promise.resolve(); // lets the lost handler record the reason
  }

  /**
   * The error a call that failed on `device` should throw: a DeviceLostError when that device was
   * lost (saying whether recovery is under way), else `error` itself.
   */
  async failure(error: unknown, what: string, device: GPUDevice): Promise<unknown> {
    await this.settleLoss(error, device);
    if (this.destroyed) return runtimeDestroyed(what);
    const reason = this.lostDevices.get(device);
    if (!reason) return error;
    if (this.lostReason) return this.downError_(what);
    return new DeviceLostError(
      `${what}: the GPU device was lost (${reason}) during this call; recovery is under way: later calls run on a new ` +
        'device, with g.state tensors zeroed (exe.stateLost)',
      true,
    );
  }

  private downError_(what: string): DeviceLostError {
    return new DeviceLostError(`${what}: the GPU device was lost (${this.lostReason}); create a new Runtime`);
  }

  /** Throws once the runtime is gone for good (destroyed, or its device lost without recovery); every entry point calls it first. */
  check(what: string): void {
    if (this.destroyed) throw runtimeDestroyed(what);
    if (this.lostReason) throw this.downError_(what);
  }

  /**
   * The buffer holding `data`, uploaded on first use and shared by every executable compiled from the
   * same array memory after that. A constant is a snapshot: change a weight by giving a new array
   * (as loadStateDict does), not by writing into one already compiled.
   */
  constantBuffer(data: Float32Array | Int32Array | Uint16Array, bytes: number, label: string): GPUBuffer {
    let byRange = this.constants.get(data.buffer);
    if (!byRange) this.constants.set(data.buffer, (byRange = new Map()));
    const key = `${data.byteOffset}|${data.byteLength}|${bytes}`;
    let b = byRange.get(key);
    if (!b) {
      const buffer = this.device.createBuffer({ label, size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      // writeBuffer takes no SharedArrayBuffer memory, and whole 4-byte words only: such a constant
      // (shared memory, or an odd count of 16-bit values) is uploaded from a copy, padded to a word.
      const src = isShared(data.buffer) || data.byteLength % 4 ? padWords(data) : data;
      this.device.queue.writeBuffer(buffer, 0, src.buffer, src.byteOffset, src.byteLength);
      byRange.set(key, buffer);
      this.refs.set(buffer, { count: 0, forget: () => byRange!.delete(key) });
      b = buffer;
    }
    return this.retain(b);
  }

  /** Counts one more user of a shared buffer. */
  retain(b: GPUBuffer): GPUBuffer {
    const r = this.refs.get(b);
    if (r) r.count++;
    else this.refs.set(b, { count: 1 });
    return b;
  }

  /**
   * One user fewer; the last one destroys the buffer. A buffer the context does not count (one of a
   * device lost since, whose counts a recovery dropped) is destroyed at once.
   */
  release(b: GPUBuffer): void {
    const r = this.refs.get(b);
    if (!r) return b.destroy();
    if (--r.count > 0) return;
    this.refs.delete(b);
    r.forget?.();
    b.destroy();
  }

  /** A pipeline for shader/entry/constants, cached by that content; concurrent requests share one compile. */
  pipeline(shader: Shader, entry: string, constants: Constants, label: string): Promise<Pipeline> {
    const key = `${shaderKey(shader)}|${entry}|${stableJson(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.createPipeline_(shader, entry, constants, label);
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  private async createPipeline_(shader: Shader, entry: string, constants: Constants, label: string): Promise<Pipeline> {
    const module = this.module_(shader);
    const info = entryLayout(shader, entry);
    const layout = this.device.createBindGroupLayout({
      label: `${label} layout`,
      entries: info.bindings.map((b) => ({ binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.type } })),
    });
    const numeric: Record<string, number> = {};
    for (const [k, v] of Object.entries(constants)) numeric[k] = typeof v === 'boolean' ? Number(v) : v;
    try {
      const pipeline = await this.scoped(label, () =>
        this.device.createComputePipelineAsync({
          label,
          layout: this.device.createPipelineLayout({ label: `${label} pipeline layout`, bindGroupLayouts: [layout] }),
          compute: { module, entryPoint: entry, constants: numeric },
        }),
      );
      return { pipeline, layout };
    } catch (e) {
      const where = await compileMessages(module, shader);
      const msg = e instanceof Error ? e.message : String(e);
      throw new GpuError(`${label}: pipeline ${shader.file}:${entry} ${stableJson(constants)} failed: ${msg}${where}`);
    }
  }

  private module_(shader: Shader): GPUShaderModule {
    const key = shaderKey(shader);
    let m = this.modules.get(key);
    if (!m) {
      m = this.device.createShaderModule({ label: shader.file, code: shader.code });
      this.modules.set(key, m);
    }
    return m;
  }

  /**
   * Runs `fn` (synchronous) inside validation and out-of-memory error scopes and returns, without
   * waiting, a promise of the error they caught (or null). Run uses it so the scopes resolve in the
   * same round trip as the readback instead of adding their own.
   */
  capture(what: string, fn: () => void): Promise<GpuError | null> {
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    let thrown: unknown;
    try {
      fn();
    } catch (e) {
      thrown = e;
    }
    const oom = this.device.popErrorScope();
    const invalid = this.device.popErrorScope();
    if (thrown) {
      Promise.all([oom, invalid]).catch(() => undefined);
      throw thrown;
    }
    return Promise.all([oom, invalid]).then(([o, v]) => {
      if (o) return new GpuError(`${what}: out of GPU memory: ${o.message}`);
      if (v) return new GpuError(`${what}: GPU validation error: ${v.message}`);
      return null;
    });
  }

  /**
   * Runs `fn` inside validation and out-of-memory error scopes; a captured error becomes a GpuError
   * naming `what` (the kernel or the step).
   */
  async scoped<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    let result: T | undefined;
    let thrown: unknown;
    try {
      result = await fn();
    } catch (e) {
      thrown = e;
    }
    const oom = await this.device.popErrorScope();
    const invalid = await this.device.popErrorScope();
    this.check(what);
    if (thrown) throw thrown;
    if (oom) throw new GpuError(`${what}: out of GPU memory: ${oom.message}`);
    if (invalid) throw new GpuError(`${what}: GPU validation error: ${invalid.message}`);
    return result as T;
  }
}

/** The compiler's errors, each at its own file and line: a line of the joined prelude names shaders/common.wgsl. */
async function compileMessages(module: GPUShaderModule, shader: Shader): Promise<string> {
  const info = await module.getCompilationInfo();
  const lines = info.messages
    .filter((m) => m.type === 'error')
    .map((m) => {
      const at = sourceLine(shader, m.lineNum);
      return `\n  ${at.file}:${at.line}:${m.linePos} ${m.message}`;
    });
  return lines.join('');
}

const isShared = (b: ArrayBufferLike): boolean => typeof SharedArrayBuffer !== 'undefined' && b instanceof SharedArrayBuffer;

export function stableJson(o: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
}

/** Every numeric limit of a GPUSupportedLimits, read through its (prototype) getters. */
export function plainLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  const src = limits as unknown as Record<string, unknown>;
  for (let proto: object | null = limits; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || key in out) continue;
      const v = src[key];
      if (typeof v === 'number') out[key] = v;
    }
  }
  return out;
}

/** A copy of `data` in fresh memory, its byte length rounded up to whole 4-byte words (zero padded). */
function padWords(data: Float32Array | Int32Array | Uint16Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return out;
}
