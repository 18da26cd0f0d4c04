// Parity cases for gelu (elementwise.wgsl), layerNorm (layernorm.wgsl) and embedding (embedding.wgsl).
import { Graph, type CompileOptions } from '../src/index';
import { numel } from '../src/graph/shapes';
import { randn, rng, type ParityCase, type Tolerance } from './parity';

// erf by Abramowitz & Stegun 7.1.26 is within 1.5e-7, so gelu within 1.5e-7 * |x| / 2 (|x| <= 12
// where it matters; beyond, erf is exactly +-1); the tanh form goes through exp (a few ulp).
const geluTol: Tolerance = { atol: 1e-6, rtol: 1e-5, why: 'A&S 7.1.26 erf (1.5e-7 abs), tanh form via exp' };
// Layer norm: f32 sums over N of centred values; the output is O(1) after normalising, so error is
// about sqrt(N) u times |x - mean| / std, larger when |mean| >> std (the offset case).
const lnTol: Tolerance = { atol: 2e-5, rtol: 1e-4, why: 'f32 mean/variance sums over N; |mean|/std up to 10 in the offset case' };
const exact: Tolerance = { atol: 0, rtol: 0, why: 'a gather copies values bit for bit' };

let seed = 5000;
const feed = (shape: number[], scale = 1, offset = 0) => randn(numel(shape), seed++, scale).map((v) => v + offset);

function geluCase(id: string, shape: number[], approximate: 'none' | 'tanh', scale: number): ParityCase {
  return {
    id, kernel: 'elementwise', tol: geluTol,
    build: () => {
      const g = new Graph();
      g.output('y', g.gelu(g.input('x', shape), approximate));
      return { graph: g, feeds: { x: feed(shape, scale) } };
    },
  };
}

function lnCase(id: string, shape: number[], ns: number[], opts: { weight?: boolean; bias?: boolean; scale?: number; offset?: number; eps?: number } = {}, options?: CompileOptions): ParityCase {
  return {
    id, kernel: 'layernorm', tol: lnTol, options, dispatches: 1,
    build: () => {
      const g = new Graph();
      const w = opts.weight ? g.input('w', ns) : undefined;
      const b = opts.bias ? g.input('b', ns) : undefined;
      g.output('y', g.layerNorm(g.input('x', shape), ns, w, b, opts.eps));
      const feeds: Record<string, Float32Array> = { x: feed(shape, opts.scale ?? 1, opts.offset ?? 0) };
      if (w) feeds.w = feed(ns, 2);
      if (b) feeds.b = feed(ns);
      return { graph: g, feeds };
    },
  };
}

function ids(n: number, num: number): Int32Array {
  const r = rng(seed++);
  return Int32Array.from({ length: n }, () => Math.floor(r() * num));
}

const LN_SHAPES: [string, number[], number[], Parameters<typeof lnCase>[3]][] = [
  ['[3,7] over [7], weight and bias', [3, 7], [7], { weight: true, bias: true }],
  ['[2,5,33] over [5,33], weight only', [2, 5, 33], [5, 33], { weight: true }],
  ['[4,1] over [1] (rows of 1), bias only', [4, 1], [1], { bias: true }],
  ['[2,4097] no affine', [2, 4097], [4097], {}],
  ['offset 1000, x100 [3,257]', [3, 257], [257], { weight: true, bias: true, scale: 100, offset: 1000 }],
  ['eps 1e-3 [6,64]', [6, 64], [64], { eps: 1e-3, weight: true, bias: true }],
];

/**
 * Rows of x with NaN, +inf, -inf (torch: the whole row NaN), +-1e30 (the centred squares overflow
 * f32: the kernel rescales), 1e20 beside small values, and plain ones; the weight holds a NaN and the
 * bias an inf, which reach their columns only.
 */
