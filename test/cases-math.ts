// Parity cases for src/ops/math.ts (shaders/elementwise.wgsl): neg, abs, exp, log, sqrt, rsqrt, pow,
// maximum and minimum on f32 and i32, broadcast, with NaN, +-inf, huge magnitudes and i32 extremes.
// An i32 result comes back as an f32 number, so i32 extremes are checked through a bool result
// (eq against the expected i32 value, itself fed) rather than read back.
import type { Feeds, Graph, Tensor } from '../src/index';
import type { ParityCase, Tolerance } from './parity';
import { graphCase, seeded, SPECIALS } from './case-util';

export const EXACT: Tolerance = { atol: 0, rtol: 0, why: 'integer and bool results, and sign flips, are exact' };
// WGSL's accuracy bounds: exp 3 + 2|x| ulp (|x| <= 88 here: 179 ulp), log 2^-21 absolute on [0.5, 2]
// and 3 ulp elsewhere, sqrt as 1 / inverseSqrt (2 ulp + a division), inverseSqrt 2 ulp.
const expTol: Tolerance = { atol: 1e-37, rtol: 2.2e-5, why: 'WGSL exp: 3 + 2|x| ulp, |x| <= 88; subnormal results may flush to 0' };
const logTol: Tolerance = { atol: 5e-7, rtol: 4e-7, why: 'WGSL log: 2^-21 absolute on [0.5, 2], 3 ulp elsewhere' };
const sqrtTol: Tolerance = { atol: 0, rtol: 6e-7, why: 'WGSL sqrt (via inverseSqrt, 2 ulp) and one division' };
// Integral exponents up to 64 by squaring: ~|y| ulp (|y| <= 8 here, 1e-6); the others through
// exp2(y log2 |x|): log2's 2^-21 scaled by |y log2 x| <= 20 here, then exp2's 3 + 2|t| ulp.
const powTol: Tolerance = { atol: 1e-30, rtol: 2e-5, why: 'pow: squaring for integral |y| <= 64, else exp2(y log2 |x|) (|y log2 x| <= 20)' };

const { feed, ids } = seeded(9000);
const I32_MIN = -2147483648, I32_MAX = 2147483647;

const mathCase = (id: string, tol: Tolerance, build: (g: Graph) => Feeds): ParityCase => graphCase(id, 'elementwise', tol, build);
const positive = (shape: number[], lo: number, hi: number) => feed(shape, 0.5).map((v) => lo + (v + 0.5) * (hi - lo));
const i32 = (xs: number[]) => Int32Array.from(xs);

const unaryF32 = (op: 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'rsqrt') => (g: Graph, x: Tensor) => g[op](x);

