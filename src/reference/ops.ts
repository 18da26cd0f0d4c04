// The CPU reference of every op: plain loops over contiguous row-major Float64Arrays, summing in
// float64. Written for obviousness, not speed; it is what the GPU kernels are checked against.
import type { Binary, Unary } from '../graph/ir';
import { broadcastShapes, broadcastStrides, contiguousStrides, numel } from '../graph/shapes';

export interface Value {
  data: Float64Array;
  shape: number[];
}

/** Visits every multi-index of `shape` in row-major order, giving the flat offsets under each strides set. */
function forEachIndex(shape: number[], strideSets: number[][], fn: (i: number, offs: number[]) => void): void {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  const offs = strideSets.map(() => 0);
  for (let i = 0; i < n; i++) {
    fn(i, offs);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      for (let s = 0; s < strideSets.length; s++) offs[s] += strideSets[s][d];
      if (idx[d] < shape[d]) break;
      for (let s = 0; s < strideSets.length; s++) offs[s] -= strideSets[s][d] * shape[d];
      idx[d] = 0;
    }
  }
}

export function matmul(a: Value, b: Value): Value {
  const [m, k] = a.shape.slice(-2), n = b.shape[b.shape.length - 1];
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const sa = broadcastStrides(a.shape.slice(0, -2), contiguousStrides(a.shape.slice(0, -2)), batch);
  const sb = broadcastStrides(b.shape.slice(0, -2), contiguousStrides(b.shape.slice(0, -2)), batch);
  const out = new Float64Array(numel(batch) * m * n);
  forEachIndex(batch, [sa, sb], (bi, [oa, ob]) => {
    const a0 = oa * m * k, b0 = ob * k * n, o0 = bi * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += a.data[a0 + i * k + p] * b.data[b0 + p * n + j];
        out[o0 + i * n + j] = acc;
      }
    }
  });
  return { data: out, shape: [...batch, m, n] };
}

export function linear(x: Value, w: Value, bias?: Value): Value {
  const [nOut, nIn] = w.shape;
  // Counted from the leading dims, not numel / nIn: with nIn = 0 every row is the bias alone.
  const rows = numel(x.shape.slice(0, -1));
  const out = new Float64Array(rows * nOut);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < nOut; o++) {
      let acc = bias ? bias.data[o] : 0;
      for (let p = 0; p < nIn; p++) acc += x.data[r * nIn + p] * w.data[o * nIn + p];
      out[r * nOut + o] = acc;
    }
  }
  return { data: out, shape: [...x.shape.slice(0, -1), nOut] };
}

const BINARY: Record<Binary, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};

export const UNARY: Record<Unary, (x: number) => number> = {
  relu: (x) => Math.max(x, 0), // NaN stays NaN, as torch.relu
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

export function binary(op: Binary, a: Value, b: Value): Value {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const sa = broadcastStrides(a.shape, contiguousStrides(a.shape), shape);
  const sb = broadcastStrides(b.shape, contiguousStrides(b.shape), shape);
  const out = new Float64Array(numel(shape));
  const f = BINARY[op];
  forEachIndex(shape, [sa, sb], (i, [oa, ob]) => {
    out[i] = f(a.data[oa], b.data[ob]);
  });
  return { data: out, shape };
}

export function unary(op: Unary, x: Value): Value {
  return { data: x.data.map(UNARY[op]), shape: x.shape };
}

export function softmax(x: Value, dim: number): Value {
  const len = x.shape[dim];
  const inner = numel(x.shape.slice(dim + 1));
  const outer = numel(x.shape.slice(0, dim));
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      // IEEE does torch's work: NaN or +inf in a row makes it all NaN (inf - inf), and so does a row
      // of only -inf ((-inf) - (-inf)); other -inf entries give 0.
      let max = -Infinity;
      for (let j = 0; j < len; j++) max = Math.max(max, x.data[base + j * inner]);
      let sum = 0;
      for (let j = 0; j < len; j++) sum += Math.exp(x.data[base + j * inner] - max);
      for (let j = 0; j < len; j++) out[base + j * inner] = Math.exp(x.data[base + j * inner] - max) / sum;
    }
  }
  return { data: out, shape: x.shape };
}

export function transpose(x: Value, d0: number, d1: number): Value {
  const strides = contiguousStrides(x.shape);
  const shape = x.shape.slice();
  [shape[d0], shape[d1]] = [shape[d1], shape[d0]];
  [strides[d0], strides[d1]] = [strides[d1], strides[d0]];
  const out = new Float64Array(x.data.length);
  forEachIndex(shape, [strides], (i, [o]) => {
    out[i] = x.data[o];
  });
  return { data: out, shape };
}
