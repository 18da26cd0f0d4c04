// embedding: a row gather on shaders/embedding.wgsl. Ids fed at run are range-checked before
// dispatch and constant ids at compile; ids computed in the graph raise the kernel's index flag.
import { ShapeError, fmtShape } from '../errors';
import { planEmbedding } from '../kernels/embedding';
import type { GraphLike, Tensor } from '../graph/ir';
import { numel } from '../graph/shapes';
import { embedding } from '../reference/embedding';
import type { OpTable } from './op';

/** torch.nn.functional.embedding: ids (i32, any shape) index rows of weight [num, dim]. */
export function buildEmbedding(g: GraphLike, ids: Tensor, weight: Tensor): Tensor {
  g.checkOwn('embedding', ids, weight);
  if (ids.dtype !== 'i32') throw new ShapeError(`embedding: ids must be i32, got ${ids.dtype} ${fmtShape(ids.shape)}`);
  if (weight.dtype !== 'f32' || weight.shape.length !== 2) {
    throw new ShapeError(`embedding: weight must be f32 [num, dim], got ${weight.dtype} ${fmtShape(weight.shape)}`);
  }
  return g.addNode({ op: 'embedding' }, [ids.id, weight.id], [...ids.shape, weight.shape[1]]);
}

export const embeddingOps: OpTable<'embedding'> = {
  embedding: {
    indices: (n, g) => [{ input: 0, what: 'ids', min: 0, max: g.nodes[n.inputs[1]].shape[0] - 1, computed: true }],
    lower(ctx, n) {
      const [num, dim] = ctx.graph.nodes[n.inputs[1]].shape;
      const flag = ctx.indexFlag(n, 0);
      const ids = ctx.dense(n, ctx.arg(n, 0));
      const w = ctx.dense(n, ctx.arg(n, 1));
      const plan = planEmbedding(numel(ids.shape), dim, num, flag?.flag ?? 0, ctx.overrides, ctx.limits);
      return ctx.emit(n, plan, { ids: ids.slot, weight: w.slot, flags: flag?.slot ?? 'dummy' }, 'y');
    },
    // Ids arrive checked, or screened (out of range -> -1, a zero row) when computed in the graph.
    reference: (_, [ids, w]) => embedding(ids, w, true),
  },
};
