// IO binding, opt-in: a run's feeds may be the caller's GPUBuffers (copied into the input buffers
// inside the run's one submission) and its outputs may stay on the GPU (kept in a buffer of the
// executable's, or copied into the caller's own buffer) instead of being read back. What is checked
// here is checked before anything is written or dispatched.
import { GpuError, InputError, fmtShape } from '../errors';
import type { DType, GraphIR } from './ir';
import { numel } from './shapes';

/**
 * An output left on the GPU: `buffer` holds its values from byte 0, in the engine's GPU layout
 * (f32 and i32 as themselves, bool as one u32 0/1 per element), `byteLength` bytes of them.
 * From `keepOnGpu`, the buffer is the executable's: read it (its usage is STORAGE | COPY_SRC |
 * COPY_DST) before the executable's next run keeps that output again, and never destroy it;
 * exe.destroy() does. From `outputBuffers`, it is the caller's own buffer.
 */
export class GpuOutput {
  /** @internal */
  constructor(
    /** The buffer holding the output, from byte 0. */
    readonly buffer: GPUBuffer,
    /** The output's shape. */
    readonly shape: number[],
    /** The output's dtype (bool is held as one u32 per element). */
    readonly dtype: DType,
    /** Bytes of values: 4 per element. */
    readonly byteLength: number,
  ) {}
}

/** What run() may be given per input: a typed array, or (GPU runtimes) a GPUBuffer holding the input. */
export type RunFeeds = Record<string, Float32Array | Int32Array | Uint8Array | GPUBuffer>;

/** Options of a run that binds GPU buffers (GPU runtimes only). */
export interface RunOptions {
  /**
   * Outputs to leave on the GPU, each returned as a GpuOutput on a buffer the executable owns
   * instead of a Float32Array; nothing of them is read back.
   */
  keepOnGpu?: string[];
  /**
   * Outputs to copy into the caller's buffers (usage COPY_DST, at least 4 bytes per element), in
   * the run's submission, each returned as a GpuOutput on that buffer; nothing of them is read back.
   */
  outputBuffers?: Record<string, GPUBuffer>;
}

/** True for a GPUBuffer (duck-typed: Node's 'webgpu' package and browsers each have their own class). */
export function isGpuBuffer(v: unknown): v is GPUBuffer {
  if (v === null || typeof v !== 'object') return false;
  const b = v as Partial<GPUBuffer>;
  return typeof b.size === 'number' && typeof b.usage === 'number' && typeof b.mapAsync === 'function' && typeof b.destroy === 'function';
}

/** What a GPU run binds: inputs fed as buffers, outputs kept or copied, all checked. */
export interface Binding {
  /** Input name -> the caller's buffer and the bytes to copy from it. */
  inputs: Map<string, { buffer: GPUBuffer; bytes: number }>;
  /** Output name -> the caller's buffer, or null for one the executable keeps. */
  outputs: Map<string, GPUBuffer | null>;
}

const usageName = (flag: 'COPY_SRC' | 'COPY_DST') => `GPUBufferUsage.${flag}`;

/**
 * Checks the GPU side of a run's feeds and options: each buffer feed names an input, carries
 * COPY_SRC and holds at least the input's bytes, and is not for an input range-checked on the host
 * (`checked`) or held in parts (`parted`); each kept or bound output is one of the graph's, not
 * held in parts, and a bound buffer carries COPY_DST and has room.
 */