function lnSpecialCase(v: 'workgroup' | 'row', n: number, wg?: number): ParityCase {
  const options: CompileOptions = { variants: { layernorm: v }, ...(wg ? { constants: { layernorm: { WG: wg } } } : {}) };
  return {
    id: `layerNorm ${v}${wg ? ` WG=${wg}` : ''} rows of ${n} with NaN, +-inf, 1e30`, kernel: 'layernorm', tol: lnTol, options, dispatches: 1,
    build: () => {
      const g = new Graph();
      const x = feed([7, n]), w = feed([n], 2), b = feed([n]);
      [x[1], x[n + n - 1], x[2 * n + 2]] = [NaN, Infinity, -Infinity];
      for (let j = 0; j < n; j++) x[3 * n + j] *= 1e30;
      x[4 * n + (n >> 1)] = 1e20;
      for (let j = 0; j < n; j += 2) x[5 * n + j] = j % 4 ? -1e30 : 1e30;
      [w[n - 1], b[0]] = [NaN, -Infinity];
      g.output('y', g.layerNorm(g.input('x', [7, n]), [n], g.input('w', [n]), g.input('b', [n])));
      return { graph: g, feeds: { x, w, b } };
    },
  };
}

const geluSpecials = Float32Array.from([NaN, Infinity, -Infinity, 1e30, -1e30, 3e38, -3.4e38, 1e13, -1e13, 100, -100, 20, -20, 0, 1, -1, 1e-30]);

export const normCases: ParityCase[] = [
  ...(['workgroup', 'row'] as const).flatMap((v) => [lnSpecialCase(v, 7), lnSpecialCase(v, 300), lnSpecialCase(v, 300, v === 'row' ? 3 : 32)]),
  // gelu(-inf) is NaN in torch (-inf * 0); a cube past f32's range saturates the tanh form.
  ...(['none', 'tanh'] as const).map((a): ParityCase => ({
    id: `gelu ${a} of NaN, +-inf, 1e30, 3e38`, kernel: 'elementwise', tol: geluTol,
    build: () => {
      const g = new Graph();
      g.output('y', g.gelu(g.input('x', [geluSpecials.length]), a));
      return { graph: g, feeds: { x: geluSpecials } };
    },
  })),
  ...(['workgroup', 'row'] as const).flatMap((v) =>
    LN_SHAPES.map(([name, shape, ns, o]) => lnCase(`layerNorm ${v} ${name}`, shape, ns, o, { variants: { layernorm: v } }))),
  geluCase('gelu erf [7,13]', [7, 13], 'none', 4),
  geluCase('gelu erf large magnitudes [5,11]', [5, 11], 'none', 40),
  geluCase('gelu tanh [7,13]', [7, 13], 'tanh', 4),
  geluCase('gelu tanh large magnitudes [5,11]', [5, 11], 'tanh', 40),
  lnCase('layerNorm WG=32 [3,300]', [3, 300], [300], { weight: true }, { variants: { layernorm: 'workgroup' }, constants: { layernorm: { WG: 32 } } }),
  lnCase('layerNorm row WG=3 [7,300]', [7, 300], [300], { weight: true, bias: true }, { variants: { layernorm: 'row' }, constants: { layernorm: { WG: 3 } } }),
  {
    id: 'embedding ids [2,5] into [17,8]', kernel: 'embedding', tol: exact, dispatches: 1,
    build: () => {
      const g = new Graph();
      g.output('y', g.embedding(g.input('ids', [2, 5], 'i32'), g.input('w', [17, 8])));
      return { graph: g, feeds: { ids: ids(10, 17), w: feed([17, 8]) } };
    },
  },
  {
    id: 'embedding one id into [1,3], dim-1 table [13,1]', kernel: 'embedding', tol: exact,
    build: () => {
      const g = new Graph();
      g.output('a', g.embedding(g.input('ids', [1], 'i32'), g.input('w', [1, 3])));
      g.output('b', g.embedding(g.input('ids2', [3, 2], 'i32'), g.constant(feed([13, 1]), [13, 1])));
      return { graph: g, feeds: { ids: new Int32Array([0]), ids2: ids(6, 13), w: feed([1, 3]) } };
    },
  },
  {
    id: 'embedding constant ids through a reshape, then layerNorm', kernel: 'embedding', tol: lnTol,
    build: () => {
      const g = new Graph();
      const e = g.embedding(g.reshape(g.constant(ids(12, 50), [12]), [3, 4]), g.input('w', [50, 16]));
      g.output('y', g.layerNorm(e, [16]));
      return { graph: g, feeds: { w: feed([50, 16], 3) } };
    },
  },
];
