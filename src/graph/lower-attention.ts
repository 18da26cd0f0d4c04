// Lowers scaledDotProductAttention to shaders/attention.wgsl (see src/kernels/attention.ts).
import { ShapeError } from '../errors';
import type { GraphNode, NodeOf } from './graph';
import type { LowerCtx, Val } from './planner';

export function lowerAttention(_ctx: LowerCtx, n: GraphNode<NodeOf<'attention'>>): Val {
  throw new ShapeError(`scaledDotProductAttention#${n.id}: no GPU kernel yet`);
}