export function bindGpu(graph: GraphIR, feeds: RunFeeds, opts: RunOptions | undefined, checked: Set<string>, parted: Set<string>): Binding {
  const inputs = new Map<string, { buffer: GPUBuffer; bytes: number }>();
  if (feeds !== null && typeof feeds === 'object') {
    for (const [name, v] of Object.entries(feeds)) {
      if (!isGpuBuffer(v)) continue;
      const id = graph.inputs.get(name);
      if (id === undefined) continue; // checkFeeds names the unknown input
      const { shape, dtype } = graph.nodes[id];
      const bytes = 4 * numel(shape);
      const what = `run: input '${name}' (${dtype} ${fmtShape(shape)}, ${bytes} bytes)`;
      if (checked.has(name)) throw new InputError(`${what} is range-checked on the host before dispatch, so it must be a typed array, not a GPUBuffer`);
      if (parted.has(name)) throw new InputError(`${what} is past the binding limit and uploaded in parts, so it must be a typed array, not a GPUBuffer`);
      if (!(v.usage & GPUBufferUsage.COPY_SRC)) throw new InputError(`${what}: its GPUBuffer lacks ${usageName('COPY_SRC')} (usage ${v.usage})`);
      if (v.size < bytes) throw new InputError(`${what}: its GPUBuffer holds ${v.size} bytes`);
      inputs.set(name, { buffer: v, bytes });
    }
  }
  const outputs = new Map<string, GPUBuffer | null>();
  if (opts === undefined) return { inputs, outputs };
  if (opts === null || typeof opts !== 'object') throw new InputError(`run: options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  const known = (name: string, where: string) => {
    const id = graph.outputs.get(name);
    if (id === undefined) throw new InputError(`run: ${where} names unknown output '${name}'; the outputs are ${[...graph.outputs.keys()].join(', ')}`);
    if (parted.has(`output:${name}`)) {
      const n = graph.nodes[id];
      throw new InputError(`run: output '${name}' (${n.dtype} ${fmtShape(n.shape)}) is past the binding limit, held in parts, and cannot stay on the GPU`);
    }
    return graph.nodes[id];
  };
  if (opts.keepOnGpu !== undefined) {
    if (!Array.isArray(opts.keepOnGpu)) throw new InputError('run: keepOnGpu must be an array of output names');
    for (const name of opts.keepOnGpu) {
      known(String(name), 'keepOnGpu');
      outputs.set(name, null);
    }
  }
  for (const [name, b] of Object.entries(opts.outputBuffers ?? {})) {
    const n = known(name, 'outputBuffers');
    const bytes = 4 * numel(n.shape);
    const what = `run: output '${name}' (${n.dtype} ${fmtShape(n.shape)}, ${bytes} bytes)`;
    if (outputs.has(name)) throw new InputError(`${what} is in keepOnGpu and in outputBuffers; give it one of them`);
    if (!isGpuBuffer(b)) throw new InputError(`${what}: outputBuffers must map it to a GPUBuffer`);
    if (!(b.usage & GPUBufferUsage.COPY_DST)) throw new InputError(`${what}: its GPUBuffer lacks ${usageName('COPY_DST')} (usage ${b.usage})`);
    if (b.size < bytes) throw new InputError(`${what}: its GPUBuffer holds ${b.size} bytes`);
    outputs.set(name, b);
  }
  return { inputs, outputs };
}

/** The CPU runtime's answer to GPU buffers and GPU options: an InputError saying it has no GPU. */
export function refuseGpu(feeds: RunFeeds, opts: RunOptions | undefined): void {
  if (feeds !== null && typeof feeds === 'object') {
    for (const [name, v] of Object.entries(feeds)) {
      if (isGpuBuffer(v)) throw new InputError(`run: input '${name}' is a GPUBuffer; the CPU runtime (Runtime.cpu()) has no GPU and takes typed arrays only`);
    }
  }
  if (opts && (opts.keepOnGpu?.length || Object.keys(opts.outputBuffers ?? {}).length)) {
    throw new InputError('run: keepOnGpu and outputBuffers need a GPU runtime; the CPU runtime (Runtime.cpu()) returns Float32Arrays only');
  }
}

/** A run's GPU error when it bound caller buffers: says which, since a destroyed one or one of another device fails here. */
export function boundBuffersError(error: GpuError, io: Binding): GpuError {
  const names = [...[...io.inputs.keys()].map((n) => `input '${n}'`), ...[...io.outputs].filter(([, b]) => b).map(([n]) => `output '${n}'`)];
  if (names.length === 0) return error;
  return new GpuError(
    `${error.message} (this run bound GPU buffers of the caller's: ${names.join(', ')}; a buffer already destroyed or made on ` +
      'another device fails validation, and then nothing of the run was done)',
  );
}
