// Graph plumbing with no kernel of its own: inputs, constants, views (reshape, transpose), and the
// outputs of multi-output nodes (select). Views cost nothing: kernels read through strides, and a
// reshape of a non-contiguous view is the one place a copy is made.
import { ShapeError, fmtShape } from '../errors';
import { Tensor, type GraphLike } from '../graph/ir';
import { contiguous } from '../graph/lower-ctx';
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
    lower: (ctx, n) => contiguous(ctx.slot('input', 'input', n.shape, n.dtype, { name: n.node.name }), n.shape),
    reference: (n, _, env) => ({ data: Float64Array.from(env.feeds[n.node.name]), shape: n.shape }),
  },
  constant: {
    lower: (ctx, n) => contiguous(ctx.slot('constant', 'constant', n.shape, n.dtype, { data: n.node.data }), n.shape),
    reference: (n) => ({ data: Float64Array.from(n.node.data), shape: n.shape }),
  },
  reshape: {
    lower: (ctx, n) => contiguous(ctx.dense(n, ctx.arg(n, 0)).slot, n.shape),
    reference: (n, [x]) => ({ data: x.data, shape: n.shape }),
  },
  transpose: {
    lower(ctx, n) {
      const x = ctx.arg(n, 0);
      const { dim0, dim1 } = n.node;
      const shape = x.shape.slice(), strides = x.strides.slice();
      [shape[dim0], shape[dim1]] = [shape[dim1], shape[dim0]];
      [strides[dim0], strides[dim1]] = [strides[dim1], strides[dim0]];
      return { slot: x.slot, shape, strides };
    },
    reference: (n, [x]) => transpose(x, n.node.dim0, n.node.dim1),
  },
  select: {
    lower: (ctx, n) => ctx.tuples.get(n.inputs[0])![n.node.index],
    reference: (n, _, env) => env.tuples.get(n.inputs[0])![n.node.index],
  },
};
