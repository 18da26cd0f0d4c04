// Parity cases for matmul and linear (shaders/matmul.wgsl). Shapes are awkward on purpose: 1, primes,
// and sizes just past a tile, beside tile multiples; every matmul variant runs on them. Tile sweeps,
// NaN/+-inf cases and the fused epilogue (activation, residual add) too.
import { Graph, type CompileOptions } from '../src/index';
import type { ParityCase, Tolerance } from './parity';
import { seeded } from './case-util';

// Matmul sums K products in f32; each add rounds with u = 2^-24 relative to the running sum. With
// |a|, |b| <= s the sum stays within K s^2 and the error within about K u K s^2 (the gamma_K bound)
// in the worst case; random signs keep it near sqrt(K) u. atol = 4e-7 K s^2 sits between the two,
// far below the O(s^2) error of any indexing bug.
const matmulTol = (k: number, s = 1): Tolerance => ({
  atol: 4e-7 * Math.max(k, 1) * s * s + 1e-7, rtol: 1e-5,
  why: 'f32 accumulation of K products: atol 4e-7*K*s^2 (between sqrt(K)*u and the K*u worst case)',
});

const { feed } = seeded(1);

interface MatmulSpec {
  a: number[];
  b: number[];
  /** Store A as [..., K, M] (B as [..., N, K]) and transpose it in the graph. */
  aT?: boolean;
  bT?: boolean;
  scale?: number;
}

function matmulCase(id: string, spec: MatmulSpec, options?: CompileOptions): ParityCase {
  const k = spec.a[spec.a.length - 1];
  const swap = (s: number[]) => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];
  return {
    id, kernel: 'matmul', options, dispatches: 1,
    tol: matmulTol(k, spec.scale ?? 1),
    build: () => {
      const g = new Graph();
      const aStored = spec.aT ? swap(spec.a) : spec.a;
      const bStored = spec.bT ? swap(spec.b) : spec.b;
      let a = g.input('a', aStored), b = g.input('b', bStored);
      if (spec.aT) a = g.transpose(a, -1, -2);
      if (spec.bT) b = g.transpose(b, -2, -1);
      g.output('y', g.matmul(a, b));
      return { graph: g, feeds: { a: feed(aStored, spec.scale), b: feed(bStored, spec.scale) } };
    },
  };
}

function linearCase(id: string, x: number[], out: number, opts: { bias?: boolean; act?: 'relu' | 'tanh' | 'sigmoid' } = {}, options?: CompileOptions): ParityCase {
  const k = x[x.length - 1];
  return {
    id, kernel: 'matmul', options, dispatches: 1,
    tol: { ...matmulTol(k + 1), ...(opts.act && opts.act !== 'relu' ? { rtol: 1e-5, atol: matmulTol(k + 1).atol + 1e-6 } : {}) },
    build: () => {
      const g = new Graph();
      const xs = g.input('x', x), w = g.input('w', [out, k]);
      const b = opts.bias ? g.input('b', [out]) : undefined;
      let y = g.linear(xs, w, b);
      if (opts.act) y = g[opts.act](y);
      g.output('y', y);
      const feeds: Record<string, Float32Array> = { x: feed(x), w: feed([out, k]) };
      if (b) feeds.b = feed([out]);
      return { graph: g, feeds };
    },
  };
}

