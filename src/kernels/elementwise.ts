// Plans shaders/elementwise.wgsl: unary and binary maps over strided, broadcast inputs, and the
// strided copy that makes a view contiguous.
import type { Binary, Unary } from '../graph/ir';
import { broadcastStrides, contiguousStrides, numel } from '../graph/shapes';
import code from '../../shaders/elementwise.wgsl?raw';
import { LimitError, fmtShape } from '../errors';
import { collapseDims, foldGrid, pickConstants, shaderOf, type DeviceLimits, type KernelOverrides, type KernelPlan, type View } from './kernel';

export const elementwiseShader = shaderOf('shaders/elementwise.wgsl', code);

export const OP_CODE: Record<'copy' | Unary | Binary | 'gelu' | 'gelu_tanh', number> = {
  copy: 0, relu: 1, tanh: 2, sigmoid: 3, gelu: 4, gelu_tanh: 5, add: 10, sub: 11, mul: 12, div: 13,
};

const MAX_RANK = 8;

/** out (contiguous, `outShape`) = op(inputs...), each input read through its view, broadcast to outShape. */
export function planElementwise(
  op: keyof typeof OP_CODE,
  inputs: View[],
  outShape: number[],
  overrides: KernelOverrides | undefined,
  limits: DeviceLimits,
): KernelPlan {
  const outStrides = contiguousStrides(outShape);
  const strideSets = inputs.map((v) => broadcastStrides(v.shape, v.strides, outShape));
  const strided = strideSets.some((s) => s.some((x, i) => outShape[i] !== 1 && x !== outStrides[i]));
  const c = collapseDims(outShape, [outStrides, ...strideSets]);
  if (c.shape.length > MAX_RANK) {
    throw new LimitError(`${op}: output ${fmtShape(outShape)} needs ${c.shape.length} index dims; the kernel indexes ${MAX_RANK}`);
  }
  const padTo8 = (v: number[]) => [...v, ...new Array(MAX_RANK - v.length).fill(0)];
  const constants = pickConstants('elementwise', { WG: 256 }, overrides);
  Object.assign(constants, { OP: OP_CODE[op], STRIDED: strided });
  const n = numel(outShape);
  return {
    shader: elementwiseShader,
    entry: inputs.length === 1 ? 'unary_main' : 'binary_main',
    constants,
    variant: strided ? 'strided' : 'contiguous',
    grid: foldGrid(op, Math.ceil(n / Number(constants.WG)), limits),
    uniforms: {
      numel: n,
      rank: c.shape.length,
      shape: padTo8(c.shape),
      strideA: padTo8(c.strides[1]),
      strideB: padTo8(c.strides[2] ?? []),
    },
  };
}
