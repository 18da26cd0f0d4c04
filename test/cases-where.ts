// Parity cases for src/ops/where.ts (shaders/elementwise.wgsl): where over three broadcast operands
// of every dtype (result promoted), maskedFill of f32, i32 and bool, and masks built in the graph:
// causal plus key padding from i32 positions and lengths, used by attention both as a bool mask and
// as an additive one.
import type { Graph } from '../src/index';
import type { ParityCase, Tolerance } from './parity';
import { graphCase, seeded, SPECIALS } from './case-util';
import { EXACT } from './cases-math';

const { feed, ids } = seeded(9700);
const attnTol: Tolerance = { atol: 2e-6, rtol: 1e-5, why: 'attention over D = 8 (f32 dot products, exp, one division)' };
const bools = (n: number) => Uint8Array.from(ids(n, 2));

/** pos [T] i32, len [B] i32 -> keep [B, T, T] bool: key j <= query i and j < len[b]. */
function causalPadding(g: Graph, T: number, B: number) {
  const pos = g.input('pos', [T], 'i32'), len = g.input('len', [B], 'i32');
  const causal = g.le(g.reshape(pos, [1, T]), g.reshape(pos, [T, 1]));
  const valid = g.lt(g.reshape(pos, [1, 1, T]), g.reshape(len, [B, 1, 1]));
  return { keep: g.logicalAnd(g.reshape(causal, [1, T, T]), valid), feeds: { pos: Int32Array.from({ length: T }, (_, i) => i), len: Int32Array.from([T, 3, 1].slice(0, B)) } };
}

export const whereCases: ParityCase[] = [
  graphCase('where f32, broadcast cond [3,1,5], input [4,1], other [5]', 'elementwise', EXACT, (g) => {
    g.output('y', g.where(g.input('c', [3, 1, 5], 'bool'), g.input('a', [4, 1]), g.input('b', [5])));
    return { c: bools(15), a: feed([4, 1]), b: feed([5]) };
  }),
  graphCase('where keeps NaN and +-inf of the chosen side', 'elementwise', EXACT, (g) => {
    const n = SPECIALS.length;
    g.output('y', g.where(g.input('c', [n], 'bool'), g.input('a', [n]), g.input('b', [n])));
    return { c: Uint8Array.from(SPECIALS.map((_, i) => i % 2)), a: Float32Array.from(SPECIALS), b: Float32Array.from(SPECIALS.slice().reverse()) };
  }),
  graphCase('where promotes: i32 with f32 gives f32, i32 with bool gives i32, bool with bool', 'elementwise', EXACT, (g) => {
    const c = g.input('c', [6], 'bool'), n = g.input('n', [6], 'i32'), b = g.input('b', [6], 'bool');
    g.output('if', g.where(c, n, g.input('f', [1])));
    g.output('ib', g.eq(g.where(c, n, b), g.input('want', [6], 'i32')));
    g.output('bb', g.where(c, b, g.logicalNot(b)));
    return {
      c: Uint8Array.from([1, 0, 1, 0, 1, 0]), n: Int32Array.from([-2147483648, 5, 2147483647, -3, 9, 0]),
      b: Uint8Array.from([0, 1, 1, 0, 0, 1]), f: Float32Array.from([-0.5]), want: Int32Array.from([-2147483648, 1, 2147483647, 0, 9, 1]),
    };
  }),
  graphCase('maskedFill f32 with -inf, NaN and 1e30; mask broadcast [2,1] over [2,7]', 'elementwise', EXACT, (g) => {
    const x = g.input('x', [2, 7]), m = g.input('m', [1, 7], 'bool');
    g.output('ninf', g.maskedFill(x, m, -Infinity));
    g.output('nan', g.maskedFill(x, g.input('col', [2, 1], 'bool'), NaN));
    g.output('big', g.maskedFill(x, m, 1e30));
    return { x: feed([2, 7]), m: Uint8Array.from([1, 0, 0, 1, 1, 0, 1]), col: Uint8Array.from([0, 1]) };
  }),
  graphCase('maskedFill of i32 (value truncated, saturated) and of bool', 'elementwise', EXACT, (g) => {
    const n = g.input('n', [4], 'i32'), m = g.input('m', [4], 'bool');
    g.output('trunc', g.maskedFill(n, m, -2.75));
    g.output('sat', g.eq(g.maskedFill(n, m, 1e12), g.input('want', [4], 'i32')));
    g.output('bool', g.maskedFill(m, g.logicalNot(m), 5));
    return { n: Int32Array.from([1, -2, 3, 4]), m: Uint8Array.from([1, 0, 1, 0]), want: Int32Array.from([2147483647, -2, 2147483647, 4]) };
  }),
  graphCase('causal + padding mask from i32 positions and lengths, as bool and additive masks, into attention', 'attention', attnTol, (g) => {
    const T = 5, B = 3, D = 8;
    const { keep, feeds } = causalPadding(g, T, B);
    const q = g.input('q', [B, T, D]), k = g.input('k', [B, T, D]), v = g.input('v', [B, T, D]);
    g.output('keep', keep);
    g.output('bool', g.scaledDotProductAttention(q, k, v, { attnMask: keep }));
    const additive = g.maskedFill(g.where(keep, g.constant(new Float32Array(1), [1]), g.constant(new Float32Array(1), [1])), g.logicalNot(keep), -Infinity);
    g.output('additive', g.scaledDotProductAttention(q, k, v, { attnMask: additive }));
    return { ...feeds, q: feed([B, T, D]), k: feed([B, T, D]), v: feed([B, T, D]) };
  }),
];