const SHAPES: [string, MatmulSpec][] = [
  ['1x1x1', { a: [1, 1], b: [1, 1] }],
  ['7x13x5', { a: [7, 13], b: [13, 5] }],
  ['33x65x17', { a: [33, 65], b: [65, 17] }],
  ['127x255x129', { a: [127, 255], b: [255, 129] }],
  ['64x64x64', { a: [64, 64], b: [64, 64] }],
  ['128x32x96', { a: [128, 32], b: [32, 96] }],
  ['batched 3x33x17x20', { a: [3, 33, 17], b: [3, 17, 20] }],
  ['broadcast [2,1,5,7]x[3,7,4]', { a: [2, 1, 5, 7], b: [3, 7, 4] }],
  ['broadcast [4,9,8]x[8,5]', { a: [4, 9, 8], b: [8, 5] }],
  ['aT 33x65x17', { a: [33, 65], b: [65, 17], aT: true }],
  ['bT 33x65x17', { a: [33, 65], b: [65, 17], bT: true }],
  ['aT bT batched [2,31,9]x[2,9,6]', { a: [2, 31, 9], b: [2, 9, 6], aT: true, bT: true }],
  ['scaled x100 33x65x17', { a: [33, 65], b: [65, 17], scale: 100 }],
];
// Shapes where vec4 loads apply: each operand's contiguous dim a multiple of 4, the others awkward.
const VEC4_SHAPES: [string, MatmulSpec][] = [
  ['33x20x12', { a: [33, 20], b: [20, 12] }],
  ['bT 37x20x17', { a: [37, 20], b: [20, 17], bT: true }],
  ['aT 36x7x12', { a: [36, 7], b: [7, 12], aT: true }],
  ['aT bT 36x12x5', { a: [36, 12], b: [12, 5], aT: true, bT: true }],
  ['batched broadcast [3,1,9,8]x[2,8,4]', { a: [3, 1, 9, 8], b: [2, 8, 4] }],
  ['128x64x128', { a: [128, 64], b: [64, 128] }],
  ['scaled x100 65x36x68', { a: [65, 36], b: [36, 68], scale: 100 }],
];

const REGISTER_TILES: Record<string, number>[] = [
  { RM: 8, RN: 8 },
  { RM: 16, RN: 16, WG_NAIVE: 16 },
  { RM: 4, RN: 16 },
  { RM: 16, RN: 4, WG_NAIVE: 3 },
  // Two blocks of 16 rows: at 33 and 37 rows the second block is partly past M, at 9 rows (and in
  // the last tile of 65) wholly; 128 rows fill four tiles.
  { RM: 32, RN: 16, WG_NAIVE: 8 },
  { RM: 32, RN: 4 },
];

const TILE_SWEEP = [
  { TILE_M: 16, TILE_N: 16, TILE_K: 4 },
  { TILE_M: 32, TILE_N: 64, TILE_K: 8 },
  { TILE_M: 64, TILE_N: 32, TILE_K: 32 },
];

