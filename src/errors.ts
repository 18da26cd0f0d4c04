// The engine's error classes. Every error seqgpu throws is a SeqgpuError subclass, so callers can
// tell engine faults from their own bugs with one instanceof.

export class SeqgpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A shape or rank that an op does not accept: thrown while a graph is built or compiled. */
export class ShapeError extends SeqgpuError {}

/** A feed that is missing, unknown, of the wrong length or dtype: thrown by run() before dispatch. */
export class InputError extends SeqgpuError {}

/** A buffer or grid beyond what the device allows. */
export class LimitError extends SeqgpuError {}

/** A validation, out-of-memory or shader-compile error reported by the GPU, naming the kernel. */
export class GpuError extends SeqgpuError {}

/** The device was lost; every later call on the runtime throws this. */
export class DeviceLostError extends SeqgpuError {}

/**
 * A call on something the caller destroyed: an executable after exe.destroy(), or anything of a
 * runtime after rt.destroy(). The same class on the GPU runtime and on the CPU reference.
 */
export class DestroyedError extends SeqgpuError {}

export const runtimeDestroyed = (what: string): DestroyedError =>
  new DestroyedError(`${what}: the runtime was destroyed (rt.destroy())`);

export const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;
