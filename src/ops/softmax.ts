// softmax along one dim, on shaders/softmax.wgsl (a workgroup or a thread per row: kernels/softmax.ts).
import { ShapeError } from '../errors';
import { planSoftmax } from '../kernels/softmax';
import type { GraphLike, Tensor } from '../graph/ir';
import { normDim } from '../graph/shapes';
import { softmax } from '../reference/softmax';
import type { OpTable } from './op';

/** Stable softmax along `dim` (default the last). */
export function buildSoftmax(g: GraphLike, x: Tensor, dim: number): Tensor {
  g.checkF32('softmax', x);
  const s = x.shape;
  if (s.length === 0) throw new ShapeError('softmax: needs rank >= 1, got a scalar []');
  return g.addNode({ op: 'softmax', dim: normDim('softmax', dim, s.length, s) }, [x.id], s);
}

export const softmaxOps: OpTable<'softmax'> = {
  softmax: {
    lower(ctx, n) {
      const x = ctx.dense(n, ctx.arg(n, 0));
      return ctx.emit(n, planSoftmax(n.shape, n.node.dim, ctx.overrides, ctx.limits), { x: x.slot }, 'y');
    },
    reference: (n, [x]) => softmax(x, n.node.dim),
    operands: () => ['x'],
  },
};
