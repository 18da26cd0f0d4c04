// Lowers the recurrent stacks (lstm, gru, rnn) to shaders/lstm.wgsl, gru.wgsl and rnn.wgsl.
import { ShapeError } from '../errors';
import type { GraphNode, NodeOf } from './graph';
import type { LowerCtx, Val } from './planner';

export function lowerRnn(_ctx: LowerCtx, n: GraphNode<NodeOf<'rnn'>>): Val[] {
  throw new ShapeError(`${n.node.cell}#${n.id}: no GPU kernel yet`);
}
