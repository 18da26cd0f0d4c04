// Lowers gelu (an elementwise op), layerNorm and embedding. Embedding ids fed at run are recorded
// for a CPU range check before dispatch; constant ids are checked here, at compile; ids computed in
// the graph raise a flag on the GPU that the run reads back.
import { planElementwise } from '../kernels/elementwise';
import { planEmbedding, planLayerNorm } from '../kernels/norm';
import { rangeCheck } from './lower-data';
import type { GraphNode, NodeOf } from './graph';
import type { LowerCtx, Val } from './planner';
import { numel } from './shapes';

export function lowerGelu(ctx: LowerCtx, n: GraphNode<NodeOf<'gelu'>>): Val {
  const op = n.node.approximate === 'tanh' ? 'gelu_tanh' : 'gelu';
  const x = ctx.arg(n, 0);
  return ctx.emit(n, planElementwise(op, [x], n.shape, ctx.overrides, ctx.limits), { 1: x.slot }, 3);
}

export function lowerLayerNorm(ctx: LowerCtx, n: GraphNode<NodeOf<'layerNorm'>>): Val {
  const { normalized, eps, hasWeight, hasBias } = n.node;
  const x = ctx.dense(n, ctx.arg(n, 0));
  const w = hasWeight ? ctx.dense(n, ctx.arg(n, 1)).slot : 'dummy';
  const b = hasBias ? ctx.dense(n, ctx.arg(n, hasWeight ? 2 : 1)).slot : 'dummy';
  const rows = normalized === 0 ? 0 : numel(n.shape) / normalized;
  const plan = planLayerNorm(rows, normalized, eps, hasWeight, hasBias, ctx.overrides, ctx.limits);
  return ctx.emit(n, plan, { 1: x.slot, 2: w, 3: b }, 4);
}

export function lowerEmbedding(ctx: LowerCtx, n: GraphNode<NodeOf<'embedding'>>): Val {
  const [num, dim] = ctx.graph.nodes[n.inputs[1]].shape;
  const flag = rangeCheck(ctx, n, 0, 'embedding', 'ids', 0, num - 1, true);
  const ids = ctx.dense(n, ctx.arg(n, 0));
  const w = ctx.dense(n, ctx.arg(n, 1));
  const plan = planEmbedding(numel(ids.shape), dim, num, flag?.flag ?? 0, ctx.overrides, ctx.limits);
  return ctx.emit(n, plan, { 1: ids.slot, 2: w.slot, 4: flag?.slot ?? 'dummy' }, 3);
}
