// embedding: a row gather on shaders/embedding.wgsl. Ids fed at run are range-checked before
// dispatch and constant ids at compile; ids computed in the graph raise the kernel's index flag. A
// table past the binding limit is read in parts of whole rows, and a result past it is written in
// parts of whole rows: one dispatch per pair of parts. The table may be a 16-bit weight (f16, bf16);
// the result is f32.
import { ShapeError, fmtShape } from '../errors';
import { planEmbedding } from '../kernels/embedding';
import { isHalf, type GraphLike, type Tensor } from '../graph/ir';
import { isContiguous } from '../kernels/kernel';
import { weight16Mode, weightLabel } from '../kernels/weight16';
import { numel } from '../graph/shapes';
import { embedding } from '../reference/embedding';
import type { OpTable } from './op';

/** torch.nn.functional.embedding: ids (i32, any shape) index rows of weight [num, dim]. */
export function buildEmbedding(g: GraphLike, ids: Tensor, weight: Tensor): Tensor {
  g.checkOwn('embedding', ids);
  g.checkWeight('embedding', 'weight', weight);
  if (ids.dtype !== 'i32') throw new ShapeError(`embedding: ids must be i32, got ${ids.dtype} ${fmtShape(ids.shape)}`);
  if (weight.shape.length !== 2) {
    throw new ShapeError(`embedding: weight must be f32, f16 or bf16 [num, dim], got ${weight.dtype} ${fmtShape(weight.shape)}`);
  }
  return g.addNode({ op: 'embedding' }, [ids.id, weight.id], [...ids.shape, weight.shape[1]]);
}

export const embeddingOps: OpTable<'embedding'> = {
  embedding: {
    indices: (n, g) => [{ input: 0, what: 'ids', min: 0, max: g.nodes[n.inputs[1]].shape[0] - 1, computed: true }],
    lower(ctx, n) {
      const { shape: [num, dim], dtype } = ctx.graph.nodes[n.inputs[1]];
      const flag = ctx.indexFlag(n, 0);
      const ids = ctx.dense(n, ctx.arg(n, 0));
      const w = ctx.anyArg(n, 1);
      // A strided view of a 16-bit table would need a copy kernel that moves 16-bit values; none does.
      if (isHalf(dtype) && !w.big && !isContiguous(w)) {
        throw new ShapeError(`embedding: a ${dtype} weight must be a contiguous [num, dim] table, got a strided view ${fmtShape(w.shape)}`);
      }
      const w16 = weightLabel(dtype, weight16Mode('embedding', 'weight', dtype, ctx.overrides, ctx.limits));
      const count = numel(ids.shape);
      if (!w.big && ctx.fits(n.shape, n.dtype)) {
        const plan = planEmbedding(count, dim, num, flag?.flag ?? 0, ctx.overrides, ctx.limits, undefined, dtype);
        const out = ctx.temp(n);
        const bind = { ids: ids.slot, weight: ctx.dense(n, w).slot, flags: flag?.slot ?? 'dummy' as const, y: out.slot };
        ctx.step(`embedding#${n.id} ${fmtShape(n.shape)}${w16}`, plan, bind, [out.slot], numel(n.shape));
        return out;
      }
      const tables = (w.big ? ctx.parts('embedding', w, 0) : [{ start: 0, end: num, val: w }]).map((t) => ({ ...t, val: ctx.dense(n, t.val) }));
      const out = ctx.fits(n.shape, n.dtype) ? ctx.temp(n) : ctx.splitResult(n, ctx.rowLayout(n));
      // A row of the result's layout in parts is a whole number of embedding rows (dim values each).
      const per = out.big ? out.big.split!.inner / dim : count;
      const outs = out.big ? out.big.split!.parts.map((p) => ({ start: p.start * per, end: p.end * per, slot: p.slot })) : [{ start: 0, end: count, slot: out.slot }];
      for (const o of outs) {
        for (const t of tables) {
          const plan = planEmbedding(o.end - o.start, dim, num, flag?.flag ?? 0, ctx.overrides, ctx.limits, {
            rowStart: t.start, rows: t.end - t.start, outRow: o.start,
          }, dtype);
          const label = `embedding#${n.id} ${fmtShape(n.shape)} rows ${o.start}..${o.end - 1} from table rows ${t.start}..${t.end - 1}${w16}`;
          ctx.step(label, plan, { ids: ids.slot, weight: t.val.slot, y: o.slot, flags: flag?.slot ?? 'dummy' }, [o.slot], (o.end - o.start) * dim);
        }
      }
      return out;
    },
    // Ids arrive checked, or screened (out of range -> -1, a zero row) when computed in the graph.
    reference: (_, [ids, w]) => embedding(ids, w, true),
  },
};
