// What a compiled graph looks like to callers, GPU or CPU, and the feed checks both share.
import { DestroyedError, InputError, fmtShape, runtimeDestroyed } from '../errors';
import type { DType, GraphIR as Graph } from './ir';
import type { GpuOutput, RunFeeds, RunOptions } from './io-binding';
import { numel } from './shapes';

/** One input's values, row-major: a Float32Array for an f32 input, Int32Array for i32, Uint8Array (0 or 1) for bool. */
export type Feed = Float32Array | Int32Array | Uint8Array;
/** What `run()` takes: every input of the graph by name, and nothing else. */
export type Feeds = Record<string, Feed>;

/** What an executable did in its last run, and the memory it holds ({@link Executable.stats}). */
export interface ExecStats {
  /** Compute dispatches in the last run. */
  dispatches: number;
  /** Queue submits in the last run. */
  submits: number;
  /** Bytes of every GPU buffer the executable owns (inputs, weights, intermediates, outputs, staging). */
  bytesAllocated: number;
  /** Bytes of the intermediate buffers after reuse by liveness. */
  peakBytes: number;
  /** Bytes the intermediates would take with one buffer each. */
  naiveBytes: number;
  /**
   * Bytes of the distinct weight (constant) buffers the executable binds on the GPU: each buffer
   * counted once, however many ops read it (GPT-2's tied wte); 16-bit weights take half of f32's.
   * Buffers shared with other executables count in each. 0 on the CPU reference.
   */
  weightBytes: number;
  /** GPU time of the last run's compute work in ms, when compiled with { timestamps: true } or 'dispatch' on a device that has them. */
  gpuMs: number | null;
  /**
   * GPU time in ms of each dispatch of the last run, in the order of `steps`, when compiled with
   * { timestamps: 'dispatch' } on a device that has timestamps; else null.
   */
  stepGpuMs: number[] | null;
  /** Host ms of the last run spent writing inputs and encoding commands (GPU runtimes; else null). */
  encodeMs: number | null;
  /** Host ms of the last run's queue.submit call. */
  submitMs: number | null;
  /** Bytes of output values the last run read back to the host (outputs kept on the GPU read none). 0 on the CPU reference. */
  readbackBytes: number;
}

/**
 * A compiled graph ({@link Runtime.compile}): it owns its buffers, pipelines and bind groups, and
 * runs many times. The same interface on a GPU runtime and on the CPU reference.
 */
export interface Executable {
  /**
   * Checks and copies every feed before it returns (so the caller may reuse its arrays at once),
   * then runs after any run already in flight. Rejects with a typed SeqgpuError.
   */
  run(feeds: Feeds): Promise<Record<string, Float32Array>>;
  /**
   * A run with IO binding (GPU runtimes): any feed may be a GPUBuffer (usage COPY_SRC, holding the
   * input from byte 0, 4 bytes per element: f32, i32, or bool as u32), copied in the run's own
   * submission; outputs named in `opts.keepOnGpu` or `opts.outputBuffers` come back as GpuOutput
   * and are not read back. The engine never destroys a caller's buffer. The CPU runtime rejects
   * GPU buffers and these options with an InputError.
   */
  run(feeds: RunFeeds, opts?: RunOptions): Promise<Record<string, Float32Array | GpuOutput>>;
  /** The shape of output `name`; an InputError for a name that is not an output. */
  outputShape(name: string): number[];
  /** The graph's output names, in the order they were declared. */
  readonly outputNames: string[];
  /** Dispatches, submits, memory and timings of the last run. */
  readonly stats: ExecStats;
  /**
   * What a run does, in order: one label per GPU dispatch with its kernel variant (e.g.
   * `linear#3 [2, 5, 16] +relu (register)`), or one per evaluated node on the CPU reference.
   */
  readonly steps: string[];
  /**
   * True once a device loss (and recovery) has zeroed this executable's g.state() tensors: raised
   * when the executable is rebuilt on the new device, on every executable sharing those states,
   * and cleared by resetState(). Always false on the CPU reference.
   */
  readonly stateLost: boolean;
  /** Zeroes every g.state() tensor (and clears stateLost). */
  resetState(): void;
  /** A copy of a g.state() tensor's current contents. */
  readState(name: string): Promise<Float32Array>;
  /**
   * Releases the executable's GPU buffers (weights and states shared with other executables when
   * their last user goes); a later run() rejects with DestroyedError. Calling it twice is harmless.
   */
  destroy(): void;
}

