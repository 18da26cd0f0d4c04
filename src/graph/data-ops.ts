// Builders of the data-movement ops whole models need: state kept on the GPU between runs (a KV
// cache), assign into it at a fixed or fed offset, slice, concat and torch.gather.
import { ShapeError, fmtShape } from '../errors';
import type { GraphLike as Graph, Tensor } from './ir';
import { checkShape, normDim } from './shapes';

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
