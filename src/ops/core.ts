// Graph plumbing with no kernel of its own: inputs, constants, views (reshape, transpose), and the
// outputs of multi-output nodes (select). Views cost nothing: kernels read through strides, and a
// reshape of a non-contiguous view is the one place a copy is made. An input or constant past the
// binding limit becomes a value in parts (LowerCtx.source); views of it stay views.
import { ShapeError, fmtShape } from '../errors';
import { Tensor, isHalf, type GraphLike } from '../graph/ir';
import { halfToF32 } from '../graph/half';
import { contiguous, transposeVal } from '../graph/lower-ctx';
import { normDim, numel } from '../graph/shapes';
import { transpose } from '../reference/core';
import type { OpTable } from './op';

/** torch.reshape; one dim may be -1. */
export function buildReshape(g: GraphLike, x: Tensor, shape: number[]): Tensor {
  g.checkOwn('reshape', x);
  if (!Array.isArray(shape)) throw new ShapeError(`reshape: the target shape must be an array, got ${JSON.stringify(shape)}`);
  const n = numel(x.shape);
  const free = shape.filter((d) => d === -1).length;
  if (free > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new ShapeError(`reshape: invalid target shape ${fmtShape(shape)} for ${fmtShape(x.shape)}`);
  }
  const known = numel(shape.filter((d) => d !== -1));
  let out = shape.slice();
  if (free) {
    if (known === 0 || n % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${n} elements) to ${fmtShape(shape)}`);
    }
    out = shape.map((d) => (d === -1 ? n / known : d));
  }
  if (numel(out) !== n) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${n} elements) to ${fmtShape(shape)}`);
  }
  return g.addNode({ op: 'reshape' }, [x.id], out, x.dtype);
}

/** torch.transpose: swaps dim0 and dim1. */
export function buildTranspose(g: GraphLike, x: Tensor, dim0: number, dim1: number): Tensor {
  g.checkOwn('transpose', x);
  const s = x.shape;
  const d0 = normDim('transpose', dim0, s.length, s);
  const d1 = normDim('transpose', dim1, s.length, s);
  const out = s.slice();
  [out[d0], out[d1]] = [s[d1], s[d0]];
  return g.addNode({ op: 'transpose', dim0: d0, dim1: d1 }, [x.id], out, x.dtype);
}

export const coreOps: OpTable<'input' | 'constant' | 'reshape' | 'transpose' | 'select'> = {
  input: {
    lower: (ctx, n) => ctx.source(n, 'input', { name: n.node.name }),
    reference: (n, _, env) => ({ data: Float64Array.from(env.feeds[n.node.name]), shape: n.shape }),
  },
  constant: {
    lower: (ctx, n) => ctx.source(n, 'constant', { data: n.node.data }),
    // A 16-bit weight's reference values are its 16-bit values, widened exactly.
    reference: (n) => ({ data: isHalf(n.dtype) ? Float64Array.from(halfToF32(n.node.data as Uint16Array, n.dtype)) : Float64Array.from(n.node.data), shape: n.shape }),
  },
  reshape: {
    lower(ctx, n) {
      const x = ctx.anyArg(n, 0);
      return x.big ? ctx.reshapeBig(n, x) : contiguous(ctx.dense(n, x).slot, n.shape);
    },
    reference: (n, [x]) => ({ data: x.data, shape: n.shape }),
  },
  transpose: {
    lower: (ctx, n) => transposeVal(ctx.anyArg(n, 0), n.node.dim0, n.node.dim1),
    reference: (n, [x]) => transpose(x, n.node.dim0, n.node.dim1),
  },
  select: {
    lower: (ctx, n) => ctx.tuples.get(n.inputs[0])![n.node.index],
    reference: (n, _, env) => env.tuples.get(n.inputs[0])![n.node.index],
  },
};
