// The elementwise family on shaders/elementwise.wgsl: add, sub, mul, div (torch broadcasting), relu,
// tanh, sigmoid and gelu. Operands are read through their views, so a transpose or a broadcast costs
// no copy. An activation straight after a matmul is folded into it by graph/fuse.ts instead.
import { ShapeError } from '../errors';
import { planElementwise } from '../kernels/elementwise';
import type { Binary, GraphLike, GraphNode, Tensor, Unary } from '../graph/ir';
import type { Bind, LowerCtx, Val } from '../graph/lower-ctx';
import { broadcastShapes } from '../graph/shapes';
import { binary, gelu, unary } from '../reference/elementwise';
import type { OpDef, OpTable } from './op';

export function buildBinary(g: GraphLike, op: Binary, a: Tensor, b: Tensor): Tensor {
  g.checkF32(op, a, b);
  return g.addNode({ op }, [a.id, b.id], broadcastShapes(op, a.shape, b.shape));
}

export function buildUnary(g: GraphLike, op: Unary, x: Tensor): Tensor {
  g.checkF32(op, x);
  return g.addNode({ op }, [x.id], x.shape);
}

/** torch.nn.functional.gelu: exact (erf) or the tanh approximation. */
export function buildGelu(g: GraphLike, x: Tensor, approximate: 'none' | 'tanh'): Tensor {
  g.checkF32('gelu', x);
  if (approximate !== 'none' && approximate !== 'tanh') throw new ShapeError(`gelu: approximate must be 'none' or 'tanh', got '${approximate}'`);
  return g.addNode({ op: 'gelu', approximate }, [x.id], x.shape);
}

/** One dispatch over n's shape; `fn` is the shader's op (elementwise.wgsl OP). */
function lowerMap(ctx: LowerCtx, n: GraphNode, fn: Parameters<typeof planElementwise>[0]): Val {
  const args = n.inputs.map((_, i) => ctx.arg(n, i));
  const bind: Bind = args.length === 1 ? { a: args[0].slot } : { a: args[0].slot, b: args[1].slot };
  return ctx.emit(n, planElementwise(fn, args, n.shape, ctx.overrides, ctx.limits), bind);
}

const binaryOp = <K extends Binary>(op: K): OpDef<K> => ({
  lower: (ctx, n) => lowerMap(ctx, n, op),
  reference: (_, [a, b]) => binary(op, a, b),
});

const unaryOp = <K extends Unary>(op: K): OpDef<K> => ({
  lower: (ctx, n) => lowerMap(ctx, n, op),
  reference: (_, [x]) => unary(op, x),
});

export const elementwiseOps: OpTable<Binary | Unary | 'gelu'> = {
  add: binaryOp('add'),
  sub: binaryOp('sub'),
  mul: binaryOp('mul'),
  div: binaryOp('div'),
  relu: unaryOp('relu'),
  tanh: unaryOp('tanh'),
  sigmoid: unaryOp('sigmoid'),
  gelu: {
    lower: (ctx, n) => lowerMap(ctx, n, n.node.approximate === 'tanh' ? 'gelu_tanh' : 'gelu'),
    reference: (n, [x]) => gelu(x, n.node.approximate),
  },
};
