// A compiled graph on the GPU. Compile builds every pipeline, buffer, uniform and bind group once;
// run writes the inputs, encodes every dispatch into one pass of one encoder (a pass each when timed
// per dispatch: graph/timer.ts), submits once and reads the outputs back. An input past the binding
// limit is written in parts, and an output past it is read back from its parts and joined
// (graph/split.ts). After a device loss and recovery, the next call builds it all again on the new
// device from the plan, whose constants hold the host copies of the weights; states come back
// zeroed and stateLost says so.
import { DeviceLostError, GpuError, InputError, ShapeError, fmtShape } from '../errors';
import type { GpuContext } from '../runtime/gpu';
import type { KernelOverrides } from '../kernels/kernel';
import {
  checkFeeds, checkNotDestroyed, checkOutputName, computedIndexError, snapshotFeeds, type ExecStats, type Executable, type Feeds,
} from './executable';
import type { Graph } from './graph';
import { planGraph, type NodeChooser, type Plan } from './planner';
import type { UserKernels } from './lower-ctx';
import { Serial } from './serial';
import { checkRange } from './executable';
import { GpuOutput, bindGpu, boundBuffersError, type Binding, type RunFeeds, type RunOptions } from './io-binding';
import { checkTimestamps, encodePass, type TimestampMode } from './timer';
import { buildGpu, emptyBuilt, readOutput, writeInputs, type Built } from './build';

/**
 * Options of {@link Runtime.compile}: forced kernel variants and override constants (for tests and
 * sweeps; the engine chooses well without them), state sharing, and GPU timing.
 */
export interface CompileOptions extends KernelOverrides {
  /**
   * Bind this graph's g.state() tensors to the buffers of another executable's states of the same
   * name and shape (e.g. a prefill graph and a decode-step graph sharing one KV cache).
   */
  shareStateWith?: Executable;
  /**
   * Time the run with timestamp queries, where the device has them: true times the run's one pass
   * (stats.gpuMs); 'dispatch' gives each dispatch a pass of its own and times each
   * (stats.stepGpuMs, in the order of exe.steps, and their sum in stats.gpuMs).
   */
  timestamps?: TimestampMode;
  /**
   * Variant choice by measurement (README, Tuning). true: time every kernel signature the runtime's
   * table lacks, save the fastest, then use the table. false: the built-in rule alone, the table
   * unread. Default (the runtime's `tune` option, else): use the table's choices, timing nothing.
   */
  tune?: boolean;
}

export class GpuExecutable implements Executable {
  readonly stats: ExecStats;
  readonly outputNames: string[];
  private buffers: GPUBuffer[] = [];
  /** Buffers shared with other executables (weights, states): released, not destroyed, with this one. */
  private shared: GPUBuffer[] = [];
  /** What compile built on the device (graph/build.ts): dispatches, input, output and flag buffers, the timer. */
  private built: Built = emptyBuilt();
  /** g.state() buffers by name (possibly shared through shareStateWith). */
  private stateBuffers = new Map<string, { buffer: GPUBuffer; bytes: number; shape: number[] }>();
  /** Outputs kept on the GPU (run's keepOnGpu): a buffer each, made at the first run that keeps it. */
  private kept = new Map<string, GPUBuffer>();
  /**
   * What must be fed as typed arrays, never GPU buffers: inputs range-checked on the host, and
   * inputs and outputs (`output:NAME`) held in parts. Fixed by the plan.
   */
  private readonly hostOnly: { checked: Set<string>; parted: Set<string> };
  private readonly serial = new Serial();
  private destroyed = false;
  /** The context generation the buffers were built in; another one means: rebuild before running. */
  private generation = -1;
  private rebuilding?: Promise<void>;
  /** resetState() was called while the buffers awaited a rebuild: the zeroed states are wanted. */
  private resetPending = false;
  private stateLost_ = false;

