// sampleTokens against the host's pickToken on many draws, the decoders' GPU token choice against
// the host's, and bad settings (Node, Dawn). Parity cases for Node and Chromium are in
// test/cases-sample.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPT2LMHeadModel, Graph, InputError, Runtime, ShapeError, setInitSeed } from '../src/node';
import { GptDecoder } from '../src/models/gpt';
import { SeededRandom, pickToken } from '../src/models/sampling';
import { randn } from './parity';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());

/**
 * Where u * total falls in pickToken's walk of row `logits` (f64): the interval [lo, hi) of the
 * running weight that token `token` covers, and the total.
 */
function interval(logits: Float32Array, t: number, topK: number, token: number): { lo: number; hi: number; total: number } {
  const n = logits.length;
  const k = topK > 0 ? Math.min(topK, n) : n;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, k);
  const max = logits[order[0]];
  let cum = 0, lo = NaN, hi = NaN;
  for (const i of order) {
    const w = logits[i] === max ? 1 : Math.exp((logits[i] - max) / t);
    if (i === token) [lo, hi] = [cum, cum + w];
    cum += w;
  }
  return { lo, hi, total: cum };
}

// A draw may pick the neighbour of pickToken's token when u * total lies within this fraction of
// the total from the boundary between them: the GPU rounds u to f32 (2^-25 relative), weighs in f32
// (exp to a few ulp) and sums in f32 per thread and in a tree.
const BOUNDARY = 1e-5;

describe('sampleTokens against pickToken, many draws (Node)', () => {
  it.each([
    ['vocab 50257, t=1, all (peaked)', 50257, 12, 1, 0],
    ['vocab 50257, t=0.8, top-40', 50257, 8, 0.8, 40],
    ['vocab 1000, t=1, all (nearly flat: the most boundaries per unit of weight)', 1000, 0.05, 1, 0],
    ['vocab 97, t=2, top-50, coarse ties', 97, -1, 2, 50],
  ] as const)('%s', async (_name, V, scale, t, topK) => {
    const rows = 48;
    const logits = scale > 0 ? randn(rows * V, 4242 + V, scale) : Float32Array.from({ length: rows * V }, (_, i) => (i * 7919) % 5);
    const rng = new SeededRandom(99);
    const u64 = Array.from({ length: rows }, () => rng.next());
    const g = new Graph();
    g.output('tokens', g.sampleTokens(g.input('logits', [rows, V]), { temperature: t, topK, draws: g.input('u', [rows]) }));
    const exe = await gpu.compile(g);
    const { tokens } = await exe.run({ logits, u: Float32Array.from(u64) });
    exe.destroy();
    let same = 0, worst = 0;
    for (let r = 0; r < rows; r++) {
      const row = logits.subarray(r * V, (r + 1) * V);
      const want = pickToken(row, { temperature: t, topK, rng: { next: () => u64[r] } as SeededRandom });
      if (tokens[r] === want) {
        same++;
        continue;
      }
      // Not pickToken's token: u * total must be within BOUNDARY * total of the GPU token's interval.
      const { lo, hi, total } = interval(row, t, topK, tokens[r]);
      const x = u64[r] * total;
      const off = Math.max(lo - x, x - hi, 0) / total;
      expect(Number.isNaN(lo), `row ${r}: GPU token ${tokens[r]} is not among the kept`).toBe(false);
      expect(off, `row ${r}: GPU ${tokens[r]}, pickToken ${want}`).toBeLessThanOrEqual(BOUNDARY);
      worst = Math.max(worst, off);
    }
    console.log(`${_name}: ${same}/${rows} draws give pickToken's token; the others within ${worst.toExponential(2)} * total of a boundary`);
    expect(same).toBeGreaterThanOrEqual(rows - 2);
  }, 300000);
});

describe('sampleTokens on one GPT-2 row (Node)', () => {
  it('reads back 4 bytes where the logits take 201028; the times per run are printed', async () => {
    const V = 50257;
    const logits = randn(V, 77, 10);
    const median = async (run: () => Promise<unknown>) => {
      const ms: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await run();
        ms.push(performance.now() - t0);
      }
      return ms.sort((a, b) => a - b)[2];
    };
    const g0 = new Graph();
    g0.output('y', g0.relu(g0.input('logits', [1, V])));
    const plain = await gpu.compile(g0);
    const rows: string[] = [`logits read back (relu): ${(await median(() => plain.run({ logits }))).toFixed(1)} ms, ${plain.stats.readbackBytes} bytes`];
    expect(plain.stats.readbackBytes).toBe(4 * V);
    for (const [name, opts] of [['greedy', {}], ['t=0.8 top-40', { temperature: 0.8, topK: 40 }], ['t=1 all', { temperature: 1 }]] as const) {
      const g = new Graph();
      const x = g.relu(g.input('logits', [1, V]));
      g.output('tokens', g.sampleTokens(x, 'temperature' in opts ? { ...opts, draws: g.input('u', [1]) } : {}));
      const exe = await gpu.compile(g);
      const feeds: Record<string, Float32Array> = 'temperature' in opts ? { logits, u: new Float32Array([0.3]) } : { logits };
      rows.push(`${name}: ${(await median(() => exe.run(feeds))).toFixed(1)} ms, ${exe.stats.readbackBytes} bytes`);
      expect(exe.stats.readbackBytes).toBe(4);
      exe.destroy();
    }
    plain.destroy();
    console.log(`one row of ${V} on ${gpu.info.adapter.description}: ${rows.join('; ')}`);
  }, 300000);
});

function tinyGpt(): GPT2LMHeadModel {
  setInitSeed(7);
  return new GPT2LMHeadModel({ vocabSize: 61, nPositions: 24, nEmbd: 32, nLayer: 2, nHead: 4 });
}

