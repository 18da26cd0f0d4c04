// CPU reference of the elementwise family: dtype conversions with torch's rules (and ours where torch
// leaves them undefined), a broadcasting map over up to three operands, and gelu (exact, through an
// erf good to about 1e-13, or the tanh approximation). i32 arithmetic wraps as the kernels' does.
import type { DType } from '../graph/ir';
import { broadcastShapes, broadcastStrides, contiguousStrides, numel } from '../graph/shapes';
import { forEachIndex, type Value } from './core';

const I32_MAX = 2147483647;
const I32_MIN = -2147483648;

/**
 * f32 -> i32 as the kernels do it: toward zero; NaN gives 0 and values past i32's range saturate
 * (torch leaves both undefined).
 */
export function f32ToI32(v: number): number {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return 0;
  if (f >= 2 ** 31) return I32_MAX;
  if (f < -(2 ** 31)) return I32_MIN;
  return Math.trunc(f) | 0;
}

/**
 * A value of dtype `from` as dtype `to`: to bool is `!= 0` (NaN is true), from bool is 0 or 1, i32
 * to f32 rounds to the nearest f32. An f32 value is rounded to f32 first when it is compared or
 * converted, so a float64 reference sees what the kernel sees.
 */
export function convert(v: number, from: DType, to: DType): number {
  if (to === 'bool') return v !== 0 ? 1 : 0;
  if (from === 'bool') return v !== 0 ? 1 : 0;
  if (to === 'i32') return from === 'f32' ? f32ToI32(v) : v;
  return from === 'i32' ? Math.fround(v) : v;
}

/** Wraps an integer result to i32, as WGSL's i32 arithmetic does. */
export const wrapI32 = (v: number): number => Number(BigInt.asIntN(32, BigInt(v)));

/**
 * out[i] = f(operands at i), broadcast torch's way over up to three operands. `f` gets each operand's
 * value at the index; the result has the broadcast shape.
 */
export function mapBroadcast(args: Value[], f: (v: number[]) => number): Value {
  const shape = args.map((a) => a.shape).reduce((s, t) => broadcastShapes('elementwise', s, t));
  const strides = args.map((a) => broadcastStrides(a.shape, contiguousStrides(a.shape), shape));
  const out = new Float64Array(numel(shape));
  const v = new Array<number>(args.length);
  forEachIndex(shape, strides, (i, offs) => {
    for (let k = 0; k < args.length; k++) v[k] = args[k].data[offs[k]];
    out[i] = f(v);
  });
  return { data: out, shape };
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

/** The activations a matmul epilogue applies (torch.relu keeps NaN). */
export const ACTIVATION_REF = {
  relu: (x: number) => (x < 0 ? 0 : x),
  tanh: Math.tanh,
  sigmoid: (x: number) => 1 / (1 + Math.exp(-x)),
};

export const geluOf = (approximate: 'none' | 'tanh') =>
  approximate === 'tanh'
    ? (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))
    : (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));

/** i32 x ** y by squaring, wrapping; a negative exponent gives 0 except for bases 1 and -1 (as torch). */
export function powI32(x: number, y: number): number {
  if (y < 0) return x === 1 ? 1 : x === -1 ? (y % 2 ? -1 : 1) : 0;
  let r = 1, b = x, e = y;
  while (e > 0) {
    if (e & 1) r = Math.imul(r, b);
    b = Math.imul(b, b);
    e >>>= 1;
  }
  return r;
}
