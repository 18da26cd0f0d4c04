// The data-movement ops on shaders/copy.wgsl: state kept on the GPU between runs (a KV cache),
// assign into it at a fixed or fed offset, slice, concat and torch.gather. Positions and indices fed
// at run are range-checked before dispatch; gather indices computed in the graph raise the kernel's
// index flag. gather reads an x past the binding limit in parts of whole rows (dim 0), one dispatch
// per part.
import { ShapeError, fmtShape } from '../errors';
import { planGather, planStridedCopy } from '../kernels/copy';
import type { GraphLike as Graph, GraphNode, NodeOf, Tensor } from '../graph/ir';
import { contiguous, type LowerCtx, type Val } from '../graph/lower-ctx';
import { checkShape, contiguousStrides, normDim, numel } from '../graph/shapes';
import { assign, concat, gather, slice } from '../reference/copy';
import type { OpTable } from './op';

export function buildState(g: Graph, name: string, shape: number[]): Tensor {
  checkShape('state', `state '${name}'`, shape);
  if (g.states.has(name)) throw new ShapeError(`state: the name '${name}' is already a state`);
  const t = g.addNode({ op: 'state', name }, [], shape);
  g.states.set(name, t.id);
  return t;
}

/**
 * Writes `value` into `state` at `offset` along `dim` (state[..., offset : offset + n, ...] = value)
 * and returns the state after the write; ops that read that result run after it. A Tensor offset is
 * an i32 [1] input, range-checked at run.
 */
export function buildAssign(g: Graph, state: Tensor, value: Tensor, dim: number, offset: number | Tensor): Tensor {
  g.checkOwn('assign', state, value);
  let root = g.nodes[state.id];
  while (root.node.op === 'assign') root = g.nodes[root.inputs[0]];
  if (root.node.op !== 'state') throw new ShapeError(`assign: the target must be a g.state() tensor, got ${root.node.op}`);
  const ss = state.shape, vs = value.shape;
  const d = normDim('assign', dim, ss.length, ss);
  if (vs.length !== ss.length || vs.some((v, i) => i !== d && v !== ss[i]) || vs[d] > ss[d]) {
    throw new ShapeError(`assign: value ${fmtShape(vs)} does not fit state ${fmtShape(ss)} along dim ${d}`);
  }
  if (value.dtype !== state.dtype) throw new ShapeError(`assign: value is ${value.dtype}, state is ${state.dtype}`);
  if (typeof offset === 'number') {
    if (!Number.isInteger(offset) || offset < 0 || offset + vs[d] > ss[d]) {
      throw new ShapeError(`assign: offset ${offset} + ${vs[d]} passes state ${fmtShape(ss)} along dim ${d}`);
    }
    return g.addNode({ op: 'assign', dim: d, offset, dynamic: false }, [state.id, value.id], ss);
  }
  g.checkOwn('assign', offset);
  if (offset.dtype !== 'i32' || fmtShape(offset.shape) !== '[1]' || g.nodes[offset.id].node.op !== 'input') {
    throw new ShapeError(`assign: a tensor offset must be an i32 [1] graph input, got ${offset.dtype} ${fmtShape(offset.shape)}`);
  }
  return g.addNode({ op: 'assign', dim: d, offset: 0, dynamic: true }, [state.id, value.id, offset.id], ss);
}

/** x[..., start:end, ...] along `dim` (torch.narrow / basic slicing; negative bounds count from the end). */
export function buildSlice(g: Graph, x: Tensor, dim: number, start: number, end: number): Tensor {
  g.checkOwn('slice', x);
  const s = x.shape;
  const d = normDim('slice', dim, s.length, s);
  const n = s[d];
  const a = start < 0 ? start + n : start, b = end < 0 ? end + n : end;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || a > b || b > n) {
    throw new ShapeError(`slice: [${start}:${end}] is out of range for dim ${d} of ${fmtShape(s)}`);
  }
  const out = s.slice();
  out[d] = b - a;
  return g.addNode({ op: 'slice', dim: d, start: a }, [x.id], out, x.dtype);
}

/** torch.cat along `dim`: every other dim equal. */
export function buildConcat(g: Graph, xs: Tensor[], dim: number): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ShapeError('concat: needs at least one tensor');
  g.checkOwn('concat', ...xs);
  const s0 = xs[0].shape;
  const d = normDim('concat', dim, s0.length, s0);
  for (const t of xs) {
    const s = t.shape;
    if (s.length !== s0.length || s.some((v, i) => i !== d && v !== s0[i]) || t.dtype !== xs[0].dtype) {
      throw new ShapeError(`concat: ${t.dtype} ${fmtShape(s)} does not match ${xs[0].dtype} ${fmtShape(s0)} outside dim ${d}`);
    }
  }
  const out = s0.slice();
  out[d] = xs.reduce((a, t) => a + t.shape[d], 0);
  return g.addNode({ op: 'concat', dim: d }, xs.map((t) => t.id), out, xs[0].dtype);
}

/** torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim 0, and so on; index i32, same rank. */
export function buildGather(g: Graph, x: Tensor, dim: number, index: Tensor): Tensor {
  g.checkOwn('gather', x, index);
  const xs = x.shape, is = index.shape;
  const d = normDim('gather', dim, xs.length, xs);
  if (index.dtype !== 'i32') throw new ShapeError(`gather: index must be i32, got ${index.dtype} ${fmtShape(is)}`);
  if (is.length !== xs.length || is.some((v, i) => i !== d && v > xs[i])) {
    throw new ShapeError(`gather: index ${fmtShape(is)} must have x's rank and fit x ${fmtShape(xs)} outside dim ${d}`);
  }
  return g.addNode({ op: 'gather', dim: d }, [x.id, index.id], is, x.dtype);
}