describe('GptDecoder picks on the GPU as pickToken does on the host', () => {
  it.each([
    ['greedy', {}],
    ['t=1, seed 5', { temperature: 1, seed: 5 }],
    ['t=0.7, top-5, seed 11', { temperature: 0.7, topK: 5, seed: 11 }],
  ] as const)('%s: the same tokens, and a step reads back token ids only', async (_n, opts) => {
    const model = tinyGpt();
    const B = 2, V = model.config.vocabSize;
    const dec = await GptDecoder.create(gpu, model, { maxLen: 16, batch: B });
    const prompt = [[1, 2, 3], [7, 8, 9]];
    const got = await dec.generate(prompt, { maxNewTokens: 8, ...opts });
    expect(got.stepStats.readbackBytes).toBe(4 * B);
    // The host's way: logits read back each step, pickToken with the same draws.
    const rng = 'seed' in opts ? new SeededRandom(opts.seed) : undefined;
    const want = prompt.map((p) => p.slice());
    let logits = await dec.prefill(Int32Array.from(prompt.flat()), 3);
    for (let n = 0; n < 8; n++) {
      const next = want.map((_, b) => pickToken(logits, { ...opts, rng }, b * V, (b + 1) * V));
      next.forEach((t, b) => want[b].push(t));
      if (n < 7) logits = await dec.step(Int32Array.from(next));
    }
    expect(got.tokens).toEqual(want);
    dec.destroy();
  }, 120000);

  it('bad sampling options are InputErrors before anything runs', async () => {
    const dec = await GptDecoder.create(gpu, tinyGpt(), { maxLen: 8 });
    await expect(dec.generate([[1]], { maxNewTokens: 2, temperature: -1 })).rejects.toThrow(/GptDecoder: temperature must be a number in 0..3.4e38/);
    await expect(dec.generate([[1]], { maxNewTokens: 2, temperature: NaN })).rejects.toThrow(InputError);
    await expect(dec.generate([[1]], { maxNewTokens: 2, temperature: 1, topK: 2.5 })).rejects.toThrow(/GptDecoder: topK must be an integer >= 0/);
    await expect(dec.generate([[1]], { maxNewTokens: 2, temperature: 1, topK: -3 })).rejects.toThrow(InputError);
    expect(dec.cached).toBe(0);
    dec.destroy();
  });
});

describe('sampleTokens: bad settings', () => {
  const logits = (g: Graph) => g.input('logits', [2, 9]);
  it('at build: a ShapeError naming the op and the logits', () => {
    const g = new Graph();
    const u = g.input('u', [2]);
    expect(() => g.sampleTokens(logits(g), { temperature: -1, draws: u })).toThrow(/sampleTokens: temperature must be a number in 0..3.4e38 \(0 is greedy\), got -1 \(logits f32 \[2, 9\]\)/);
    const g2 = new Graph();
    expect(() => g2.sampleTokens(logits(g2), { temperature: NaN, draws: g2.input('u', [2]) })).toThrow(ShapeError);
    const g3 = new Graph();
    expect(() => g3.sampleTokens(logits(g3), { topK: 1.5 })).toThrow(/topK must be an integer >= 0 \(0 keeps all\), got 1.5 \(logits f32 \[2, 9\]\)/);
    const g4 = new Graph();
    expect(() => g4.sampleTokens(logits(g4), { temperature: 1, topK: -2, draws: g4.input('u', [2]) })).toThrow(/got -2/);
    const g5 = new Graph();
    expect(() => g5.sampleTokens(logits(g5), { temperature: 1 })).toThrow(/needs draws, an f32 \[2\] tensor \(logits f32 \[2, 9\]\)/);
    const g6 = new Graph();
    expect(() => g6.sampleTokens(logits(g6), { temperature: 1, draws: g6.input('u', [3]) })).toThrow(/draws must be f32 \[2\].*got f32 \[3\]/);
    const g7 = new Graph();
    expect(() => g7.sampleTokens(g7.input('e', [3, 0]))).toThrow(/last dim of at least 1, got \[3, 0\]/);
    const g8 = new Graph();
    expect(() => g8.sampleTokens(logits(g8), { temperature: g8.input('t', [2]), draws: g8.input('u', [2]) })).toThrow(/f32 \[1\] tensor, got f32 \[2\]/);
  });

  it.each(['gpu', 'cpu'])('fed at run (%s): an InputError naming the op and the shape, before dispatch', async (which) => {
    const rt = which === 'gpu' ? gpu : Runtime.cpu();
    const g = new Graph();
    g.output('tokens', g.sampleTokens(logits(g), { temperature: g.input('t', [1]), topK: g.input('k', [1], 'i32'), draws: g.input('u', [2]) }));
    const exe = await rt.compile(g);
    const ok = { logits: randn(18, 3), t: new Float32Array([1]), k: new Int32Array([0]), u: new Float32Array([0.2, 0.9]) };
    await expect(exe.run({ ...ok, t: new Float32Array([-0.5]) })).rejects.toThrow(/sampleTokens: temperature \[1\] hold -0.5/);
    await expect(exe.run({ ...ok, t: new Float32Array([NaN]) })).rejects.toThrow(/sampleTokens: temperature \[1\] hold NaN/);
    await expect(exe.run({ ...ok, k: new Int32Array([-1]) })).rejects.toThrow(/sampleTokens: topK \[1\] hold -1/);
    await expect(exe.run({ ...ok, u: new Float32Array([0.5, 1.5]) })).rejects.toThrow(/sampleTokens: draws \[2\] hold 1.5 at flat index 1; valid values are 0..1/);
    const { tokens } = await exe.run(ok);
    expect(tokens.length).toBe(2);
    exe.destroy();
  });
});