const ARRAY_FOR: Record<DType, string> = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array', f16: 'Uint16Array', bf16: 'Uint16Array' };

export function feedMatches(dtype: DType, v: unknown): boolean {
  if (dtype === 'f32') return v instanceof Float32Array;
  if (dtype === 'i32') return v instanceof Int32Array;
  return v instanceof Uint8Array;
}

/** feeds[name] if it is the caller's own key: `constructor` or `__proto__` is not an inherited value. */
export function ownFeed(feeds: Feeds, name: string): Feed | undefined {
  return Object.prototype.hasOwnProperty.call(feeds, name) ? feeds[name] : undefined;
}

/**
 * A private copy of each input's feed, in ordinary (never shared) memory: a run computes on the
 * values it was given, whatever the caller writes into its arrays afterwards.
 */
export function snapshotFeeds(graph: Graph, feeds: Feeds, onGpu?: ReadonlyMap<string, unknown>): Feeds {
  const copy: Feeds = Object.create(null);
  for (const name of graph.inputs.keys()) if (!onGpu?.has(name)) copy[name] = ownFeed(feeds, name)!.slice();
  return copy;
}

/** What an executable asks its runtime before each call: throws once the runtime is gone. */
export interface RuntimeLife {
  check(what: string): void;
}

/** The CPU runtime's life: it has no device to lose, only rt.destroy(). */
export class HostLife implements RuntimeLife {
  destroyed = false;
  check(what: string): void {
    if (this.destroyed) throw runtimeDestroyed(what);
  }
}

/** Throws DestroyedError for a call on a destroyed executable; `what` names the call. */
export function checkNotDestroyed(destroyed: boolean, what: string): void {
  if (destroyed) throw new DestroyedError(`${what}: this executable was destroyed (exe.destroy())`);
}

/** Throws InputError (before any dispatch, on the GPU too) for a value outside [min, max]. */
export function checkRange(op: string, what: string, values: ArrayLike<number>, shape: number[], min: number, max: number): void {
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] >= min && values[i] <= max)) {
      throw new InputError(`${op}: ${what} ${fmtShape(shape)} hold ${values[i]} at flat index ${i}; valid values are ${min}..${max}`);
    }
  }
}

/** The run-time error for an index computed in the graph (not fed) that fell outside its range. */
export function computedIndexError(c: { op: string; what: string; shape: number[]; min: number; max: number }, value: number): InputError {
  return new InputError(
    `${c.op}: ${c.what} ${fmtShape(c.shape)} computed in the graph hold ${value}; valid values are ${c.min}..${c.max} ` +
      '(those elements read zeros; state written by this run keeps its writes)',
  );
}

/**
 * Checks feeds against the graph's inputs: every problem becomes one InputError naming the input.
 * Inputs in `onGpu` are fed as GPU buffers, checked by io-binding.ts.
 */
export function checkFeeds(graph: Graph, feeds: Feeds, onGpu?: ReadonlyMap<string, unknown>): void {
  if (feeds === null || typeof feeds !== 'object') throw new InputError('run: feeds must be an object of typed arrays');
  for (const name of Object.keys(feeds)) {
    if (!graph.inputs.has(name)) {
      throw new InputError(`run: unknown input '${name}'; the graph's inputs are ${[...graph.inputs.keys()].join(', ')}`);
    }
  }
  for (const [name, id] of graph.inputs) {
    const { shape, dtype } = graph.nodes[id];
    const v = ownFeed(feeds, name);
    if (v === undefined) throw new InputError(`run: missing input '${name}' (${dtype} ${fmtShape(shape)})`);
    if (onGpu?.has(name)) continue;
    if (!feedMatches(dtype, v)) {
      const got = (v as object)?.constructor?.name ?? typeof v;
      throw new InputError(`run: input '${name}' is ${dtype} ${fmtShape(shape)} and needs a ${ARRAY_FOR[dtype]}, got ${got}`);
    }
    if (v.length !== numel(shape)) {
      throw new InputError(
        `run: input '${name}' has ${v.length} elements but shape ${fmtShape(shape)} needs ${numel(shape)}`,
      );
    }
  }
}

export function checkOutputName(graph: Graph, name: string): number {
  const id = graph.outputs.get(name);
  if (id === undefined) {
    throw new InputError(`outputShape: unknown output '${name}'; the outputs are ${[...graph.outputs.keys()].join(', ')}`);
  }
  return id;
}
