// The shape of a user kernel (rt.kernels.register): what its author writes, and what the engine keeps
// of it. Lowering (ops/custom.ts) and the registry (runtime/kernels.ts) both read these.
import type { DType } from '../graph/ir';
import { shaderOf, type Constants, type DeviceLimits, type Shader, type Uniforms } from './kernel';

/** An operand or result as a user kernel's functions see it. */
export interface TensorInfo {
  shape: number[];
  dtype: DType;
}

/** What a user kernel's plan function gets. */
export interface PlanArgs {
  /** The op's operands, in order, each contiguous. */
  inputs: TensorInfo[];
  out: TensorInfo;
  /** The node's attributes: softmax's `dim`, layerNorm's `eps`, a custom op's attrs. */
  attrs: Record<string, unknown>;
  limits: DeviceLimits;
}

/** One dispatch: the grid in workgroups, the uniforms by WGSL member name, and the entry point. */
export interface UserDispatch {
  grid: number | [number, number?, number?];
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
  plan(args: PlanArgs): UserDispatch;
  // ---- a new op only ----
  /** Binding names of a new op's operands, in order (the result is always `out`). */
  operands?: string[];
  /** A new op's shape rule: the result's shape and dtype (default f32); throw to refuse the inputs. */
  shape?(inputs: TensorInfo[], attrs: Record<string, unknown>): { shape: number[]; dtype?: DType };
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