export const mathCases: ParityCase[] = [
  mathCase('neg and abs of f32 specials', EXACT, (g) => {
    const x = g.input('x', [SPECIALS.length]);
    g.output('neg', g.neg(x));
    g.output('abs', g.abs(x));
    return { x: Float32Array.from(SPECIALS) };
  }),
  mathCase('neg and abs of i32 extremes wrap (checked through eq)', EXACT, (g) => {
    const x = g.input('x', [6], 'i32');
    g.output('neg', g.eq(g.neg(x), g.input('negWant', [6], 'i32')));
    g.output('abs', g.eq(g.abs(x), g.input('absWant', [6], 'i32')));
    g.output('small', g.neg(g.slice(x, 0, 2, 6)));
    return {
      x: i32([I32_MIN, I32_MAX, -7, 7, 0, -1]),
      negWant: i32([I32_MIN, -I32_MAX, 7, -7, 0, 1]),
      absWant: i32([I32_MIN, I32_MAX, 7, 7, 0, 1]),
    };
  }),
  ...(['exp', 'log', 'sqrt', 'rsqrt'] as const).map((op) =>
    mathCase(`${op} of f32 specials`, { exp: expTol, log: logTol, sqrt: sqrtTol, rsqrt: sqrtTol }[op], (g) => {
      g.output('y', unaryF32(op)(g, g.input('x', [SPECIALS.length + 4])));
      return { x: Float32Array.from([...SPECIALS, 88, -88, 3.4e38, 2.5]) };
    }),
  ),
  mathCase('exp of [-80, 80] broadcast-added [5,1] + [7]', expTol, (g) => {
    g.output('y', g.exp(g.add(g.input('a', [5, 1]), g.input('b', [7]))));
    return { a: feed([5, 1], 40), b: feed([7], 40) };
  }),
  mathCase('log of (1e-30, 1e30) [3,11]', logTol, (g) => {
    const x = g.input('x', [3, 11]);
    g.output('log', g.log(x));
    return { x: positive([3, 11], 0, 1).map((v) => 10 ** (60 * v - 30)) };
  }),
  mathCase('sqrt and rsqrt of (1e-30, 1e30) [3,11]', sqrtTol, (g) => {
    const x = g.input('x', [3, 11]);
    g.output('sqrt', g.sqrt(x));
    g.output('rsqrt', g.rsqrt(x));
    return { x: positive([3, 11], 0, 1).map((v) => 10 ** (60 * v - 30)) };
  }),
  mathCase('exp, log, sqrt of i32 give f32 [9]', expTol, (g) => {
    const x = g.input('x', [9], 'i32');
    g.output('exp', g.exp(x));
    g.output('log', g.log(x));
    g.output('sqrt', g.sqrt(x));
    return { x: i32([-3, -1, 0, 1, 2, 5, 40, 1000000, I32_MAX]) };
  }),
  mathCase('pow of positive bases and real exponents, broadcast [4,1] ** [9]', powTol, (g) => {
    g.output('y', g.pow(g.input('x', [4, 1]), g.input('e', [9])));
    return { x: positive([4, 1], 0.2, 5), e: feed([9], 4) };
  }),
  mathCase('pow of negative bases and integral exponents [13]', powTol, (g) => {
    g.output('y', g.pow(g.input('x', [13]), g.input('e', [13])));
    return {
      x: Float32Array.from([-2, -2, -2, -0.5, -3, -1.5, -7, -1, -1, -2, -1e10, -0.1, -2]),
      e: Float32Array.from([0, 1, 2, 3, -1, -2, 5, 1e9 + 1, 7, 0.5, 3, -3, 8]),
    };
  }),
  // C's pow, as torch: 1^NaN = 1, NaN^0 = 1, (-1)^inf = 1, 0^-1 = inf, -0^-1 = -inf, (-inf)^3 = -inf,
  // (-inf)^-3 = -0, 2^inf = inf, 0.5^inf = 0, 2^-inf = 0, (-8)^(1/3) = NaN, overflow to inf.
  mathCase('pow of NaN, +-inf, 0 and -0, and past f32', powTol, (g) => {
    g.output('y', g.pow(g.input('x', [18]), g.input('e', [18])));
    return {
      x: Float32Array.from([1, NaN, -1, 0, -0, -Infinity, -Infinity, 2, 0.5, 2, -8, 10, NaN, 3, Infinity, Infinity, 0, 1e-20]),
      e: Float32Array.from([NaN, 0, Infinity, -1, -1, 3, -3, Infinity, Infinity, -Infinity, 1 / 3, 40, 2, NaN, -2, 0.5, 2, 3]),
    };
  }),
  mathCase('pow of i32: squaring wraps, negative exponents give 0 but for +-1 (checked through eq)', EXACT, (g) => {
    const x = g.input('x', [8], 'i32'), e = g.input('e', [8], 'i32');
    g.output('eq', g.eq(g.pow(x, e), g.input('want', [8], 'i32')));
    g.output('small', g.pow(g.slice(x, 0, 0, 4), g.slice(e, 0, 0, 4)));
    return {
      x: i32([3, -2, 7, 0, 2, 1, -1, 5]),
      e: i32([4, 5, 0, 3, 40, -5, -3, -1]),
      want: i32([81, -32, 1, 0, 0, 1, -1, 0]),
    };
  }),
  mathCase('pow of f32 by i32 promotes to f32 [6]', powTol, (g) => {
    g.output('y', g.pow(g.input('x', [6]), g.input('e', [6], 'i32')));
    return { x: Float32Array.from([1.5, -2, 0.5, 3, -1.25, 10]), e: i32([3, 3, -2, 0, 4, 7]) };
  }),
  ...(['maximum', 'minimum'] as const).flatMap((op) => [
    mathCase(`${op} propagates NaN, broadcast [2,9] and [9]`, EXACT, (g) => {
      g.output('y', g[op](g.input('a', [2, 9]), g.input('b', [9])));
      const a = [NaN, 1, Infinity, -Infinity, 3e38, -3e38, 0, 5, NaN];
      const b = [2, NaN, -Infinity, Infinity, -3e38, 3e38, 1e-30, -5, NaN];
      return { a: Float32Array.from([...a, ...b]), b: Float32Array.from(b) };
    }),
    mathCase(`${op} of i32 extremes and of bools`, EXACT, (g) => {
      const x = g.input('x', [4], 'i32'), y = g.input('y', [4], 'i32');
      g.output('eq', g.eq(g[op](x, y), g.input('want', [4], 'i32')));
      g.output('bool', g[op](g.input('p', [4], 'bool'), g.input('q', [4], 'bool')));
      g.output('mixed', g[op](g.input('f', [4]), y));
      return {
        x: i32([I32_MIN, I32_MAX, -1, 3]), y: i32([I32_MAX, I32_MIN, 1, 3]),
        want: op === 'maximum' ? i32([I32_MAX, I32_MAX, 1, 3]) : i32([I32_MIN, I32_MIN, -1, 3]),
        p: Uint8Array.from([0, 0, 1, 1]), q: Uint8Array.from([0, 1, 0, 1]), f: Float32Array.from([0.5, -7, NaN, 2.5]),
      };
    }),
  ]),
  mathCase('neg of a transposed i32 view, rank 5 broadcast add of ints [2,3,1,2,2]', EXACT, (g) => {
    const x = g.transpose(g.input('x', [3, 2], 'i32'), 0, 1);
    g.output('neg', g.neg(x));
    g.output('sum', g.add(g.input('a', [2, 3, 1, 2, 2], 'i32'), g.input('b', [3, 5, 1, 1], 'i32')));
    return { x: ids(6, 1000), a: ids(24, 50000), b: ids(15, 50000) };
  }),
];
