// Parity cases for shaders/elementwise.wgsl: add, sub, mul, div (broadcast, transposed views, rank 9),
// relu, tanh, sigmoid and gelu (both forms), copies of views, and NaN, +-inf and overflowing inputs.
import type { CompileOptions, Feeds, Graph } from '../src/index';
import type { ParityCase, Tolerance } from './parity';
import { graphCase, PAIRS, seeded, SPECIALS } from './case-util';

const exactTol: Tolerance = { atol: 0, rtol: 2.5e-7, why: 'one correctly rounded f32 op (div: 2.5 ulp)' };
const transcTol: Tolerance = { atol: 1e-6, rtol: 1e-5, why: 'tanh/sigmoid through exp: a few ulp, plus clamping at |x| = 15' };

// erf by Abramowitz & Stegun 7.1.26 is within 1.5e-7, so gelu within 1.5e-7 * |x| / 2 (|x| <= 12
// where it matters; beyond, erf is exactly +-1); the tanh form goes through exp (a few ulp).
const geluTol: Tolerance = { atol: 1e-6, rtol: 1e-5, why: 'A&S 7.1.26 erf (1.5e-7 abs), tanh form via exp' };

const { feed } = seeded(3000);

function ewCase(id: string, tol: Tolerance, build: (g: Graph) => Feeds, options?: CompileOptions): ParityCase {
  return graphCase(id, 'elementwise', tol, build, { options });
}

const geluCase = (id: string, shape: number[], approximate: 'none' | 'tanh', scale: number): ParityCase =>
  ewCase(id, geluTol, (g) => {
    g.output('y', g.gelu(g.input('x', shape), approximate));
    return { x: feed(shape, scale) };
  });

const geluSpecials = Float32Array.from([NaN, Infinity, -Infinity, 1e30, -1e30, 3e38, -3.4e38, 1e13, -1e13, 100, -100, 20, -20, 0, 1, -1, 1e-30]);

export const elementwiseCases: ParityCase[] = [
  ...(['add', 'sub', 'mul', 'div'] as const).map((op) =>
    ewCase(`${op} broadcast [4,1,5] and [3,1]`, exactTol, (g) => {
      g.output('y', g[op](g.input('a', [4, 1, 5]), g.input('b', [3, 1])));
      return { a: feed([4, 1, 5]), b: feed([3, 1]) };
    }),
  ),
  ...(['relu', 'tanh', 'sigmoid'] as const).map((op) =>
    ewCase(`${op} of large magnitudes [7,13]`, transcTol, (g) => {
      g.output('y', g[op](g.input('x', [7, 13])));
      return { x: feed([7, 13], 40) };
    }),
  ),
  ewCase('add of a transposed view and a row [5,3]^T + [5]', exactTol, (g) => {
    g.output('y', g.add(g.transpose(g.input('a', [5, 3]), 0, 1), g.input('b', [5])));
    return { a: feed([5, 3]), b: feed([5]) };
  }),
  ewCase('reshape of a transpose, then mul [2,3,4] -> [4,6]', exactTol, (g) => {
    const x = g.transpose(g.input('x', [2, 3, 4]), 0, 2);
    g.output('y', g.mul(g.reshape(x, [4, -1]), g.input('s', [1, 6])));
    return { x: feed([2, 3, 4]), s: feed([1, 6]) };
  }),
  ewCase('output of a transposed input (copy) [3,1,7]', exactTol, (g) => {
    g.output('y', g.transpose(g.input('x', [3, 1, 7]), 0, 2));
    return { x: feed([3, 1, 7]) };
  }),
  ewCase('sigmoid WG=1, 70001 workgroups folded', transcTol, (g) => {
    g.output('y', g.sigmoid(g.input('x', [70001])));
    return { x: feed([70001], 8) };
  }, { constants: { elementwise: { WG: 1 } } }),
  ewCase('rank 9 broadcast add', exactTol, (g) => {
    const s = [2, 1, 2, 1, 2, 1, 2, 1, 3];
    g.output('y', g.add(g.input('a', s), g.input('b', [2, 1, 2, 1, 2, 1, 2, 3, 1])));
    return { a: feed(s), b: feed([2, 1, 2, 1, 2, 1, 2, 3, 1]) };
  }),
  ewCase('mlp: linear -> relu -> linear -> softmax, residual add', { atol: 2e-5, rtol: 1e-4, why: 'two f32 GEMMs of K <= 24, then softmax' }, (g) => {
    const x = g.input('x', [5, 24]);
    const h = g.relu(g.linear(x, g.constant(feed([24, 24]), [24, 24]), g.constant(feed([24]), [24])));
    g.output('y', g.softmax(g.add(g.linear(h, g.input('w2', [24, 24])), x), -1));
    return { x: feed([5, 24]), w2: feed([24, 24]) };
  }),
  geluCase('gelu erf [7,13]', [7, 13], 'none', 4),
  geluCase('gelu erf large magnitudes [5,11]', [5, 11], 'none', 40),
  geluCase('gelu tanh [7,13]', [7, 13], 'tanh', 4),
  geluCase('gelu tanh large magnitudes [5,11]', [5, 11], 'tanh', 40),
  // NaN, +-inf and huge magnitudes: torch's float32 answer is IEEE's, and the kernel must give it.
  // gelu(-inf) is NaN in torch (-inf * 0); a cube past f32's range saturates the tanh form.
  ...(['none', 'tanh'] as const).map((a) =>
    ewCase(`gelu ${a} of NaN, +-inf, 1e30, 3e38`, geluTol, (g) => {
      g.output('y', g.gelu(g.input('x', [geluSpecials.length]), a));
      return { x: geluSpecials };
    }),
  ),
  ...(['relu', 'tanh', 'sigmoid'] as const).map((op) =>
    ewCase(`${op} of NaN, +-inf, 1e30, 3e38`, transcTol, (g) => {
      g.output('y', g[op](g.input('x', [SPECIALS.length])));
      return { x: Float32Array.from(SPECIALS) };
    }),
  ),
  ...(['add', 'sub', 'mul', 'div'] as const).map((op) =>
    ewCase(`${op} of NaN, +-inf and overflowing pairs, broadcast [2,${PAIRS.length}] and [${PAIRS.length}]`, exactTol, (g) => {
      g.output('y', g[op](g.input('a', [2, PAIRS.length]), g.input('b', [PAIRS.length])));
      return { a: Float32Array.from([...PAIRS.map((p) => p[0]), ...PAIRS.map((p) => p[1])]), b: Float32Array.from(PAIRS.map((p) => p[1])) };
    }),
  ),
  ewCase('copy of a transposed view keeps NaN and +-inf [3,5]^T', exactTol, (g) => {
    g.output('y', g.transpose(g.input('x', [3, 5]), 0, 1));
    return { x: Float32Array.from(SPECIALS.slice(0, 15)) };
  }),
];
