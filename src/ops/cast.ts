// Tensor.to(dtype) (elementwise.ts's framework): f32 -> i32 truncates toward zero, NaN gives 0 and
// values past i32's range saturate (torch leaves both undefined); to bool is != 0 (NaN is true);
// bool gives 0 or 1; i32 -> f32 rounds to the nearest f32. The conversion is the load itself.
import { ShapeError } from '../errors';
import { DTYPES, type DType, type GraphLike, type Tensor } from '../graph/ir';
import { buildElementwise, elementwiseOp, type ElementwiseDef } from './elementwise';
import type { OpTable } from './op';

export const CAST: ElementwiseDef = {
  operands: ['input'], source: 'src/ops/cast.ts',
  result: (_, to) => ({ T: to!, out: to! }),
  wgsl: { f32: 'x', i32: 'x', bool: 'x' }, ref: ([x]) => x,
};

export function buildCast(g: GraphLike, x: Tensor, dtype: DType): Tensor {
  if (!DTYPES.includes(dtype)) throw new ShapeError(`cast: unknown dtype '${dtype}'; the dtypes are ${DTYPES.join(', ')}`);
  return buildElementwise(g, 'cast', CAST, [x], { op: 'cast' }, dtype);
}

export const castOps: OpTable<'cast'> = { cast: elementwiseOp(CAST) };