const shapeCases: ParityCase[] = [
  ...[...SHAPES, ...VEC4_SHAPES].map(([n, s]) => matmulCase(`matmul auto ${n}`, s)),
  ...[...SHAPES, ...VEC4_SHAPES].map(([n, s]) => matmulCase(`matmul naive ${n}`, s, { variants: { matmul: 'naive' } })),
  ...[...SHAPES, ...VEC4_SHAPES].map(([n, s]) => matmulCase(`matmul tiled ${n}`, s, { variants: { matmul: 'tiled' } })),
  ...VEC4_SHAPES.map(([n, s]) => matmulCase(`matmul tiled-vec4 ${n}`, s, { variants: { matmul: 'tiled-vec4' } })),
  // The register tile needs A stored [M, K]: every vec4 shape but the transposed-A ones.
  ...VEC4_SHAPES.filter(([, s]) => !s.aT).map(([n, s]) => matmulCase(`matmul register ${n}`, s, { variants: { matmul: 'register' } })),
  matmulCase('matmul register WG_NAIVE=1 bT 37x20x17', VEC4_SHAPES[1][1], { variants: { matmul: 'register' }, constants: { matmul: { WG_NAIVE: 1 } } }),
  // Every register tile side forced, on shapes that leave partial row and column tiles (bT: N = 17,
  // a quad straddling N).
  ...REGISTER_TILES.flatMap((t) => VEC4_SHAPES.filter(([, s]) => !s.aT).map(([n, s]) =>
    matmulCase(`matmul register ${JSON.stringify(t)} ${n}`, s, { variants: { matmul: 'register' }, constants: { matmul: t } }))),
  ...TILE_SWEEP.flatMap((t) => [
    matmulCase(`matmul tiled ${JSON.stringify(t)} 33x65x17`, SHAPES[2][1], { variants: { matmul: 'tiled' }, constants: { matmul: t } }),
    matmulCase(`matmul tiled ${JSON.stringify(t)} aT bT 127x255x129`, { ...SHAPES[3][1], aT: true, bT: true }, { variants: { matmul: 'tiled' }, constants: { matmul: t } }),
    matmulCase(`matmul tiled-vec4 ${JSON.stringify(t)} bT 37x20x17`, VEC4_SHAPES[1][1], { variants: { matmul: 'tiled-vec4' }, constants: { matmul: t } }),
  ]),
  matmulCase('matmul naive WG_NAIVE=1 (grid folded past 65535) 300x1x257', { a: [300, 1], b: [1, 257] }, { variants: { matmul: 'naive' }, constants: { matmul: { WG_NAIVE: 1 } } }),
  linearCase('linear 1 feature, no bias', [1], 1),
  linearCase('linear [5,7] -> 3 + bias', [5, 7], 3, { bias: true }),
  linearCase('linear [2,17,33] -> 65 + bias, relu fused', [2, 17, 33], 65, { bias: true, act: 'relu' }),
  linearCase('linear [3,20] -> 12 + bias, tanh fused', [3, 20], 12, { bias: true, act: 'tanh' }),
  linearCase('linear [9,64] -> 130 + bias, sigmoid fused', [9, 64], 130, { bias: true, act: 'sigmoid' }),
  linearCase('linear naive [4,13] -> 7 + bias, relu', [4, 13], 7, { bias: true, act: 'relu' }, { variants: { matmul: 'naive' } }),
  linearCase('linear tiled [4,16] -> 8 + bias, relu', [4, 16], 8, { bias: true, act: 'relu' }, { variants: { matmul: 'tiled' } }),
  linearCase('linear tiled-vec4 [33,16] -> 17 + bias, relu', [33, 16], 17, { bias: true, act: 'relu' }, { variants: { matmul: 'tiled-vec4' } }),
  linearCase('linear register [2,13,16] -> 9 + bias, sigmoid', [2, 13, 16], 9, { bias: true, act: 'sigmoid' }, { variants: { matmul: 'register' } }),
  // The register tile starts its sums from the bias: a 16-wide tile straddling N = 37, rows past M = 29.
  linearCase('linear register RM=RN=16 [29,20] -> 37 + bias, tanh', [29, 20], 37, { bias: true, act: 'tanh' },
    { variants: { matmul: 'register' }, constants: { matmul: { RM: 16, RN: 16 } } }),
];

// NaN, +-inf and huge magnitudes: torch's float32 answer is IEEE's, and every variant must give it.
// Products overflow f32 only in the op's last rounding, so the float64 reference, rounded to f32 at
// the output, meets the same infinities. (No result is subnormal: SwiftShader flushes those.)
// Each variant by name (auto: the rule's choice), and the register variant's widest tile.
const MATMUL_VARIANTS: [string, CompileOptions | undefined][] = [
  ['auto', undefined],
  ...(['naive', 'tiled', 'tiled-vec4', 'register'] as const).map((v): [string, CompileOptions] => [v, { variants: { matmul: v } }]),
  ['register RM=RN=16', { variants: { matmul: 'register' }, constants: { matmul: { RM: 16, RN: 16 } } }],
];
const specialFeeds = (rows: number, k: number, n: number) => {
  const a = feed([rows, k]), b = feed([k, n]);
  const set = (m: Float32Array, cols: number, at: [number, number, number][]) => at.forEach(([r, c, v]) => (m[r * cols + c] = v));
  set(a, k, [[0, 5, NaN], [1, 3, Infinity], [2, 3, Infinity], [2, 6, -Infinity], [3, 2, 1e30], [4, 0, 1e30], [5, 7, -Infinity]]);
  // b: a NaN column (7), an inf * 0 (row 1, column 2), and 1e30 * +-1e10 overflowing to +-inf in row 4.
  set(b, n, [[9, 7, NaN], [3, 2, 0], [0, 0, 1e10], [0, 1, -1e10]]);
  return { a, b };
};
const transposed = (m: Float32Array, rows: number, cols: number) => Float32Array.from({ length: m.length }, (_, i) => m[(i % rows) * cols + Math.floor(i / rows)]);

