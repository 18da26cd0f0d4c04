// Lowers state, assign, slice, concat and gather to shaders/copy.wgsl. Positions and indices fed at
// run are recorded for a CPU range check before dispatch.
import { ShapeError, fmtShape } from '../errors';
import { planGather, planStridedCopy } from '../kernels/copy';
import { checkRange } from '../reference/data';
import type { GraphNode, NodeOf } from './graph';
import { contiguous, type LowerCtx, type Val } from './planner';
import { contiguousStrides, numel } from './shapes';

/**
 * Records a range check on the input (through views) that feeds node input `i`, or checks a constant
 * now. An index computed in the graph cannot be checked before dispatch: with `computed` allowed it
 * gets a GPU flag (see LowerCtx.flag), else it is a ShapeError.
 */
export function rangeCheck(
  ctx: LowerCtx, n: GraphNode, i: number, op: string, what: string, min: number, max: number, computed = false,
): { slot: number; flag: number } | undefined {
  let src = ctx.graph.nodes[n.inputs[i]];
  while (src.node.op === 'reshape' || src.node.op === 'transpose') src = ctx.graph.nodes[src.inputs[0]];
  if (src.node.op === 'input') ctx.rangeChecks.push({ input: src.node.name, op, what, min, max });
  else if (src.node.op === 'constant') checkRange(op, what, src.node.data, src.shape, min, max);
  else if (computed) return ctx.flag({ op, what, shape: ctx.graph.nodes[n.inputs[i]].shape, min, max });
  else throw new ShapeError(`${op}: ${what} must come from an input or a constant, got ${src.node.op}`);
  return undefined;
}

export function lowerState(ctx: LowerCtx, n: GraphNode<NodeOf<'state'>>): Val {
  return contiguous(ctx.slot('state', 'state', n.shape, n.dtype, { name: n.node.name }), n.shape);
}

export function lowerAssign(ctx: LowerCtx, n: GraphNode<NodeOf<'assign'>>): Val {
  const { dim, offset, dynamic } = n.node;
  const dst = ctx.arg(n, 0), v = ctx.arg(n, 1);
  const plan = planStridedCopy('assign', {
    shape: v.shape,
    src: { ...v, base: 0 },
    dst: { ...dst, shape: v.shape, base: offset * dst.strides[dim] },
    dynamic: dynamic ? { stride: dst.strides[dim], toDst: true } : undefined,
  }, ctx.overrides, ctx.limits);
  if (dynamic) rangeCheck(ctx, n, 2, 'assign', 'offset', 0, dst.shape[dim] - v.shape[dim]);
  const bind = { 1: v.slot, 2: dst.slot, 3: dynamic ? ctx.arg(n, 2).slot : ('dummy' as const) };
  ctx.step(`assign#${n.id} ${fmtShape(v.shape)} into ${fmtShape(dst.shape)}`, plan, bind, [dst.slot], numel(v.shape));
  return dst;
}

export function lowerSlice(ctx: LowerCtx, n: GraphNode<NodeOf<'slice'>>): Val {
  const x = ctx.arg(n, 0);
  const out = ctx.temp(n);
  const plan = planStridedCopy('slice', {
    shape: n.shape,
    src: { ...x, shape: n.shape, base: n.node.start * x.strides[n.node.dim] },
    dst: { shape: n.shape, strides: contiguousStrides(n.shape), base: 0 },
  }, ctx.overrides, ctx.limits);
  ctx.step(`slice#${n.id} ${fmtShape(n.shape)}`, plan, { 1: x.slot, 2: out.slot, 3: 'dummy' }, [out.slot], numel(n.shape));
  return out;
}

export function lowerConcat(ctx: LowerCtx, n: GraphNode<NodeOf<'concat'>>): Val {
  const out = ctx.temp(n);
  const strides = contiguousStrides(n.shape);
  let at = 0;
  n.inputs.forEach((_, i) => {
    const x = ctx.arg(n, i);
    const plan = planStridedCopy('concat', {
      shape: x.shape, src: { ...x, base: 0 }, dst: { shape: x.shape, strides, base: at * strides[n.node.dim] },
    }, ctx.overrides, ctx.limits);
    ctx.step(`concat#${n.id} part ${i} ${fmtShape(x.shape)}`, plan, { 1: x.slot, 2: out.slot, 3: 'dummy' }, [out.slot], numel(x.shape));
    at += x.shape[n.node.dim];
  });
  return out;
}

export function lowerGather(ctx: LowerCtx, n: GraphNode<NodeOf<'gather'>>): Val {
  const x = ctx.arg(n, 0);
  const flag = rangeCheck(ctx, n, 1, 'gather', 'index', 0, x.shape[n.node.dim] - 1, true);
  const index = ctx.dense(n, ctx.arg(n, 1));
  const plan = planGather(x, n.node.dim, n.shape, flag?.flag ?? 0, ctx.overrides, ctx.limits);
  return ctx.emit(n, plan, { 1: x.slot, 2: index.slot, 4: flag?.slot ?? 'dummy' }, 3);
}
