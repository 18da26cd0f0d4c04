// Unary and binary math with torch's semantics on f32 and i32: neg, abs, exp, log, sqrt, rsqrt,
// pow, maximum, minimum (elementwise.ts's framework, shaders/elementwise.wgsl's kernel). exp, log,
// sqrt and rsqrt give f32 for any operand, as torch's int-to-float ops; neg, abs, pow, maximum and
// minimum keep the promoted dtype, and i32 arithmetic wraps.
//
// WGSL leaves NaN, infinities and out-of-domain operands (log of a negative, pow of a negative base)
// undefined, and the CPU emulators use that freedom, so each case torch defines is written out here,
// NaN found by its bits (common.wgsl).
import type { DType } from '../graph/ir';
import { powI32, wrapI32 } from '../reference/elementwise';
import { elementwiseTable, float, promoted, type ElementwiseDef } from './elementwise';

const SOURCE = 'src/ops/math.ts';

const HELPERS = `
// exp overflows f32 past 88.72; below -104 it is 0 (under the least subnormal).
fn exp_f32(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x > 88.72284) { return inf_f32(); }
  return exp(max(x, -104.0));
}

fn log_f32(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return nan_f32(); }
  if (x == 0.0) { return -inf_f32(); }
  if (is_inf(x)) { return x; }
  return log(x);
}

fn sqrt_f32(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return nan_f32(); }
  if (is_inf(x)) { return x; }
  return sqrt(x);
}

// rsqrt(+-0) is +-inf (1 / x), rsqrt(inf) is 0.
fn rsqrt_f32(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return nan_f32(); }
  if (x == 0.0) { return 1.0 / x; }
  if (is_inf(x)) { return 0.0; }
  return inverseSqrt(x);
}

fn abs_f32(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) & F32_ABS_MASK); }

// NaN wins, as torch.maximum and torch.minimum.
fn max_f32(x: f32, y: f32) -> f32 { return select(max(x, y), nan_f32(), is_nan(x) || is_nan(y)); }
fn min_f32(x: f32, y: f32) -> f32 { return select(min(x, y), nan_f32(), is_nan(x) || is_nan(y)); }

// torch.pow on f32, which is C's pow: x^0 = 1 and 1^y = 1 even for NaN; (-1)^+-inf = 1; a negative
// base needs an integral exponent (else NaN); 0 and inf bases and infinite exponents give 0 or inf;
// the sign is negative for a negative base (-0 and -inf included) and an odd exponent. Integral
// exponents up to 64 go by squaring (error ~ |y| ulp); the rest through exp2(y log2 |x|).
fn pow_f32(x: f32, y: f32) -> f32 {
  let xb = bitcast<u32>(x);
  if ((bitcast<u32>(y) & F32_ABS_MASK) == 0u || xb == 0x3f800000u) { return 1.0; }
  if (is_nan(x) || is_nan(y)) { return nan_f32(); }
  let ax = abs_f32(x);
  let ay = abs_f32(y);
  let integral = !is_inf(y) && floor(y) == y;
  if (x < 0.0 && !integral && !is_inf(y)) { return nan_f32(); }
  // Every f32 past 2^24 is even.
  let odd = integral && ay < 16777216.0 && (u32(ay) & 1u) == 1u;
  var r = 1.0;
  if (is_inf(y)) {
    if (ax == 1.0) { return 1.0; }
    r = select(0.0, inf_f32(), (ax > 1.0) == (y > 0.0));
  } else if (ax == 0.0) {
    r = select(0.0, inf_f32(), y < 0.0);
  } else if (is_inf(ax)) {
    r = select(0.0, inf_f32(), y > 0.0);
  } else if (integral && ay <= 64.0) {
    var b = ax;
    var e = u32(ay);
    loop {
      if ((e & 1u) == 1u) { r *= b; }
      e = e >> 1u;
      if (e == 0u) { break; }
      b *= b;
    }
    if (y < 0.0) { r = 1.0 / r; }
  } else {
    r = exp2(y * log2(ax));
  }
  return select(r, -r, (xb >> 31u) == 1u && odd);
}

// i32 pow by squaring, wrapping; a negative exponent gives 0 but for bases 1 and -1 (torch's rule).
fn pow_i32(x: i32, y: i32) -> i32 {
  if (y < 0) {
    if (x == 1) { return 1; }
    if (x == -1) { return select(1, -1, (y & 1) == 1); }
    return 0;
  }
  var r = 1;
  var b = x;
  var e = u32(y);
  loop {
    if (e == 0u) { break; }
    if ((e & 1u) == 1u) { r *= b; }
    b *= b;
    e = e >> 1u;
  }
  return r;
}
`;

/** C's pow, which torch.pow follows for floats; JS's Math.pow differs at 1^NaN and (+-1)^+-inf. */
function powF64(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

const nan2 = (f: (x: number, y: number) => number) => ([x, y]: number[]) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : f(x, y));
const noBoolResult = (what: string) => (dts: DType[]) => (dts.every((d) => d === 'bool') ? `${what} of bool tensors is not supported (as in torch)` : undefined);
const math = (def: Omit<ElementwiseDef, 'source' | 'helpers'>): ElementwiseDef => ({ ...def, source: SOURCE, helpers: HELPERS });

export const MATH = {
  neg: math({
    operands: ['input'], result: promoted, refuse: (d) => (d[0] === 'bool' ? 'negation of a bool tensor is not supported (as in torch; use logicalNot)' : undefined),
    wgsl: { f32: '-x', i32: '-x' }, ref: ([x], T) => (T === 'i32' ? wrapI32(-x) : -x),
  }),
  abs: math({
    operands: ['input'], result: promoted, refuse: (d) => (d[0] === 'bool' ? 'abs of a bool tensor is not supported (as in torch)' : undefined),
    wgsl: { f32: 'abs_f32(x)', i32: 'abs(x)' }, ref: ([x], T) => (T === 'i32' ? wrapI32(Math.abs(x)) : Math.abs(x)),
  }),
  exp: math({ operands: ['input'], result: float, wgsl: { f32: 'exp_f32(x)' }, ref: ([x]) => Math.exp(x) }),
  log: math({ operands: ['input'], result: float, wgsl: { f32: 'log_f32(x)' }, ref: ([x]) => Math.log(x) }),
  sqrt: math({ operands: ['input'], result: float, wgsl: { f32: 'sqrt_f32(x)' }, ref: ([x]) => Math.sqrt(x) }),
  rsqrt: math({ operands: ['input'], result: float, wgsl: { f32: 'rsqrt_f32(x)' }, ref: ([x]) => 1 / Math.sqrt(x) }),
  pow: math({
    operands: ['input', 'exponent'], result: promoted, refuse: noBoolResult('pow'),
    wgsl: { f32: 'pow_f32(x, y)', i32: 'pow_i32(x, y)' }, ref: ([x, y], T) => (T === 'i32' ? powI32(x, y) : powF64(x, y)),
  }),
  maximum: math({
    operands: ['input', 'other'], result: promoted,
    wgsl: { f32: 'max_f32(x, y)', i32: 'max(x, y)', bool: 'x || y' }, ref: nan2(Math.max),
  }),
  minimum: math({
    operands: ['input', 'other'], result: promoted,
    wgsl: { f32: 'min_f32(x, y)', i32: 'min(x, y)', bool: 'x && y' }, ref: nan2(Math.min),
  }),
} satisfies Record<string, ElementwiseDef>;

export const mathOps = elementwiseTable(MATH);
