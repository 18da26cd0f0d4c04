// What a compiled graph looks like to callers, GPU or CPU, and the feed checks both share.
import { InputError, fmtShape } from '../errors';
import type { DType, Graph } from './graph';
import { numel } from './shapes';

export type Feed = Float32Array | Int32Array | Uint8Array;
export type Feeds = Record<string, Feed>;

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
  /** GPU time of the last run's compute pass in ms, when compiled with { timestamps: true } on a device that has them. */
  gpuMs: number | null;
  /** Host ms of the last run spent writing inputs and encoding commands (GPU runtimes; else null). */
  encodeMs: number | null;
  /** Host ms of the last run's queue.submit call. */
  submitMs: number | null;
}

export interface Executable {
  run(feeds: Feeds): Promise<Record<string, Float32Array>>;
  outputShape(name: string): number[];
  readonly outputNames: string[];
  readonly stats: ExecStats;
  /** Zeroes every g.state() tensor. */
  resetState(): void;
  /** A copy of a g.state() tensor's current contents. */
  readState(name: string): Promise<Float32Array>;
  destroy(): void;
}

const ARRAY_FOR: Record<DType, string> = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array' };

export function feedMatches(dtype: DType, v: unknown): boolean {
  if (dtype === 'f32') return v instanceof Float32Array;
  if (dtype === 'i32') return v instanceof Int32Array;
  return v instanceof Uint8Array;
}

/** Checks feeds against the graph's inputs: every problem becomes one InputError naming the input. */
export function checkFeeds(graph: Graph, feeds: Feeds): void {
  if (feeds === null || typeof feeds !== 'object') throw new InputError('run: feeds must be an object of typed arrays');
  for (const name of Object.keys(feeds)) {
    if (!graph.inputs.has(name)) {
      throw new InputError(`run: unknown input '${name}'; the graph's inputs are ${[...graph.inputs.keys()].join(', ')}`);
    }
  }
  for (const [name, id] of graph.inputs) {
    const { shape, dtype } = graph.nodes[id];
    const v = feeds[name];
    if (v === undefined) throw new InputError(`run: missing input '${name}' (${dtype} ${fmtShape(shape)})`);
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
