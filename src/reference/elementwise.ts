// CPU reference of the elementwise family: broadcasting binary ops, relu/tanh/sigmoid, and gelu
// (exact, through an erf good to about 1e-13, or the tanh approximation).
import type { Binary, Unary } from '../graph/ir';
import { broadcastShapes, broadcastStrides, contiguousStrides, numel } from '../graph/shapes';
import { forEachIndex, type Value } from './core';

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

/** erf to about 1e-13: the Maclaurin series below 3, a continued fraction for erfc above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax < 3) {
    let term = x, sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = ax; // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function gelu(x: Value, approximate: 'none' | 'tanh'): Value {
  const f = approximate === 'tanh'
    ? (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))
    : (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
  return { data: x.data.map(f), shape: x.shape };
}