function lowerState(ctx: LowerCtx, n: GraphNode<NodeOf<'state'>>): Val {
  return contiguous(ctx.slot('state', 'state', n.shape, n.dtype, { name: n.node.name }), n.shape);
}

function lowerAssign(ctx: LowerCtx, n: GraphNode<NodeOf<'assign'>>): Val {
  const { dim, offset, dynamic } = n.node;
  const dst = ctx.arg(n, 0), v = ctx.arg(n, 1);
  const plan = planStridedCopy('assign', {
    shape: v.shape,
    src: { ...v, base: 0 },
    dst: { ...dst, shape: v.shape, base: offset * dst.strides[dim] },
    dynamic: dynamic ? { stride: dst.strides[dim], toDst: true } : undefined,
  }, ctx.overrides, ctx.limits);
  const bind = { src: v.slot, dst: dst.slot, offset: dynamic ? ctx.arg(n, 2).slot : ('dummy' as const) };
  ctx.step(`assign#${n.id} ${fmtShape(v.shape)} into ${fmtShape(dst.shape)}`, plan, bind, [dst.slot], numel(v.shape));
  return dst;
}

function lowerSlice(ctx: LowerCtx, n: GraphNode<NodeOf<'slice'>>): Val {
  const x = ctx.arg(n, 0);
  const out = ctx.temp(n);
  const plan = planStridedCopy('slice', {
    shape: n.shape,
    src: { ...x, shape: n.shape, base: n.node.start * x.strides[n.node.dim] },
    dst: { shape: n.shape, strides: contiguousStrides(n.shape), base: 0 },
  }, ctx.overrides, ctx.limits);
  ctx.step(`slice#${n.id} ${fmtShape(n.shape)}`, plan, { src: x.slot, dst: out.slot, offset: 'dummy' }, [out.slot], numel(n.shape));
  return out;
}

function lowerConcat(ctx: LowerCtx, n: GraphNode<NodeOf<'concat'>>): Val {
  const out = ctx.temp(n);
  const strides = contiguousStrides(n.shape);
  let at = 0;
  n.inputs.forEach((_, i) => {
    const x = ctx.arg(n, i);
    const plan = planStridedCopy('concat', {
      shape: x.shape, src: { ...x, base: 0 }, dst: { shape: x.shape, strides, base: at * strides[n.node.dim] },
    }, ctx.overrides, ctx.limits);
    ctx.step(`concat#${n.id} part ${i} ${fmtShape(x.shape)}`, plan, { src: x.slot, dst: out.slot, offset: 'dummy' }, [out.slot], numel(x.shape));
    at += x.shape[n.node.dim];
  });
  return out;
}

function lowerGather(ctx: LowerCtx, n: GraphNode<NodeOf<'gather'>>): Val {
  const x = ctx.anyArg(n, 0);
  const { dim } = n.node;
  const flag = ctx.indexFlag(n, 1);
  // The result is the index's size, and the index fits one buffer (arg), so the result does too.
  const index = ctx.dense(n, ctx.arg(n, 1));
  const bind = { index: index.slot, flags: flag?.slot ?? ('dummy' as const) };
  if (!x.big) return ctx.emit(n, planGather(x, dim, n.shape, flag?.flag ?? 0, ctx.overrides, ctx.limits), { ...bind, src: x.slot });
  const out = ctx.temp(n);
  for (const r of ctx.parts('gather', x, 0)) {
    const plan = planGather(r.val, dim, n.shape, flag?.flag ?? 0, ctx.overrides, ctx.limits, { rowStart: r.start, dimSize: x.shape[dim] });
    const label = `gather#${n.id} ${fmtShape(n.shape)} from x rows ${r.start}..${r.end - 1}`;
    ctx.step(label, plan, { ...bind, src: r.val.slot, out: out.slot }, [out.slot], numel(n.shape));
  }
  return out;
}

export const copyOps: OpTable<'state' | 'assign' | 'slice' | 'concat' | 'gather'> = {
  state: {
    lower: lowerState,
    reference: (n, _, env) => env.states.get(n.node.name)!,
  },
  assign: {
    indices(n, g) {
      if (!n.node.dynamic) return [];
      const [s, v] = [g.nodes[n.inputs[0]].shape, g.nodes[n.inputs[1]].shape];
      return [{ input: 2, what: 'offset', min: 0, max: s[n.node.dim] - v[n.node.dim] }];
    },
    lower: lowerAssign,
    reference: (n, [s, v, offset]) => assign(s, v, n.node.dim, n.node.dynamic ? offset.data[0] : n.node.offset),
  },
  slice: {
    lower: lowerSlice,
    reference: (n, [x]) => slice(x, n.node.dim, n.node.start, n.shape),
  },
  concat: {
    lower: lowerConcat,
    reference: (n, xs) => concat(xs, n.node.dim, n.shape),
  },
  gather: {
    indices: (n, g) => [{ input: 1, what: 'index', min: 0, max: g.nodes[n.inputs[0]].shape[n.node.dim] - 1, computed: true }],
    lower: lowerGather,
    // Indices arrive checked, or screened (out of range -> -1, which reads 0) when computed in the graph.
    reference: (n, [x, index]) => gather(x, n.node.dim, index),
  },
};