  private constructor(
    private readonly ctx: GpuContext,
    private readonly graph: Graph,
    readonly plan: Plan,
    private readonly opts: CompileOptions,
  ) {
    this.outputNames = [...graph.outputs.keys()];
    this.stats = {
      dispatches: 0, submits: 0, bytesAllocated: 0, gpuMs: null, stepGpuMs: null, encodeMs: null, submitMs: null,
      peakBytes: plan.pool.reduce((a, b) => a + b, 0),
      naiveBytes: plan.naiveBytes,
      weightBytes: 0,
      readbackBytes: 0,
    };
    this.hostOnly = {
      checked: new Set(plan.rangeChecks.map((c) => c.input)),
      parted: new Set([
        ...plan.slots.filter((s) => s.kind === 'input' && s.part).map((s) => s.name!),
        ...[...plan.outputs].filter(([, o]) => o.split).map(([name]) => `output:${name}`),
      ]),
    };
  }

  static async compile(ctx: GpuContext, graph: Graph, opts: CompileOptions = {}, user?: UserKernels, choose?: NodeChooser): Promise<GpuExecutable> {
    await ctx.ready();
    ctx.check('compile');
    const plan = planGraph(graph, ctx.limits, opts, user, choose); // shape and limit errors: nothing built yet
    // Queries are only made where the device has timestamps; elsewhere the times stay null.
    checkTimestamps(opts.timestamps, ctx.device.features.has('timestamp-query') ? plan.steps.filter((s) => s.numel > 0).length : 0);
    // A compile holds no state, so one cut short by a device loss starts again on the new device.
    for (let attempt = 0; ; attempt++) {
      const exe = new GpuExecutable(ctx, graph, plan, opts);
      const device = ctx.device;
      try {
        await exe.build_(opts);
        return exe;
      } catch (e) {
        exe.destroy();
        // A device lost mid-compile fails pipeline creation with a message of its own; say what it was.
        const err = await ctx.failure(e, 'compile', device);
        if (!(err instanceof DeviceLostError && err.recovering) || attempt >= 2) throw err;
        await ctx.ready();
        ctx.check('compile');
      }
    }
  }

  /**
   * True once a device loss has zeroed this executable's g.state tensors (raised when it is rebuilt
   * on the new device, on each executable sharing them); resetState() clears it.
   */
  get stateLost(): boolean {
    return this.stateLost_;
  }

  /** Waits out a recovery under way, then rebuilds everything on the new device if the buffers are of a lost one. */
  private async current_(what: string): Promise<void> {
    await this.ctx.ready();
    this.ctx.check(what);
    checkNotDestroyed(this.destroyed, what);
    if (this.generation === this.ctx.generation) return;
    await (this.rebuilding ??= this.rebuild_(what).finally(() => (this.rebuilding = undefined)));
  }

  private async rebuild_(what: string): Promise<void> {
    const states = new Map([...this.stateBuffers].map(([name, s]) => [name, s.buffer]));
    this.freeBuffers_();
    this.built = emptyBuilt();
    this.stateBuffers.clear();
    this.kept.clear();
    this.stats.bytesAllocated = 0;
    this.stats.weightBytes = 0;
    const device = this.ctx.device;
    try {
      await this.build_(this.opts, states);
    } catch (e) {
      this.generation = -1;
      throw await this.ctx.failure(e, what, device);
    }
    if (states.size > 0 && !this.resetPending) this.stateLost_ = true;
    this.resetPending = false;
  }

  outputShape(name: string): number[] {
    return this.graph.nodes[checkOutputName(this.graph, name)].shape.slice();
  }

  /** Step labels with their variants, in dispatch order (for logs and bench rows). */
  get steps(): string[] {
    return this.built.dispatches.map((d) => d.label);
  }

