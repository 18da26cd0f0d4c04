// matmul and linear: builders with torch's shape rules, lowering to shaders/matmul.wgsl with the
// node's epilogue (bias, activation, residual: see graph/fuse.ts), and the float64 reference.
import { ShapeError, fmtShape } from '../errors';
import { isContiguous, type View } from '../kernels/kernel';
import { ACT, matmulBind, planMatmul } from '../kernels/matmul';
import type { GraphLike, GraphNode, NodeOf, Tensor } from '../graph/ir';
import type { LowerCtx, Val } from '../graph/lower-ctx';
import { broadcastShapes, numel } from '../graph/shapes';
import type { Value } from '../reference/core';
import { ACTIVATION_REF, mapBroadcast } from '../reference/elementwise';
import { linear, matmul } from '../reference/matmul';
import type { OpTable } from './op';

/** torch.matmul for rank >= 2: [..., M, K] x [..., K, N] -> [..., M, N], batch dims broadcast. */
export function buildMatmul(g: GraphLike, a: Tensor, b: Tensor): Tensor {
  g.checkF32('matmul', a, b);
  const as = a.shape, bs = b.shape;
  if (as.length < 2 || bs.length < 2) {
    throw new ShapeError(`matmul: both operands need rank >= 2, got ${fmtShape(as)} and ${fmtShape(bs)}`);
  }
  const [m, k] = as.slice(-2), [k2, n] = bs.slice(-2);
  if (k !== k2) throw new ShapeError(`matmul: ${fmtShape(as)} x ${fmtShape(bs)}: inner dims differ (a[-1] = ${k}, b[-2] = ${k2})`);
  const batch = broadcastShapes('matmul (batch dims)', as.slice(0, -2), bs.slice(0, -2));
  return g.addNode({ op: 'matmul', act: 'none', residual: false }, [a.id, b.id], [...batch, m, n]);
}

/** torch.nn.functional.linear: x [..., in] . weight[out, in]^T + bias[out]. */
export function buildLinear(g: GraphLike, x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  g.checkF32('linear', x, weight, ...(bias ? [bias] : []));
  const xs = x.shape, ws = weight.shape;
  if (xs.length < 1 || ws.length !== 2) throw new ShapeError(`linear: x ${fmtShape(xs)} needs rank >= 1 and weight ${fmtShape(ws)} rank 2`);
  if (xs[xs.length - 1] !== ws[1]) {
    throw new ShapeError(`linear: x ${fmtShape(xs)} has ${xs[xs.length - 1]} features but weight ${fmtShape(ws)} expects ${ws[1]}`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== ws[0])) {
    throw new ShapeError(`linear: bias ${fmtShape(bias.shape)} must be [${ws[0]}] for weight ${fmtShape(ws)}`);
  }
  const inputs = bias ? [x.id, weight.id, bias.id] : [x.id, weight.id];
  return g.addNode({ op: 'linear', hasBias: !!bias, act: 'none', residual: false }, inputs, [...xs.slice(0, -1), ws[0]]);
}

type MatmulNode = GraphNode<NodeOf<'matmul'> | NodeOf<'linear'>>;

/** One dispatch: C = epilogue(A·B (+ bias)), with the activation and residual the fusion pass folded in. */
function lowerMatmul(ctx: LowerCtx, n: MatmulNode, a: View & { slot: number }, b: View & { slot: number }, bias?: Val): Val {
  const { act, residual } = n.node;
  const plan = planMatmul({ a, b, hasBias: !!bias, act: ACT[act] }, ctx.overrides, ctx.limits);
  const res = residual ? ctx.dense(n, ctx.arg(n, n.inputs.length - 1)) : undefined;
  plan.constants.HAS_RES = !!res;
  const out = ctx.temp(n);
  const label = `${n.node.op}#${n.id} ${fmtShape(n.shape)}${act === 'none' ? '' : ` +${act}`}${res ? ' +residual' : ''}`;
  const bind = matmulBind(a.slot, b.slot, out.slot, bias?.slot, undefined, res?.slot);
  ctx.step(label, plan, bind, [out.slot], numel(n.shape));
  return out;
}

/** The reference of a fused node: the epilogue applied to the plain product, in torch's order. */
function epilogue(n: MatmulNode, y: Value, args: Value[]): Value {
  const act = n.node.act;
  if (act !== 'none') y = mapBroadcast([y], ([v]) => ACTIVATION_REF[act](v));
  return n.node.residual ? mapBroadcast([y, args[args.length - 1]], ([v, r]) => v + r) : y;
}

export const matmulOps: OpTable<'matmul' | 'linear'> = {
  matmul: {
    lower: (ctx, n) => lowerMatmul(ctx, n, { ...ctx.arg(n, 0) }, { ...ctx.arg(n, 1) }),
    reference: (n, args) => epilogue(n, matmul(args[0], args[1]), args),
    operands: () => ['a', 'b'],
  },
  linear: {
    lower(ctx, n) {
      const x = ctx.arg(n, 0), w = ctx.arg(n, 1);
      const k = w.shape[1];
      // A contiguous x folds all leading dims into M, so tiles span the whole batch.
      const a = isContiguous(x) || x.shape.length === 1 ? { slot: x.slot, shape: [numel(x.shape.slice(0, -1)), k], strides: [k, 1] } : x;
      const b = { slot: w.slot, shape: [k, w.shape[0]], strides: [w.strides[1], w.strides[0]] };
      return lowerMatmul(ctx, n, a, b, n.node.hasBias ? ctx.arg(n, 2) : undefined);
    },
    reference: (n, args) => epilogue(n, linear(args[0], args[1], n.node.hasBias ? args[2] : undefined), args),
    operands: (n) => ['x', 'weight', ...(n.node.hasBias ? ['bias'] : [])],
  },
};
