// Parity cases for src/ops/cast.ts (shaders/elementwise.wgsl): f32 -> i32 (toward zero, NaN -> 0,
// saturating), to bool (NaN true, -0 false), from bool, i32 -> f32 rounding, and casts of views.
import type { ParityCase } from './parity';
import { graphCase, seeded, SPECIALS } from './case-util';
import { EXACT } from './cases-math';

const { feed } = seeded(9800);
const I32_MIN = -2147483648, I32_MAX = 2147483647;

export const castCases: ParityCase[] = [
  graphCase('cast f32 -> i32: toward zero, small magnitudes', 'elementwise', EXACT, (g) => {
    g.output('y', g.cast(g.input('x', [10]), 'i32'));
    return { x: Float32Array.from([2.7, -2.7, 0.5, -0.5, -0, 1e-30, 16777216, -16777216, 100.999, -1]) };
  }),
  // NaN -> 0; +-inf and past i32's range saturate: checked through eq against the i32 extremes.
  graphCase('cast f32 -> i32 of NaN, +-inf, 3e9, -3e9, 2^31 saturates (checked through eq)', 'elementwise', EXACT, (g) => {
    g.output('y', g.eq(g.cast(g.input('x', [8]), 'i32'), g.input('want', [8], 'i32')));
    return {
      x: Float32Array.from([NaN, Infinity, -Infinity, 3e9, -3e9, 2147483648, -2147483648, 2147483520]),
      want: Int32Array.from([0, I32_MAX, I32_MIN, I32_MAX, I32_MIN, I32_MAX, I32_MIN, 2147483520]),
    };
  }),
  graphCase('cast to bool: f32 specials (NaN true, -0 false), i32', 'elementwise', EXACT, (g) => {
    g.output('f', g.cast(g.input('x', [SPECIALS.length + 1]), 'bool'));
    g.output('i', g.cast(g.input('n', [4], 'i32'), 'bool'));
    return { x: Float32Array.from([...SPECIALS, -0]), n: Int32Array.from([0, I32_MIN, 1, -1]) };
  }),
  graphCase('cast from bool to f32 and i32; i32 -> f32 rounds to nearest', 'elementwise', EXACT, (g) => {
    const b = g.input('b', [4], 'bool');
    g.output('f', g.cast(b, 'f32'));
    g.output('i', g.cast(b, 'i32'));
    g.output('big', g.eq(g.cast(g.input('n', [3], 'i32'), 'f32'), g.input('want', [3])));
    return { b: Uint8Array.from([0, 1, 1, 0]), n: Int32Array.from([16777217, I32_MAX, -16777219]), want: Float32Array.from([16777216, 2147483648, -16777220]) };
  }),
  graphCase('cast of a transposed f32 view to i32 and back [4,6]^T', 'elementwise', EXACT, (g) => {
    const t = g.transpose(g.input('x', [4, 6]), 0, 1);
    g.output('y', g.cast(g.cast(t, 'i32'), 'f32'));
    return { x: feed([4, 6], 50) };
  }),
];