  run(feeds: Feeds): Promise<Record<string, Float32Array>>;
  run(feeds: RunFeeds, opts?: RunOptions): Promise<Record<string, Float32Array | GpuOutput>>;
  run(feeds: RunFeeds, opts?: RunOptions): Promise<Record<string, Float32Array | GpuOutput>> {
    // Feeds are checked and copied now, so the caller may reuse its arrays as soon as run() returns;
    // runs are then serialised, since they share the input and staging buffers.
    let own: Feeds;
    let io: Binding;
    try {
      this.ctx.check('run');
      checkNotDestroyed(this.destroyed, 'run');
      io = bindGpu(this.graph, feeds, opts, this.hostOnly.checked, this.hostOnly.parted);
      const host = feeds as Feeds;
      checkFeeds(this.graph, host, io.inputs);
      for (const c of this.plan.rangeChecks) {
        checkRange(c.op, c.what, host[c.input], this.graph.nodes[this.graph.inputs.get(c.input)!].shape, c.min, c.max);
      }
      own = snapshotFeeds(this.graph, host, io.inputs);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.serial.run(() => this.run_(own, io));
  }

  private async run_(feeds: Feeds, io: Binding = { inputs: new Map(), outputs: new Map() }): Promise<Record<string, Float32Array | GpuOutput>> {
    await this.current_('run');
    const { device } = this.ctx;
    try {
      return await this.encodeAndRead_(device, feeds, io);
    } catch (e) {
      // Index flags are read from a finished run: they are the caller's, whatever happened since.
      if (e instanceof InputError) throw e;
      throw await this.ctx.failure(e, 'run', device);
    }
  }

  private async encodeAndRead_(device: GPUDevice, feeds: Feeds, io: Binding): Promise<Record<string, Float32Array | GpuOutput>> {
    let encodeMs = 0, submitMs = 0;
    const scopeError = this.ctx.capture('run', () => {
      const t0 = performance.now();
      const enc = device.createCommandEncoder({ label: 'seqgpu run' });
      writeInputs(device, enc, this.built.inputBuffers, feeds, io.inputs);
      if (this.built.flags) enc.clearBuffer(this.built.flags.buffer);
      this.encodePass_(enc, 'seqgpu pass');
      for (const [name, o] of this.built.outputs) {
        const to = io.outputs.has(name) ? (io.outputs.get(name) ?? this.keptBuffer_(name, o.n)) : undefined;
        if (to) enc.copyBufferToBuffer(o.reads[0].src, 0, to, 0, 4 * o.n);
        else for (const r of o.reads) enc.copyBufferToBuffer(r.src, 0, r.staging, 0, r.bytes);
      }
      if (this.built.flags) enc.copyBufferToBuffer(this.built.flags.buffer, 0, this.built.flags.read, 0, this.built.flags.bytes);
      const commands = enc.finish();
      const t1 = performance.now();
      device.queue.submit([commands]);
      encodeMs = t1 - t0;
      submitMs = performance.now() - t1;
    });
    const read = [...this.built.outputs].filter(([name]) => !io.outputs.has(name));
    const staging = [
      ...read.flatMap(([, o]) => o.reads.map((r) => r.staging)), ...(this.built.timer ? [this.built.timer.read] : []),
      ...(this.built.flags ? [this.built.flags.read] : []),
    ];
    const [error, maps] = await Promise.all([scopeError, Promise.allSettled(staging.map((b) => b.mapAsync(GPUMapMode.READ)))]);
    const failed = maps.find((m): m is PromiseRejectedResult => m.status === 'rejected');
    if (error || failed) {
      staging.forEach((b, i) => maps[i].status === 'fulfilled' && b.unmap());
      const lost = await this.ctx.failure(error ?? failed!.reason, 'run', device);
      if (lost instanceof DeviceLostError) throw lost;
      if (error && (io.inputs.size || io.outputs.size)) throw boundBuffersError(error, io);
      throw error ?? new GpuError(`run: reading results back failed: ${failed!.reason instanceof Error ? failed!.reason.message : failed!.reason}`);
    }
    const out: Record<string, Float32Array | GpuOutput> = {};
    let readback = 0;
    for (const [name, to] of io.outputs) {
      const n = this.graph.nodes[this.graph.outputs.get(name)!];
      out[name] = new GpuOutput(to ?? this.kept.get(name)!, n.shape.slice(), n.dtype, 4 * this.built.outputs.get(name)!.n);
    }
    for (const [name, o] of read) {
      readback += 4 * o.n;
      out[name] = readOutput(o);
    }
    if (this.built.timer) ({ gpuMs: this.stats.gpuMs, perDispatch: this.stats.stepGpuMs } = this.built.timer.times());
    this.stats.dispatches = this.built.dispatches.length;
    this.stats.submits = 1;
    this.stats.encodeMs = encodeMs;
    this.stats.submitMs = submitMs;
    this.stats.readbackBytes = readback;
    if (this.built.flags) {
      const words = new Uint32Array(this.built.flags.read.getMappedRange().slice(0));
      this.built.flags.read.unmap();
      const k = this.plan.flags.findIndex((_, i) => words[2 * i] !== 0);
      if (k >= 0) throw computedIndexError(this.plan.flags[k], new Int32Array(words.buffer)[2 * k + 1]);
    }
    return out;
  }

  /**
   * @internal For tuning (src/runtime/tune.ts): encodes every dispatch `reps` times in one pass, on
   * the inputs the last run wrote, submits once and waits. GPU time of the pass from timestamps when
   * the executable was compiled with them, and wall time from submit to done; both per repetition.
   */
  timeRepeated(reps: number): Promise<{ gpuMs: number | null; wallMs: number }> {
    return this.serial.run(async () => {
      await this.current_('tune');
      const { device } = this.ctx;
      const t0 = performance.now();
      const scopeError = this.ctx.capture('tune', () => {
        const enc = device.createCommandEncoder({ label: 'seqgpu tune' });
        this.encodePass_(enc, 'seqgpu tune pass', reps);
        device.queue.submit([enc.finish()]);
      });
      const done = this.built.timer ? this.built.timer.read.mapAsync(GPUMapMode.READ) : device.queue.onSubmittedWorkDone();
      const [error] = await Promise.all([scopeError, done]);
      const wallMs = (performance.now() - t0) / reps;
      // Timed per dispatch, the times read are the last repetition's alone.
      const t = this.built.timer?.times();
      const gpuMs = t ? (t.perDispatch ? t.gpuMs : t.gpuMs / reps) : null;
      if (error) throw error;
      return { gpuMs, wallMs };
    });
  }

  /** The compute work of a run (or of tuning: every dispatch `reps` times), timed when compiled with timestamps. */
  private encodePass_(enc: GPUCommandEncoder, label: string, reps = 1): void {
    if (this.built.timer) this.built.timer.encode(enc, label, this.built.dispatches, reps);
    else encodePass(enc, label, this.built.dispatches, reps);
  }

  resetState(): void {
    this.ctx.check('resetState');
    checkNotDestroyed(this.destroyed, 'resetState');
    this.stateLost_ = false;
    // Buffers of a lost device: the rebuild makes the states zeroed, as asked.
    if (this.generation !== this.ctx.generation || this.ctx.recovering) {
      this.resetPending = true;
      return;
    }
    const enc = this.ctx.device.createCommandEncoder({ label: 'seqgpu reset state' });
    for (const s of this.stateBuffers.values()) enc.clearBuffer(s.buffer);
    this.ctx.device.queue.submit([enc.finish()]);
  }

  async readState(name: string): Promise<Float32Array> {
    this.ctx.check('readState');
    checkNotDestroyed(this.destroyed, 'readState');
    if (!this.graph.states.has(name)) throw new InputError(`readState: unknown state '${name}'; the states are ${[...this.graph.states.keys()].join(', ')}`);
    await this.serial.run(() => this.current_('readState'));
    const s = this.stateBuffers.get(name);
    if (!s) throw new InputError(`readState: unknown state '${name}'; the states are ${[...this.stateBuffers.keys()].join(', ')}`);
    const { device } = this.ctx;
    const staging = device.createBuffer({ label: `state '${name}' readback`, size: s.bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(s.buffer, 0, staging, 0, s.bytes);
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      return new Float32Array(staging.getMappedRange().slice(0, 4 * s.shape.reduce((a, b) => a * b, 1)));
    } catch (e) {
      throw await this.ctx.failure(e, 'readState', device);
    } finally {
      staging.destroy();
    }
  }

  /** @internal The state buffer `name`, for executables compiled with shareStateWith. */
  stateBuffer(name: string): { buffer: GPUBuffer; bytes: number; shape: number[] } | undefined {
    return this.stateBuffers.get(name);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.freeBuffers_();
  }

  private freeBuffers_(): void {
    for (const b of this.buffers) b.destroy();
    for (const b of this.shared) this.ctx.release(b);
    this.built.timer?.destroy();
    this.buffers = [];
    this.shared = [];
  }

  /**
   * The buffer of state `name`: another executable's (shareStateWith), or, in a rebuild after a
   * device loss, the successor of the one it had (`prior`), else a new one.
   */
  private stateSlot_(name: string, bytes: number, share: Executable | undefined, prior?: GPUBuffer): GPUBuffer {
    const shape = this.graph.nodes[this.graph.states.get(name)!].shape;
    const other = !prior && share instanceof GpuExecutable ? share.stateBuffer(name) : undefined;
    if (!prior && share && !(share instanceof GpuExecutable)) throw new InputError('compile: shareStateWith must be an executable of a GPU runtime');
    if (other && other.bytes !== bytes) {
      throw new ShapeError(`compile: state '${name}' ${fmtShape(shape)} cannot share the other executable's ${fmtShape(other.shape)}`);
    }
    // A fresh buffer is zeroed by WebGPU, so a new state starts as zeros. Sharing executables hold a
    // reference each, so the state lives until the last of them is destroyed.
    const make = () => this.ctx.noteState(this.ctx.device.createBuffer({
      label: `state '${name}'`, size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    }));
    const old = prior ?? other?.buffer;
    let buffer: GPUBuffer, made: boolean;
    if (!old) [buffer, made] = [make(), true];
    else if (this.ctx.isCurrentState(old)) [buffer, made] = [old, false];
    else ({ buffer, fresh: made } = this.ctx.renewState(old, make));
    this.ctx.retain(buffer);
    this.shared.push(buffer);
    if (made) this.stats.bytesAllocated += bytes;
    this.stateBuffers.set(name, { buffer, bytes, shape });
    return buffer;
  }

  /** The executable's buffer for output `name` kept on the GPU (4 bytes per element), made once. */
  private keptBuffer_(name: string, n: number): GPUBuffer {
    let b = this.kept.get(name);
    if (!b) {
      b = this.buffer_(`output '${name}' kept on the GPU`, Math.max(16, 4 * n), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
      this.kept.set(name, b);
    }
    return b;
  }

  private buffer_(label: string, size: number, usage: number): GPUBuffer {
    const b = this.ctx.device.createBuffer({ label, size, usage });
    this.buffers.push(b);
    this.stats.bytesAllocated += size;
    return b;
  }

  private async build_(opts: CompileOptions, priorStates?: Map<string, GPUBuffer>): Promise<void> {
    const { ctx, plan } = this;
    this.generation = ctx.generation;
    this.built = await buildGpu(ctx, plan, {
      buffer: (label, size, usage) => this.buffer_(label, size, usage),
      constant: (slot) => {
        const s = plan.slots[slot];
        const b = ctx.constantBuffer(s.data!, s.bytes, `constant #${s.id}`);
        // Slots of one weight share a buffer (a tied table read twice): count each buffer once.
        if (!this.shared.includes(b)) this.stats.weightBytes += s.bytes;
        this.shared.push(b);
        this.stats.bytesAllocated += s.bytes;
        return b;
      },
      state: (name, bytes) => this.stateSlot_(name, bytes, opts.shareStateWith, priorStates?.get(name)),
    }, opts.timestamps);
  }
}
