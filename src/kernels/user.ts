// The shape of a user kernel (rt.kernels.register): what its author writes, and what the engine keeps
// of it. Lowering (ops/custom.ts) and the registry (runtime/kernels.ts) both read these.
import type { DType } from '../graph/ir';
import { shaderOf, type Constants, type DeviceLimits, type Shader, type Uniforms } from './kernel';

/** An operand or result as a user kernel's functions see it. */
export interface TensorInfo {
  /** The tensor's dims, row-major and contiguous in its binding. */
  shape: number[];
  /**
   * Its element type: f32 and i32 values are held as such, bool values as one u32 word each. A user
   * kernel never meets f16 or bf16 operands: a node with a 16-bit weight refuses user variants.
   */
  dtype: DType;
}

/** What a user kernel's plan function gets. */
export interface PlanArgs {
  /** The op's operands, in order, each contiguous. */
  inputs: TensorInfo[];
  /** The result, bound as `out`: the shape and dtype the op's shape rule gave. */
  out: TensorInfo;
  /** The node's attributes: softmax's `dim`, layerNorm's `eps`, a custom op's attrs. */
  attrs: Record<string, unknown>;
  /** The device's limits, for a plan that sizes workgroups or folds its grid to fit them. */
  limits: DeviceLimits;
}

/** One dispatch: the grid in workgroups, the uniforms by WGSL member name, and the entry point. */
export interface UserDispatch {
  /**
   * Workgroups along x, y and z (a number is x alone; missing dims are 1). Each must be within the
   * device's maxComputeWorkgroupsPerDimension, or compile throws a LimitError: the engine does not
   * fold a user kernel's grid.
   */
  grid: number | [number, number?, number?];
  /** Values for the shader's uniform struct, by member name (none if the shader has no uniform). */
  uniforms?: Uniforms;
  /** The entry point for this node (default the definition's `entry`): e.g. one with a bias binding, one without. */
  entry?: string;
}

/** What rt.kernels.register takes. */
export interface KernelDefinition {
  /** The op: one of the engine's ('softmax', 'layerNorm', 'linear', ...) or a new op's name. */
  op: string;
  /** The variant's name, `user:` and a name of your own; forced with compile's `variants: { [op]: name }`. */
  name: string;
  /** WGSL source; the shared prelude (is_nan, tanh_safe, sigmoid, ...) is in front of it. */
  wgsl: string;
  /** The compute entry point (default 'main'). */
  entry?: string;
  /** Override constants. */
  constants?: Constants;
  /** Called at compile for each node the kernel runs: the dispatch for those shapes and attributes. */
  plan(args: PlanArgs): UserDispatch;
  // ---- a new op only ----
  /** Binding names of a new op's operands, in order (the result is always `out`). */
  operands?: string[];
  /** A new op's shape rule: the result's shape and dtype (default f32); throw to refuse the inputs. */
  shape?(inputs: TensorInfo[], attrs: Record<string, unknown>): {
    /** The result's dims. */
    shape: number[];
    /** The result's element type (default 'f32'). */
    dtype?: DType;
  };
  /** A new op's CPU reference, in float64: the result's values, row-major. */
  reference?(inputs: { data: Float64Array; shape: number[] }[], attrs: Record<string, unknown>): ArrayLike<number>;
}

/** A registered kernel, its shader made once. */
export interface UserKernel {
  def: KernelDefinition;
  shader: Shader;
}

export function userKernel(def: KernelDefinition): UserKernel {
  return { def, shader: shaderOf(def.name, def.wgsl) };
}
