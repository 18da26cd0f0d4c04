// Parity cases for layerNorm (shaders/layernorm.wgsl): rows of 1 up to 4097, normalised over one or
// two dims, with and without weight and bias, offset rows, both variants and workgroup sizes forced,
// and rows of NaN, +-inf and 1e30.
import { Graph, type CompileOptions } from '../src/index';
import type { ParityCase, Tolerance } from './parity';
import { seeded } from './case-util';

// Layer norm: f32 sums over N of centred values; the output is O(1) after normalising, so error is
// about sqrt(N) u times |x - mean| / std, larger when |mean| >> std (the offset case).
export const lnTol: Tolerance = { atol: 2e-5, rtol: 1e-4, why: 'f32 mean/variance sums over N; |mean|/std up to 10 in the offset case' };

const { feed } = seeded(5000);

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

export const layernormCases: ParityCase[] = [
  ...(['workgroup', 'row'] as const).flatMap((v) => [lnSpecialCase(v, 7), lnSpecialCase(v, 300), lnSpecialCase(v, 300, v === 'row' ? 3 : 32)]),
  ...(['workgroup', 'row'] as const).flatMap((v) =>
    LN_SHAPES.map(([name, shape, ns, o]) => lnCase(`layerNorm ${v} ${name}`, shape, ns, o, { variants: { layernorm: v } }))),
  lnCase('layerNorm WG=32 [3,300]', [3, 300], [300], { weight: true }, { variants: { layernorm: 'workgroup' }, constants: { layernorm: { WG: 32 } } }),
  lnCase('layerNorm row WG=3 [7,300]', [7, 300], [300], { weight: true, bias: true }, { variants: { layernorm: 'row' }, constants: { layernorm: { WG: 3 } } }),
];
