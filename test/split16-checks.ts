// 16-bit weights past the binding limit, shared by Node and Chromium through test/split-checks.ts
// (which spreads these into SPLIT_CHECKS): f16 and bf16 tables and weights held in parts under a
// small engine cap, including parts of odd element counts (each part is its own buffer, packed in
// pairs from its first element and padded to a whole word), against the CPU reference run on the
// same 16-bit values; and a small GPT-2 held in f16 whose wte and MLP weights pass the cap.
import { GPT2LMHeadModel, GptDecoder, Graph, Runtime, setInitSeed, toHalf, type Feeds, type HalfDType } from '../src/index';
import { checkParity, type ParityCase, type Tolerance } from '../src/testing';
import { eq } from './defect-checks';
import { randn, rng } from './parity';

type CappedRuntime = (cap: number) => Promise<Runtime>;

const exact: Tolerance = { atol: 0, rtol: 0, why: 'a gather copies exactly widened 16-bit values, from whichever part holds them' };
const gemmTol = (k: number, s = 1): Tolerance => ({
  atol: 4e-7 * (k + 1) * s + 1e-6, rtol: 1e-5,
  why: 'f32 accumulation of K products of exactly widened 16-bit weights (and a bias): 4e-7*(K+1)*s, as test/cases-matmul.ts',
});

const half = (shape: number[], seed: number, dtype: HalfDType, scale = 1) => toHalf(randn(shape.reduce((a, b) => a * b, 1), seed, scale), dtype);
const feed = (shape: number[], seed: number): Float32Array => randn(shape.reduce((a, b) => a * b, 1), seed);
const ids = (n: number, hi: number, seed: number): Int32Array => {
  const r = rng(seed);
  return Int32Array.from({ length: n }, (_, i) => (i === 0 ? hi - 1 : Math.floor(r() * hi)));
};
const build = (f: (g: Graph) => Feeds) => () => {
  const g = new Graph();
  return { graph: g, feeds: f(g) };
};

interface Split16Case extends ParityCase {
  cap: number;
  /** A step label that shows the split happened and the 16-bit read. */
  parts: RegExp;
}

const CASES: Split16Case[] = (['f16', 'bf16'] as const).flatMap((dt): Split16Case[] => [
  {
    id: `16-bit: embedding ${dt} table [37, 7] at cap 128 in row parts of 8 (the last 5 rows, 35 values: an odd count)`,
    kernel: 'embedding', tol: exact, cap: 128, parts: new RegExp(`table rows 32..36 ${dt} weight`),
    build: build((g) => {
      g.output('y', g.embedding(g.input('ids', [3, 5], 'i32'), g.constant(half([37, 7], 61, dt), [37, 7], dt)));
      return { ids: ids(15, 37, 62) };
    }),
  },
  {
    id: `16-bit: linear ${dt} weight [7, 333] at cap 2048 in parts of 3 output columns (999 values, odd), with bias`,
    kernel: 'matmul', tol: gemmTol(333), cap: 2048, parts: new RegExp(`${dt} weight .*columns 3..5`),
    build: build((g) => {
      g.output('y', g.linear(g.input('x', [1, 333]), g.constant(half([7, 333], 63, dt), [7, 333], dt), g.constant(feed([7], 64), [7])));
      return { x: feed([1, 333], 65) };
    }),
  },
  {
    id: `16-bit: linear ${dt} weight [67, 33] at cap 1024 in column parts of 12 (vec4 path off: K 33)`,
    kernel: 'matmul', tol: gemmTol(33), cap: 1024, parts: new RegExp(`${dt} weight .*columns 60..66`),
    build: build((g) => {
      g.output('y', g.linear(g.input('x', [2, 3, 33]), g.constant(half([67, 33], 66, dt), [67, 33], dt)));
      return { x: feed([2, 3, 33], 67) };
    }),
  },
  {
    id: `16-bit: matmul by a ${dt} b [32, 68] (Conv1D layout) at cap 1024 in column parts`,
    kernel: 'matmul', tol: gemmTol(32), cap: 1024, parts: new RegExp(`${dt} weight`),
    build: build((g) => {
      g.output('y', g.matmul(g.input('a', [5, 32]), g.constant(half([32, 68], 68, dt), [32, 68], dt)));
      return { a: feed([5, 32], 69) };
    }),
  },
]);

async function parity(c: Split16Case, capped: CappedRuntime): Promise<string> {
  const r = await checkParity(await capped(c.cap), c);
  if (!r.ok) throw new Error(r.report);
  if (!r.steps.some((s) => c.parts.test(s))) throw new Error(`${c.id}: no step matches ${c.parts} (${r.steps.join('; ')})`);
  return r.report;
}

export const SPLIT16_CHECKS: Record<string, (capped: CappedRuntime) => Promise<string | void>> = {
  ...Object.fromEntries(CASES.map((c) => [c.id, (capped: CappedRuntime) => parity(c, capped)])),

  async 'GPT-2 in f16 at cap 4 KiB: wte in row parts and tied to the head, MLP weights in column parts; greedy tokens and logits as the CPU reference on the same weights'(capped) {
    const rt = await capped(4096);
    setInitSeed(13);
    const model = new GPT2LMHeadModel({ vocabSize: 211, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 2 }, { weightDtype: 'f16' });
    const gpu = await GptDecoder.create(rt, model, { maxLen: 12 });
    const cpu = await GptDecoder.create(Runtime.cpu(), model, { maxLen: 12 });
    try {
      const a = await gpu.generate([[5, 210, 17]], { maxNewTokens: 7 });
      const b = await cpu.generate([[5, 210, 17]], { maxNewTokens: 7 });
      eq(a.tokens, b.tokens, 'greedy tokens');
      const la = await gpu.step(Int32Array.from([a.tokens[0][9]])), lb = await cpu.step(Int32Array.from([b.tokens[0][9]]));
      let d = 0;
      for (let i = 0; i < la.length; i++) d = Math.max(d, Math.abs(la[i] - lb[i]));
      // As the f32 check in split-checks.ts: 32-term sums through two layers, summed in other orders.
      if (!(d <= 2e-4)) throw new Error(`decode-step logits differ by ${d}`);
      return `tokens ${a.tokens[0].join(' ')}, logits within ${d.toExponential(2)}`;
    } finally {
      gpu.destroy();
      cpu.destroy();
    }
  },
};
