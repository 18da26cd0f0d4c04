// The CPU reference's value type and the plumbing every reference uses: plain loops over contiguous
// row-major Float64Arrays, summing in float64, written for obviousness, not speed; they are what the
// GPU kernels are checked against. Also the reference of transpose (a view on the GPU).
import { contiguousStrides, numel } from '../graph/shapes';

export interface Value {
  data: Float64Array;
  shape: number[];
}

/** Visits every multi-index of `shape` in row-major order, giving the flat offsets under each strides set. */
export function forEachIndex(shape: number[], strideSets: number[][], fn: (i: number, offs: number[]) => void): void {
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
