// CPU reference of softmax along one dim, in float64.
import { numel } from '../graph/shapes';
import type { Value } from './core';

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
