// torch.where(condition, input, other) and Tensor.masked_fill(mask, value) (elementwise.ts's
// framework): the condition and the mask must be bool; all operands broadcast. where's result has
// the promoted dtype of input and other; masked_fill's keeps input's, the value converted to it as
// cast does (toward zero for i32, saturating).
import { ShapeError, fmtShape } from '../errors';
import type { DType, GraphLike, Tensor } from '../graph/ir';
import { f32ToI32 } from '../reference/elementwise';
import { buildElementwise, elementwiseOp, lowerElementwise, promoted, referenceElementwise, type ElementwiseDef } from './elementwise';
import type { OpTable } from './op';

const SOURCE = 'src/ops/where.ts';
const SELECT = 'select(z, y, x)';

export const WHERE: ElementwiseDef = {
  operands: ['condition', 'input', 'other'], loads: ['mask', 'T', 'T'], result: promoted, source: SOURCE,
  wgsl: { f32: SELECT, i32: SELECT, bool: SELECT }, ref: ([c, x, y]) => (c ? x : y),
};

const MASKED_FILL: ElementwiseDef = {
  operands: ['input', 'mask'], loads: ['T', 'mask'], result: promoted, source: SOURCE,
  wgsl: { f32: 'select(x, s, y)', i32: 'select(x, s, y)', bool: 'select(x, s, y)' }, ref: ([x, m], _, s) => (m ? s : x),
};

/** masked_fill's value as a number of dtype `dt`. */
function fillValue(value: number, dt: DType): number {
  if (dt === 'f32') return Math.fround(value);
  if (dt === 'bool') return value !== 0 ? 1 : 0;
  return Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 ? value : f32ToI32(value);
}

export function buildMaskedFill(g: GraphLike, x: Tensor, mask: Tensor, value: number): Tensor {
  if (typeof value !== 'number') {
    throw new ShapeError(`maskedFill: value must be a number, got ${typeof value} (input ${x?.dtype} ${x ? fmtShape(x.shape) : ''})`);
  }
  return buildElementwise(g, 'maskedFill', MASKED_FILL, [x, mask], { op: 'maskedFill', value });
}

export const whereOps: OpTable<'where' | 'maskedFill'> = {
  where: elementwiseOp(WHERE),
  maskedFill: {
    lower: (ctx, n) => lowerElementwise(ctx, n, MASKED_FILL, fillValue(n.node.value, n.dtype)),
    reference: (n, args, env) => referenceElementwise(n, MASKED_FILL, args, env, fillValue(n.node.value, n.dtype)),
    operands: () => ['x', 'mask'],
  },
};
