// Lowers gelu, layerNorm and embedding.
import { ShapeError } from '../errors';
import type { GraphNode, NodeOf } from './graph';
import type { LowerCtx, Val } from './planner';

export function lowerGelu(_ctx: LowerCtx, n: GraphNode<NodeOf<'gelu'>>): Val {
  throw new ShapeError(`gelu#${n.id}: todo`);
}
export function lowerLayerNorm(_ctx: LowerCtx, n: GraphNode<NodeOf<'layerNorm'>>): Val {
  throw new ShapeError(`layerNorm#${n.id}: todo`);
}
export function lowerEmbedding(_ctx: LowerCtx, n: GraphNode<NodeOf<'embedding'>>): Val {
  throw new ShapeError(`embedding#${n.id}: todo`);
}
