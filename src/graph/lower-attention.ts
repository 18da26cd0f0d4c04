// Lowers scaledDotProductAttention to shaders/attention.wgsl (see src/kernels/attention.ts): one
// dispatch reading q, k, v and the mask through their views, so transposes and broadcasts cost no copy.
import { planAttention } from '../kernels/attention';
import type { GraphNode, NodeOf } from './graph';
import type { LowerCtx, Val } from './planner';

export function lowerAttention(ctx: LowerCtx, n: GraphNode<NodeOf<'attention'>>): Val {
  const { scale, isCausal, mask: maskKind } = n.node;
  const q = ctx.arg(n, 0), k = ctx.arg(n, 1), v = ctx.arg(n, 2);
  const mask = maskKind !== 'none' ? ctx.arg(n, 3) : undefined;
  const batch = n.shape.slice(0, -2);
  const plan = planAttention({ q, k, v, mask, maskKind, isCausal, scale, batch }, ctx.overrides, ctx.limits);
  return ctx.emit(n, plan, { 1: q.slot, 2: k.slot, 3: v.slot, 4: mask ? mask.slot : 'dummy' }, 5);
}
