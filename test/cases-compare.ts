// Parity cases for src/ops/compare.ts (shaders/elementwise.wgsl): eq, ne, lt, le, gt, ge on f32 (NaN,
// +-inf, -0), i32 extremes, mixed i32/f32 (compared as f32) and bool, and logicalAnd/Or/Not on any
// dtype; all broadcast.
import type { ParityCase } from './parity';
import { graphCase, seeded } from './case-util';
import { EXACT } from './cases-math';

const { ids } = seeded(9500);
const OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
const I32_MIN = -2147483648, I32_MAX = 2147483647;

// (a, b) pairs: NaN on either side, infinities, -0 against 0, neighbours near f32's max.
const A = [NaN, 1, NaN, Infinity, -Infinity, Infinity, -0, 0, 3.4e38, -1e-30, 5, 2];
const B = [1, NaN, NaN, Infinity, Infinity, 3e38, 0, -0, 3.3e38, 1e-30, 5, 3];


export const compareCases: ParityCase[] = [
  graphCase(`comparisons of f32 NaN, +-inf, -0, broadcast [2,${A.length}] and [${A.length}]`, 'elementwise', EXACT, (g) => {
    const a = g.input('a', [2, A.length]), b = g.input('b', [A.length]);
    OPS.forEach((op) => g.output(op, g[op](a, b)));
    return { a: Float32Array.from([...A, ...B]), b: Float32Array.from(B) };
  }),
  graphCase('comparisons of i32 extremes, [5,1] against [4]', 'elementwise', EXACT, (g) => {
    const a = g.input('a', [5, 1], 'i32'), b = g.input('b', [4], 'i32');
    OPS.forEach((op) => g.output(op, g[op](a, b)));
    return { a: Int32Array.from([I32_MIN, I32_MAX, -1, 0, I32_MAX - 1]), b: Int32Array.from([I32_MIN, I32_MAX, 0, I32_MAX - 1]) };
  }),
  // i32 against f32 compares in f32, as torch: 2^24 + 1 rounds to 2^24 and equals it.
  graphCase('comparisons of i32 against f32 (promoted to f32)', 'elementwise', EXACT, (g) => {
    const a = g.input('a', [6], 'i32'), b = g.input('b', [6]);
    OPS.forEach((op) => g.output(op, g[op](a, b)));
    return { a: Int32Array.from([16777217, 3, -3, 0, 7, I32_MAX]), b: Float32Array.from([16777216, 2.5, -2.5, NaN, Infinity, 2147483648]) };
  }),
  graphCase('comparisons of bools, and bool against i32', 'elementwise', EXACT, (g) => {
    const p = g.input('p', [4, 1], 'bool'), q = g.input('q', [4], 'bool');
    OPS.forEach((op) => g.output(op, g[op](p, q)));
    g.output('eqInt', g.eq(q, g.input('n', [4], 'i32')));
    return { p: Uint8Array.from([0, 1, 0, 1]), q: Uint8Array.from([0, 0, 1, 1]), n: Int32Array.from([0, 1, 1, 2]) };
  }),
  graphCase('logicalAnd, logicalOr, logicalNot of f32 (NaN and -0), i32 and bool', 'elementwise', EXACT, (g) => {
    const f = g.input('f', [2, 6]), n = g.input('n', [6], 'i32'), b = g.input('b', [6], 'bool');
    g.output('andFI', g.logicalAnd(f, n));
    g.output('orFB', g.logicalOr(f, b));
    g.output('andBB', g.logicalAnd(b, g.logicalNot(b)));
    g.output('notF', g.logicalNot(f));
    g.output('notI', g.logicalNot(n));
    return {
      f: Float32Array.from([NaN, -0, 0, 1e-30, -Infinity, 2, 0, 0, 1, 1, NaN, 0]),
      n: Int32Array.from([0, 1, I32_MIN, 0, 7, -1]),
      b: Uint8Array.from([1, 0, 1, 0, 0, 1]),
    };
  }),
  graphCase('lt of random i32 ids, transposed [7,3]^T against [7]', 'elementwise', EXACT, (g) => {
    g.output('lt', g.lt(g.transpose(g.input('a', [7, 3], 'i32'), 0, 1), g.input('b', [7], 'i32')));
    return { a: ids(21, 20), b: ids(7, 20) };
  }),
];
