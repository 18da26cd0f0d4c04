// layerNorm over the trailing dims, on shaders/layernorm.wgsl (a workgroup or a thread per row).
import { ShapeError, fmtShape } from '../errors';
import { planLayerNorm } from '../kernels/layernorm';
import type { GraphLike, Tensor } from '../graph/ir';
import { numel } from '../graph/shapes';
import { layerNorm } from '../reference/layernorm';
import type { OpTable } from './op';

/** torch.nn.functional.layer_norm over the trailing `normalizedShape` dims. */
export function buildLayerNorm(g: GraphLike, x: Tensor, normalizedShape: number[], weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  const op = 'layerNorm';
  g.checkF32(op, x, ...(weight ? [weight] : []), ...(bias ? [bias] : []));
  const xs = x.shape, ns = normalizedShape;
  if (!Array.isArray(ns) || ns.length === 0 || ns.length > xs.length || fmtShape(xs.slice(-ns.length)) !== fmtShape(ns)) {
    throw new ShapeError(`${op}: normalizedShape ${JSON.stringify(ns)} is not the trailing dims of x ${fmtShape(xs)}`);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && fmtShape(t.shape) !== fmtShape(ns)) throw new ShapeError(`${op}: ${name} ${fmtShape(t.shape)} must be ${fmtShape(ns)}`);
  }
  if (!(eps >= 0)) throw new ShapeError(`${op}: eps must be >= 0, got ${eps}`);
  const inputs = [x.id, ...(weight ? [weight.id] : []), ...(bias ? [bias.id] : [])];
  return g.addNode({ op: 'layerNorm', normalized: numel(ns), eps, hasWeight: !!weight, hasBias: !!bias }, inputs, xs);
}

export const layernormOps: OpTable<'layerNorm'> = {
  layerNorm: {
    operands: (n) => ['x', ...(n.node.hasWeight ? ['weight'] : []), ...(n.node.hasBias ? ['bias'] : [])],
    lower(ctx, n) {
      const { normalized, eps, hasWeight, hasBias } = n.node;
      const x = ctx.dense(n, ctx.arg(n, 0));
      const w = hasWeight ? ctx.dense(n, ctx.arg(n, 1)).slot : 'dummy';
      const b = hasBias ? ctx.dense(n, ctx.arg(n, hasWeight ? 2 : 1)).slot : 'dummy';
      const rows = normalized === 0 ? 0 : numel(n.shape) / normalized;
      const plan = planLayerNorm(rows, normalized, eps, hasWeight, hasBias, ctx.overrides, ctx.limits);
      return ctx.emit(n, plan, { x: x.slot, weight: w, bias: b }, 'y');
    },
    reference(n, args) {
      const { normalized, eps, hasWeight, hasBias } = n.node;
      return layerNorm(args[0], normalized, eps, hasWeight ? args[1] : undefined, hasBias ? args[hasWeight ? 2 : 1] : undefined);
    },
  },
};