const specialCases: ParityCase[] = [
  ...MATMUL_VARIANTS.flatMap(([v, options]) => [false, true].map((bT): ParityCase => ({
    id: `matmul ${v} NaN, +-inf, 1e30 and overflow${bT ? ', bT' : ''} 9x16x12`, kernel: 'matmul', dispatches: 1,
    options, tol: matmulTol(16),
    build: () => {
      const g = new Graph();
      const { a, b } = specialFeeds(9, 16, 12);
      const bIn = g.input('b', bT ? [12, 16] : [16, 12]);
      g.output('y', g.matmul(g.input('a', [9, 16]), bT ? g.transpose(bIn, 0, 1) : bIn));
      return { graph: g, feeds: { a, b: bT ? transposed(b, 16, 12) : b } };
    },
  }))),
  // The fused epilogue: relu(NaN) = tanh(NaN) = sigmoid(NaN) = NaN; +-inf and 1e30 saturate.
  ...MATMUL_VARIANTS.flatMap(([v, options]) => (['relu', 'tanh', 'sigmoid'] as const).map((act): ParityCase => ({
    id: `linear ${v} + bias, ${act} fused, of NaN, +-inf and 1e30 [9,16] -> 12`, kernel: 'matmul', dispatches: 1,
    options,
    tol: { atol: matmulTol(17).atol + 1e-6, rtol: 1e-5, why: 'f32 GEMM of K = 16 plus bias, then a few-ulp activation' },
    build: () => {
      const g = new Graph();
      const { a, b } = specialFeeds(9, 16, 12);
      const bias = feed([12]);
      [bias[4], bias[5], bias[6]] = [NaN, Infinity, -1e30];
      g.output('y', g[act](g.linear(g.input('x', [9, 16]), g.input('w', [12, 16]), g.input('bias', [12]))));
      return { graph: g, feeds: { x: a, w: transposed(b, 16, 12), bias } };
    },
  }))),
];

// Residual adds fold into the matmul epilogue: one dispatch for linear + bias + activation + residual.
const fusionTol: Tolerance = { atol: 2e-5, rtol: 1e-5, why: 'f32 GEMM over K <= 40, plus one add' };
const fusionCases: ParityCase[] = [
  {
    id: 'fusion: x + relu(linear(x)) is one dispatch', kernel: 'matmul', tol: fusionTol, dispatches: 1,
    build: () => {
      const g = new Graph();
      const x = g.input('x', [6, 40]);
      g.output('y', g.add(x, g.relu(g.linear(x, g.input('w', [40, 40]), g.input('b', [40])))));
      return { graph: g, feeds: { x: feed([6, 40]), w: feed([40, 40]), b: feed([40]) } };
    },
  },
  {
    // Fusion rewrites the IR, so the fused node runs where the add was, after its residual.
    id: 'fusion: a residual computed after the matmul is folded too', kernel: 'matmul', tol: fusionTol, dispatches: 3,
    build: () => {
      const g = new Graph();
      const mm = g.matmul(g.input('a', [5, 8]), g.input('b', [8, 7]));
      g.output('y', g.add(mm, g.tanh(g.input('r', [5, 7]))));
      g.output('z', g.add(g.input('r2', [5, 7]), g.linear(g.input('c', [5, 3]), g.input('w', [7, 3]))));
      return { graph: g, feeds: { a: feed([5, 8]), b: feed([8, 7]), r: feed([5, 7]), r2: feed([5, 7]), c: feed([5, 3]), w: feed([7, 3]) } };
    },
  },
];

export const matmulCases: ParityCase[] = [...shapeCases, ...specialCases, ...fusionCases];
