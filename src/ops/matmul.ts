// matmul and linear: builders with torch's shape rules, lowering to shaders/matmul.wgsl with the
// node's epilogue (bias, activation, residual: see graph/fuse.ts), and the float64 reference. A
// weight past the binding limit (the LM head) is read in parts of whole output columns, one
// dispatch per block of columns; a result past it is written in parts of whole columns too. B (the
// weight) may be a 16-bit constant (f16, bf16): the kernel reads it as such and accumulates in f32.
import { LimitError, ShapeError, fmtShape } from '../errors';
import { isContiguous } from '../kernels/kernel';
import { transposeVal } from '../graph/lower-ctx';
import { ACT, matmulBind, planMatmul } from '../kernels/matmul';
import { isHalf, type GraphLike, type GraphNode, type NodeOf, type Tensor } from '../graph/ir';
import { weight16Mode, weightLabel } from '../kernels/weight16';
import type { LowerCtx, Part, Val } from '../graph/lower-ctx';
import { broadcastShapes, numel } from '../graph/shapes';
import type { Value } from '../reference/core';
import { ACTIVATION_REF, mapBroadcast } from '../reference/elementwise';
import { linear, matmul } from '../reference/matmul';
import type { OpTable } from './op';

/** torch.matmul for rank >= 2: [..., M, K] x [..., K, N] -> [..., M, N], batch dims broadcast. */
export function buildMatmul(g: GraphLike, a: Tensor, b: Tensor): Tensor {
  g.checkF32('matmul', a);
  g.checkWeight('matmul', 'b', b);
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
  g.checkF32('linear', x);
  g.checkWeight('linear', 'weight', weight);
  if (bias) {
    if (isHalf(bias?.dtype)) throw new ShapeError(`linear: bias must be f32, got the 16-bit weight ${bias.dtype} ${fmtShape(bias.shape)} (biases stay f32)`);
    g.checkF32('linear', bias);
  }
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

/**
 * C = epilogue(A·B (+ bias)), with the activation and residual the fusion pass folded in: one
 * dispatch, or one per block of columns when B, the bias or C is held in parts.
 */
function lowerMatmul(ctx: LowerCtx, n: MatmulNode, a: Val, b: Val, bias?: Val): Val {
  const { act, residual } = n.node;
  const r = n.inputs.length - 1;
  if (residual && ctx.anyArg(n, r).big) {
    // The residual has the result's shape, so this is also the case of a result in parts.
    const t = ctx.graph.nodes[n.inputs[r]];
    throw new LimitError(
      `add (fused into ${n.node.op}#${n.id}): operand f32 ${fmtShape(t.shape)} needs a ${4 * numel(t.shape)}-byte buffer; the device ` +
        `binds at most ${ctx.maxBytes} bytes, and add takes no operand in parts`,
    );
  }
  const res = residual ? ctx.dense(n, ctx.arg(n, r)) : undefined;
  const bDtype = ctx.graph.nodes[n.inputs[1]].dtype;
  const w16 = weightLabel(bDtype, weight16Mode(n.node.op, n.node.op === 'linear' ? 'weight' : 'b', bDtype, ctx.overrides, ctx.limits));
  const label = `${n.node.op}#${n.id} ${fmtShape(n.shape)}${act === 'none' ? '' : ` +${act}`}${res ? ' +residual' : ''}${w16}`;
  const N = n.shape[n.shape.length - 1], rows = numel(n.shape) / N;
  const outFits = ctx.fits(n.shape, n.dtype);
  if (!b.big && !bias?.big && outFits) {
    const plan = planMatmul({ a, b, hasBias: !!bias, act: ACT[act], bDtype }, ctx.overrides, ctx.limits);
    plan.constants.HAS_RES = !!res;
    const out = ctx.temp(n);
    ctx.step(label, plan, matmulBind(a.slot, b.slot, out.slot, bias?.slot, undefined, res?.slot), [out.slot], numel(n.shape));
    return out;
  }
  const whole = (v: Val): Part[] => [{ start: 0, end: N, val: v }];
  const bParts = b.big ? ctx.parts(n.node.op, b, b.shape.length - 1) : whole(b);
  const biasParts = !bias ? [] : bias.big ? ctx.parts(n.node.op, bias, 0) : whole(bias);
  const out = outFits ? ctx.temp(n) : ctx.splitResult(n, { outer: rows, len: N, inner: 1 });
  const outParts = out.big ? out.big.split!.parts.map((p) => ({ start: p.start, end: p.end, val: { ...out, slot: p.slot } })) : whole(out);
  // Every dispatch covers columns [s, e) that lie in one part of each of B, the bias and C.
  const cuts = [...new Set([...bParts, ...biasParts, ...outParts].map((p) => p.start))].sort((x, y) => x - y);
  const at = (parts: Part[], s: number) => parts.find((p) => p.start <= s && s < p.end)!;
  cuts.forEach((s, i) => {
    const e = cuts[i + 1] ?? N;
    const bp = at(bParts, s), cp = at(outParts, s), biasPart = bias ? at(biasParts, s) : undefined;
    const last = bp.val.shape.length - 1;
    const bView = { shape: [...bp.val.shape.slice(0, -1), e - s], strides: bp.val.strides };
    const plan = planMatmul({
      a, b: bView, hasBias: !!bias, act: ACT[act], bDtype,
      out: { offset: s - cp.start, rowStride: cp.end - cp.start },
      offsets: { b: (s - bp.start) * bp.val.strides[last], bias: biasPart ? s - biasPart.start : 0 },
    }, ctx.overrides, ctx.limits);
    plan.constants.HAS_RES = !!res;
    const bind = matmulBind(a.slot, bp.val.slot, cp.val.slot, biasPart?.val.slot, undefined, res?.slot);
    ctx.step(`${label} columns ${s}..${e - 1}`, plan, bind, [cp.val.slot], rows * (e - s));
  });
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
    lower: (ctx, n) => lowerMatmul(ctx, n, { ...ctx.arg(n, 0) }, { ...ctx.anyArg(n, 1) }),
    reference: (n, args) => epilogue(n, matmul(args[0], args[1]), args),
    operands: () => ['a', 'b'],
  },
  linear: {
    lower(ctx, n) {
      const x = ctx.arg(n, 0), w = ctx.anyArg(n, 1);
      const k = w.shape[1];
      // A contiguous x folds all leading dims into M, so tiles span the whole batch.
      const a = isContiguous(x) || x.shape.length === 1 ? { slot: x.slot, shape: [numel(x.shape.slice(0, -1)), k], strides: [k, 1] } : x;
      return lowerMatmul(ctx, n, a, transposeVal(w, 0, 1), n.node.hasBias ? ctx.anyArg(n, 2) : undefined);
    },
    reference: (n, args) => epilogue(n, linear(args[0], args[1], n.node.hasBias ? args[2] : undefined), args),
    operands: (n) => ['x', 'weight', ...(n.node.hasBias ? ['bias'] : [])],
  },
};
