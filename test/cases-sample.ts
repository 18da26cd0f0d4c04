// Parity cases for sampleTokens (shaders/sample.wgsl): greedy and sampled, vocab 1, primes, 4097 and
// GPT-2's 50257, ties (at the max, at the top-k cut, at the drawn token), k = 1, k past the vocab,
// settings fed or fixed at build, several rows, and rows of NaN, +-inf, 1e30 and 3e38.
import { Graph, type Feeds } from '../src/index';
import { rng, type ParityCase, type Tolerance } from './parity';
import { seeded } from './case-util';

// Token ids must be equal. Greedy compares logits' bits, so it is exact. A sampled token is exact
// too unless its draw u * total falls within about 1e-5 * total of a boundary between two tokens
// (the GPU's weights and sums are f32, the reference's f64); these cases' draws are fixed, and
// test/sample.test.ts measures how close a draw may come on many seeds.
export const tokenTol: Tolerance = { atol: 0, rtol: 0, why: 'token ids; draws kept off f32-rounding distance of a boundary' };

const { feed } = seeded(9900);

/** Draws in [0, 1) from a seed. */
function draws(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r());
}

/** Logits with many exact ties: values on a coarse grid. */
function coarse(n: number, levels: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => Math.floor(r() * levels) * scale);
}

interface Setup {
  rows: number[];
  V: number;
  /** undefined: greedy (temperature the number 0). */
  temperature?: number;
  topK?: number;
  /** Settings fed each run rather than fixed at build. */
  fed?: boolean;
  logits: Float32Array;
  seed?: number;
}

function sampleCase(id: string, s: Setup): ParityCase {
  return {
    id: `sampleTokens ${id}`, kernel: 'sample', tol: tokenTol,
    build: () => {
      const g = new Graph();
      const logits = g.input('logits', [...s.rows, s.V]);
      const feeds: Feeds = { logits: s.logits };
      const n = s.rows.reduce((a, b) => a * b, 1);
      if (s.temperature === undefined) {
        g.output('tokens', g.sampleTokens(logits, s.topK === undefined ? {} : { topK: s.topK }));
      } else if (s.fed) {
        const t = g.input('t', [1]), k = g.input('k', [1], 'i32');
        g.output('tokens', g.sampleTokens(logits, { temperature: t, topK: k, draws: g.input('u', s.rows) }));
        Object.assign(feeds, { t: new Float32Array([s.temperature]), k: new Int32Array([s.topK ?? 0]), u: draws(n, s.seed ?? 1) });
      } else {
        g.output('tokens', g.sampleTokens(logits, { temperature: s.temperature, topK: s.topK, draws: g.input('u', s.rows) }));
        feeds.u = draws(n, s.seed ?? 1);
      }
      return { graph: g, feeds };
    },
  };
}

const specials = (V: number): Float32Array => {
  // Row 0: +inf twice (the first wins greedy; sampling picks among them), 1: a NaN (the first NaN
  // wins, as torch.argmax), 2: all -inf, 3: +-1e30 and -inf, 4: +-3e38 (l - max overflows),
  // 5: -0 and +0 tied at the max, 6: plain values.
  const x = feed([7, V], 4);
  const at = (r: number, j: number, v: number) => (x[r * V + (j % V)] = v);
  at(0, 3, Infinity); at(0, V - 2, Infinity);
  at(1, 5, NaN); at(1, V - 1, NaN); at(1, 1, Infinity);
  x.fill(-Infinity, 2 * V, 3 * V);
  at(3, 0, 1e30); at(3, 2, -1e30); at(3, V - 1, -Infinity);
  at(4, 1, 3e38); at(4, 4, -3.4e38); at(4, V - 3, 3e38);
  x.fill(-1, 5 * V, 6 * V); at(5, 2, -0); at(5, 6, 0);
  return x;
};

