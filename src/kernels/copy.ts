// Plans shaders/copy.wgsl: strided copies between views (slice, concat, assign) and torch.gather.
import { LimitError, fmtShape } from '../errors';
import { numel } from '../graph/shapes';
import code from '../../shaders/copy.wgsl?raw';
import { collapseDims, foldGrid, pickConstants, shaderOf, type DeviceLimits, type KernelOverrides, type KernelPlan, type View } from './kernel';

export const copyShader = shaderOf('shaders/copy.wgsl', code);
const MAX_RANK = 8;
const pad8 = (v: number[]) => [...v, ...new Array(MAX_RANK - v.length).fill(0)];

export interface StridedCopy {
  shape: number[];
  src: View & { base: number };
  dst: View & { base: number };
  /** A fed position: offset[0] * stride is added to the dst (or src) base. */
  dynamic?: { stride: number; toDst: boolean };
}

export function planStridedCopy(op: string, c: StridedCopy, overrides: KernelOverrides | undefined, limits: DeviceLimits): KernelPlan {
  const k = collapseDims(c.shape, [c.src.strides, c.dst.strides]);
  if (k.shape.length > MAX_RANK) throw new LimitError(`${op}: ${fmtShape(c.shape)} needs ${k.shape.length} index dims; the copy kernel indexes ${MAX_RANK}`);
  const constants = pickConstants('copy', { WG: 256 }, overrides);
  Object.assign(constants, { DYN: !!c.dynamic, DYN_DST: c.dynamic?.toDst ?? true });
  const n = numel(c.shape);
  return {
    shader: copyShader, entry: 'strided_copy', constants, variant: c.dynamic ? 'dynamic-offset' : 'static',
    grid: foldGrid(op, Math.ceil(n / Number(constants.WG)), limits),
    uniforms: {
      numel: n, rank: k.shape.length, srcBase: c.src.base, dstBase: c.dst.base, dynStride: c.dynamic?.stride ?? 0,
      shape: pad8(k.shape), srcStride: pad8(k.strides[0]), dstStride: pad8(k.strides[1]),
    },
  };
}

/** Which rows (dim 0) of a gather's x this dispatch holds. */
export interface GatherPart {
  /** x rows [rowStart, rowStart + x.shape[0]) are bound as src; dimSize is the whole x's size along dim. */
  rowStart: number;
  dimSize: number;
}

/**
 * torch.gather: x through its view, index contiguous i32 of the output's shape. `flag`: 0 when the
 * indices were range-checked before dispatch, else the flag an index out of range raises. `part`:
 * default, the whole x.
 */
export function planGather(
  x: View, dim: number, indexShape: number[], flag: number, overrides: KernelOverrides | undefined, limits: DeviceLimits,
  part: GatherPart = { rowStart: 0, dimSize: x.shape[dim] },
): KernelPlan {
  if (indexShape.length > MAX_RANK) throw new LimitError(`gather: rank ${indexShape.length} > ${MAX_RANK}`);
  const constants = pickConstants('copy', { WG: 256 }, overrides);
  const n = numel(indexShape);
  const idxStrides: number[] = [];
  let acc = 1;
  for (let d = indexShape.length - 1; d >= 0; d--) {
    idxStrides[d] = acc;
    acc *= indexShape[d];
  }
  return {
    shader: copyShader, entry: 'gather_main', constants, variant: 'gather',
    grid: foldGrid('gather', Math.ceil(n / Number(constants.WG)), limits),
    uniforms: {
      numel: n, rank: indexShape.length, dim, dimSize: part.dimSize, flag, rowStart: part.rowStart, rows: x.shape[0],
      shape: pad8(indexShape), srcStride: pad8(x.strides), dstStride: pad8(idxStrides),
    },
  };
}
