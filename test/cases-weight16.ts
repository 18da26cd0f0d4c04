// Parity cases for 16-bit weights (g.constant(u16, shape, 'f16' | 'bf16')): matmul's b, linear's
// weight (plain, transposed as GPT-2's Conv1D holds it, with bias and a fused activation) and
// embedding tables, on awkward shapes (K odd, N = 1, primes 33 and 67, odd element counts that pad
// to whole pairs), large magnitudes, and every matmul variant the shape allows. Each runs with the
// engine's own read (shader-f16 where the device has it, else packed pairs) and with packed pairs
// forced, so Node on lavapipe (which has shader-f16) checks both reads.
//
// The reference is the float64 interpreter on the same 16-bit values widened, so the only error is
// the GPU's f32 accumulation: the tolerance is matmul's (cases-matmul.ts), 4e-7 K s_a s_b. Against
// the f32 weights the 16-bit ones were rounded from, the error is that of the rounding itself (f16:
// 2^-11 relative per weight, bf16: 2^-8), measured in test/weights16.test.ts.
import { Graph, type CompileOptions } from '../src/index';
import { toHalf } from '../src/graph/half';
import type { HalfDType } from '../src/graph/ir';
import type { ParityCase, Tolerance } from './parity';
import { seeded } from './case-util';

const { feed, ids } = seeded(1600);

const tol = (k: number, sa: number, sb: number): Tolerance => ({
  atol: 4e-7 * Math.max(k, 1) * sa * sb + 1e-7, rtol: 1e-5,
  why: 'f32 accumulation of K products of exactly widened 16-bit weights: matmul\'s 4e-7*K*s_a*s_b',
});

const DTYPES: HalfDType[] = ['f16', 'bf16'];
const READS: [string, CompileOptions | undefined][] = [['auto', undefined], ['packed', { variants: { weight16: 'packed' } }]];
const merge = (a?: CompileOptions, b?: CompileOptions): CompileOptions | undefined =>
  a || b ? { ...a, ...b, variants: { ...a?.variants, ...b?.variants } } : undefined;

interface Spec {
  /** A [..., M, K], B [K, N] (stored [N, K] and transposed when bT). */
  a: number[];
  n: number;
  bT?: boolean;
  sa?: number;
  sb?: number;
}

function matmulCase(dtype: HalfDType, name: string, s: Spec, read: string, options?: CompileOptions): ParityCase {
  const k = s.a[s.a.length - 1], sa = s.sa ?? 1, sb = s.sb ?? 1;
  const stored = s.bT ? [s.n, k] : [k, s.n];
  const x = feed(s.a, sa), w = toHalf(feed(stored, sb), dtype);
  return {
    id: `weight16 matmul ${dtype} ${name}${s.bT ? ' bT' : ''} (${read})`, kernel: 'matmul', options, dispatches: 1, tol: tol(k, sa, sb),
    build: () => {
      const g = new Graph();
      let b = g.constant(w, stored, dtype);
      if (s.bT) b = g.transpose(b, 0, 1);
      g.output('y', g.matmul(g.input('a', s.a), b));
      return { graph: g, feeds: { a: x } };
    },
  };
}

function linearCase(dtype: HalfDType, name: string, x: number[], out: number, o: { bias?: boolean; act?: 'relu'; conv?: boolean }, read: string, options?: CompileOptions): ParityCase {
  const k = x[x.length - 1];
  const stored = o.conv ? [k, out] : [out, k];
  const xs = feed(x), w = toHalf(feed(stored), dtype), bias = feed([out]);
  return {
    id: `weight16 linear ${dtype} ${name}${o.conv ? ' conv1d' : ''}${o.bias ? ' +bias' : ''}${o.act ? ` +${o.act}` : ''} (${read})`,
    kernel: 'matmul', options, dispatches: 1, tol: tol(k + 1, 1, 1),
    build: () => {
      const g = new Graph();
      let wt = g.constant(w, stored, dtype);
      if (o.conv) wt = g.transpose(wt, 0, 1);
      let y = g.linear(g.input('x', x), wt, o.bias ? g.constant(bias, [out]) : undefined);
      if (o.act) y = g.relu(y);
      g.output('y', y);
      return { graph: g, feeds: { x: xs } };
    },
  };
}

function embeddingCase(dtype: HalfDType, num: number, dim: number, idsShape: number[], scale: number, read: string, options?: CompileOptions): ParityCase {
  const table = toHalf(feed([num, dim], scale), dtype);
  const n = idsShape.reduce((a, b) => a * b, 1), idv = ids(n, num);
  return {
    id: `weight16 embedding ${dtype} [${num}, ${dim}] ids [${idsShape.join(', ')}] x${scale} (${read})`, kernel: 'embedding', options, dispatches: 1,
    tol: { atol: 0, rtol: 0, why: 'a row copy of exactly widened 16-bit values' },
    build: () => {
      const g = new Graph();
      g.output('y', g.embedding(g.input('ids', idsShape, 'i32'), g.constant(table, [num, dim], dtype)));
      return { graph: g, feeds: { ids: idv } };
    },
  };
}

const SHAPES: [string, Spec][] = [
  ['1x1x1', { a: [1, 1], n: 1 }],
  ['5x7x1 (K odd, N 1)', { a: [5, 7], n: 1 }],
  ['33x67x33', { a: [33, 67], n: 33 }],
  ['3x33x67', { a: [3, 33], n: 67, bT: true }],
  ['batched [2,9,13]x[13,67]', { a: [2, 9, 13], n: 67 }],
  ['scaled 17x33x5 (|b| 1e3)', { a: [17, 33], n: 5, sb: 1000, sa: 10 }],
];

// Shapes the vec4 paths take (K, N multiples of 4), with each variant forced; odd M.
const VARIANTS = ['naive', 'tiled', 'tiled-vec4', 'register'] as const;

export const weight16Cases: ParityCase[] = DTYPES.flatMap((dt) => READS.flatMap(([read, opts]) => [
  ...SHAPES.map(([name, s]) => matmulCase(dt, name, s, read, opts)),
  ...VARIANTS.flatMap((v) => [false, true].map((bT) =>
    matmulCase(dt, `5x36x68 ${v}`, { a: [5, 36], n: 68, bT }, read, merge(opts, { variants: { matmul: v } })))),
  linearCase(dt, '[2,3,33]->67', [2, 3, 33], 67, { bias: true }, read, opts),
  linearCase(dt, '[7,64]->1', [7, 64], 1, { bias: true, act: 'relu' }, read, opts),
  linearCase(dt, '[4,67]->33', [4, 67], 33, { conv: true, bias: true }, read, opts),
  linearCase(dt, '[3,32]->68', [3, 32], 68, { conv: true }, read, opts),
  embeddingCase(dt, 13, 7, [2, 5], 1, read, opts),
  embeddingCase(dt, 67, 33, [3], dt === 'f16' ? 60000 : 1e30, read, opts),
  embeddingCase(dt, 1, 1, [4], 1, read, opts),
]));