export const sampleCases: ParityCase[] = [
  // Greedy.
  sampleCase('greedy vocab 1, 3 rows', { rows: [3], V: 1, logits: feed([3, 1]) }),
  sampleCase('greedy [2,3] rows of 257', { rows: [2, 3], V: 257, logits: feed([6, 257], 10) }),
  sampleCase('greedy ties at the max, 5 rows of 101', { rows: [5], V: 101, logits: coarse(505, 3, 11) }),
  sampleCase('greedy 2 rows of 50257, x1e30', { rows: [2], V: 50257, logits: feed([2, 50257], 1e30) }),
  sampleCase('greedy a 1-D row of 13', { rows: [], V: 13, logits: feed([13], 5) }),
  sampleCase('greedy NaN, +-inf, 1e30, 3e38 and -0, rows of 11', { rows: [7], V: 11, logits: specials(11) }),
  // Sampled.
  sampleCase('t=1 vocab 1', { rows: [2], V: 1, temperature: 1, logits: feed([2, 1]), seed: 3 }),
  sampleCase('t=1 all, 8 rows of 7', { rows: [8], V: 7, temperature: 1, logits: feed([8, 7], 2), seed: 4 }),
  sampleCase('t=0.7 top-5, 6 rows of 97', { rows: [6], V: 97, temperature: 0.7, topK: 5, logits: feed([6, 97], 3), seed: 5 }),
  sampleCase('t=1 k=1 is greedy, 4 rows of 31', { rows: [4], V: 31, temperature: 1, topK: 1, logits: feed([4, 31], 3), seed: 6 }),
  sampleCase('t=2 k past the vocab (40 of 17)', { rows: [5], V: 17, temperature: 2, topK: 40, logits: feed([5, 17]), seed: 7 }),
  sampleCase('t=1 k = vocab (17)', { rows: [5], V: 17, temperature: 1, topK: 17, logits: feed([5, 17]), seed: 8 }),
  sampleCase('t=1 ties everywhere, top-7 cut among ties, 9 rows of 61', { rows: [9], V: 61, temperature: 1, topK: 7, logits: coarse(549, 4, 12), seed: 9 }),
  sampleCase('t=1 ties everywhere, all, 9 rows of 61', { rows: [9], V: 61, temperature: 1, logits: coarse(549, 4, 13), seed: 10 }),
  sampleCase('t=0.5 fed settings, top-3, 4 rows of 4097', { rows: [4], V: 4097, temperature: 0.5, topK: 3, fed: true, logits: feed([4, 4097], 6), seed: 11 }),
  sampleCase('t=1 fed settings, all, [2,2] rows of 4097', { rows: [2, 2], V: 4097, temperature: 1, fed: true, logits: feed([4, 4097], 3), seed: 12 }),
  sampleCase('t=0 fed is greedy, 3 rows of 509', { rows: [3], V: 509, temperature: 0, fed: true, topK: 9, logits: coarse(1527, 5, 14), seed: 13 }),
  sampleCase('t=0.8 top-40, 2 rows of 50257', { rows: [2], V: 50257, temperature: 0.8, topK: 40, logits: feed([2, 50257], 8), seed: 14 }),
  sampleCase('t=1 all, 2 rows of 50257 (peaked)', { rows: [2], V: 50257, temperature: 1, logits: feed([2, 50257], 12), seed: 15 }),
  sampleCase('t=1e-3 top-100 of 1e30-scaled rows of 211', { rows: [3], V: 211, temperature: 1e-3, topK: 100, logits: feed([3, 211], 1e30), seed: 16 }),
  sampleCase('t=1e30 (uniform) all, rows of 23', { rows: [4], V: 23, temperature: 1e30, logits: feed([4, 23], 5), seed: 17 }),
  sampleCase('t=1 top-4 NaN, +-inf, 1e30, 3e38 and -0, rows of 11', { rows: [7], V: 11, temperature: 1, topK: 4, logits: specials(11), seed: 18 }),
  sampleCase('t=1 all NaN, +-inf, 1e30, 3e38 and -0, rows of 11', { rows: [7], V: 11, temperature: 1, logits: specials(11), seed: 19 }),
];
