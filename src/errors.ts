// The engine's error classes. Every error seqgpu throws is a SeqgpuError subclass, so callers can
// tell engine faults from their own bugs with one instanceof.

/** The base class of every error the engine throws; `name` is the concrete class's name. */
export class SeqgpuError extends Error {
  /** An error whose message names the op (or call), the input and the shapes concerned. */
  constructor(message: string) {
    super(message);
    this.name = NAMES.get(new.target) ?? new.target.name;
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

/**
 * The device was lost. With recovery (the default for a runtime that owns its GPU object), a call in
 * flight at the loss rejects with this and `recovering` true, and later calls run on a new device;
 * without it (or when getting a new device failed), every later call throws this.
 */
export class DeviceLostError extends SeqgpuError {
  /**
   * A loss reported to a call.
   * @param message what was lost and whether recovery is under way
   * @param recovering the runtime is getting (or has got) a new device: later calls will run, on
   * zeroed states.
   */
  constructor(
    message: string,
    /** True when the runtime recovers: a later call (a retry) runs on a new device. */
    readonly recovering = false,
  ) {
    super(message);
  }
}

/**
 * A call on something the caller destroyed: an executable after exe.destroy(), or anything of a
 * runtime after rt.destroy(). The same class on the GPU runtime and on the CPU reference.
 */
export class DestroyedError extends SeqgpuError {}

/**
 * A user kernel (rt.kernels.register) that cannot be registered or used: a malformed definition,
 * bindings that are not the op's operands, a plan function that fails or returns no grid.
 */
export class KernelError extends SeqgpuError {}

// A consumer's minifier renames classes (the page then shows `O: matmul: ...`), so each class's
// name is also kept as a string. An error class declared elsewhere registers its own with
// errorName(); one that does not keeps its (possibly minified) class name.
const NAMES = new Map<abstract new (...args: never[]) => SeqgpuError, string>();

/** Gives instances of `cls` the name `name`, whatever a minifier calls the class. */
export function errorName(cls: abstract new (...args: never[]) => SeqgpuError, name: string): void {
  NAMES.set(cls, name);
}

errorName(SeqgpuError, 'SeqgpuError');
errorName(ShapeError, 'ShapeError');
errorName(InputError, 'InputError');
errorName(LimitError, 'LimitError');
errorName(GpuError, 'GpuError');
errorName(DeviceLostError, 'DeviceLostError');
errorName(DestroyedError, 'DestroyedError');
errorName(KernelError, 'KernelError');

export const runtimeDestroyed = (what: string): DestroyedError =>
  new DestroyedError(`${what}: the runtime was destroyed (rt.destroy())`);

export const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;
