// The lecture's models on the GPU against the same models on Runtime.cpu(), and the GPT decoder's
// cache against full recompute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPT2LMHeadModel, InputError, Runtime, ShapeError, setInitSeed } from '../src/node';
import { GptDecoder, fullGraph } from '../src/models/gpt';
import { TextClassifier } from '../src/models/classifier';
import { Seq2SeqTransformer } from '../src/models/translator';
import { SeededRandom, pickToken } from '../src/models/sampling';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());


function tinyGpt(): GPT2LMHeadModel {
  setInitSeed(7);
  return new GPT2LMHeadModel({ vocabSize: 61, nPositions: 24, nEmbd: 32, nLayer: 2, nHead: 4 });
}

// Logits are sums over nEmbd = 32 terms of values around 0.02..1, through two layers; f32 paths
// that sum in a different order (cache vs recompute, GPU vs CPU) agree to about 1e-5.
const LOGIT_TOL = 2e-4;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.each(['gpu', 'cpu'])('GPT decoder (%s)', (which) => {
  const rt = () => (which === 'gpu' ? gpu : Runtime.cpu());
  it('cached decoding gives full recompute logits, teacher-forced, one submit per token', async () => {
    const model = tinyGpt();
    const tokens = [3, 17, 42, 8, 0, 60, 5, 9, 33, 12];
    const full = await rt().compile(fullGraph(model, 1, tokens.length));
    const { logits: want } = await full.run({ ids: Int32Array.from(tokens) });
    const V = model.config.vocabSize;
    const dec = await GptDecoder.create(rt(), model, { maxLen: 16 });
    const P = 4;
    let got = await dec.prefill(Int32Array.from(tokens.slice(0, P)), P);
    expect(maxDiff(got, want.subarray((P - 1) * V, P * V))).toBeLessThan(LOGIT_TOL);
    for (let t = P; t < tokens.length; t++) {
      got = await dec.step(Int32Array.from([tokens[t]]));
      expect(maxDiff(got, want.subarray(t * V, (t + 1) * V)), `position ${t}`).toBeLessThan(LOGIT_TOL);
    }
    if (which === 'gpu') expect(dec.stepStats.submits).toBe(1);
    // A second prompt reuses the cache from the start.
    got = await dec.prefill(Int32Array.from(tokens.slice(0, 2)), 2);
    expect(maxDiff(got, want.subarray(V, 2 * V))).toBeLessThan(LOGIT_TOL);
    dec.destroy();
    full.destroy();
  });

  it('a prompt past the cache, a full cache, and ids out of range are InputErrors', async () => {
    const model = tinyGpt();
    await expect(GptDecoder.create(rt(), model, { maxLen: 25 })).rejects.toThrow(ShapeError);
    const dec = await GptDecoder.create(rt(), model, { maxLen: 6 });
    await expect(dec.generate([[1, 2, 3, 4]], { maxNewTokens: 3 })).rejects.toThrow(/4 prompt \+ 3 new tokens pass the KV cache of 6/);
    await expect(dec.prefill(Int32Array.from([1, 2, 61]), 3)).rejects.toThrow(/embedding: ids \[1, 3\] hold 61/);
    await dec.prefill(Int32Array.from([1, 2, 3, 4, 5, 6]), 6);
    await expect(dec.step(Int32Array.from([1]))).rejects.toThrow(/KV cache of 6 tokens is full/);
    dec.destroy();
  });
});

describe('GPT generation, GPU against CPU', () => {
  it('greedy tokens agree wherever the top two logits differ by more than the tolerance', async () => {
    const model = tinyGpt();
    const [g, c] = await Promise.all([GptDecoder.create(gpu, model, { maxLen: 20 }), GptDecoder.create(Runtime.cpu(), model, { maxLen: 20 })]);
    const prompt = [[5, 6, 7]];
    const a = await g.generate(prompt, { maxNewTokens: 12 });
    const b = await c.generate(prompt, { maxNewTokens: 12 });
    // Replay the CPU's tokens on both and compare logits step by step; a token may differ only at a near tie.
    const V = model.config.vocabSize;
    let lg = await g.prefill(Int32Array.from(prompt[0]), 3), lc = await c.prefill(Int32Array.from(prompt[0]), 3);
    for (let t = 3; t < b.tokens[0].length; t++) {
      expect(maxDiff(lg, lc)).toBeLessThan(LOGIT_TOL);
      const sorted = Array.from(lc).sort((x, y) => y - x);
      if (sorted[0] - sorted[1] > LOGIT_TOL) expect(a.tokens[0][t]).toBe(b.tokens[0][t]);
      if (t + 1 < b.tokens[0].length) {
        lg = await g.step(Int32Array.from([b.tokens[0][t]]));
        lc = await c.step(Int32Array.from([b.tokens[0][t]]));
      }
    }
    expect(a.tokens[0].length).toBe(15);
    expect(a.stepStats.submits).toBe(1);
    expect(V).toBe(61);
    g.destroy();
    c.destroy();
  });

  it('sampling with the same seed repeats; temperature and top-k are honoured', async () => {
    const model = tinyGpt();
    const dec = await GptDecoder.create(Runtime.cpu(), model, { maxLen: 20 });
    const opts = { maxNewTokens: 8, temperature: 0.8, topK: 5, seed: 123 };
    const a = await dec.generate([[1, 2]], opts);
    const b = await dec.generate([[1, 2]], opts);
    expect(a.tokens).toEqual(b.tokens);
    const logits = [0, 5, 1, 4, 2];
    const rng = new SeededRandom(9);
    for (let i = 0; i < 50; i++) expect([1, 3]).toContain(pickToken(logits, { temperature: 1, topK: 2, rng }));
    expect(pickToken(logits)).toBe(1);
    expect(() => pickToken(logits, { temperature: 1 })).toThrow(InputError);
    dec.destroy();
  });
});

describe.each(['gpu', 'cpu'])('text classifier (%s)', (which) => {
  const rt = () => (which === 'gpu' ? gpu : Runtime.cpu());
  it.each(['lstm', 'rnn'] as const)('%s: a padded sequence uses its last valid step', async (cell) => {
    setInitSeed(3);
    const model = new TextClassifier({ vocabSize: 50, numClasses: 4, cell, embedDim: 16, hiddenSize: 24 });
    const T = 7, B = 3;
    const s = await model.compile(rt(), { maxLen: T, batch: B });
    const ids = Int32Array.from({ length: T * B }, (_, i) => (i * 7) % 50);
    const lengths = [7, 3, 1];
    const { logits } = await s.classify(ids, lengths);
    // Padding after a sequence's end must not change its logits.
    const padded = ids.slice();
    for (let t = 3; t < T; t++) padded[t * B + 1] = 49;
    const again = await s.classify(padded, lengths);
    expect(maxDiff(logits.subarray(4, 8), again.logits.subarray(4, 8))).toBe(0);
    // The same sequence alone, unpadded, in a graph of its own length.
    const solo = await model.compile(rt(), { maxLen: 3, batch: 1 });
    const one = await solo.classify(Int32Array.from([0, 1, 2].map((t) => ids[t * B + 1])), [3]);
    expect(maxDiff(one.logits, logits.subarray(4, 8))).toBeLessThan(1e-5);
    await expect(s.classify(ids, [8, 1, 1])).rejects.toThrow(/length 8 of sequence 0 is outside 1..7/);
    s.destroy();
    solo.destroy();
  });
});

describe('classifier GPU against CPU', () => {
  it('logits agree within 1e-5', async () => {
    setInitSeed(4);
    const model = new TextClassifier({ vocabSize: 100, numClasses: 5 });
    const ids = Int32Array.from({ length: 12 * 2 }, (_, i) => (i * 13) % 100);
    const [a, b] = await Promise.all([model.compile(gpu, { maxLen: 12, batch: 2 }), model.compile(Runtime.cpu(), { maxLen: 12, batch: 2 })]);
    const [x, y] = await Promise.all([a.classify(ids, [12, 5]), b.classify(ids, [12, 5])]);
    expect(maxDiff(x.logits, y.logits)).toBeLessThan(1e-5);
    expect(x.predictions).toEqual(y.predictions);
    a.destroy();
    b.destroy();
  });
});




describe.each(['gpu', 'cpu'])('Transformer translator (%s)', (which) => {
  const rt = () => (which === 'gpu' ? gpu : Runtime.cpu());
  it.each([false, true])('normFirst %s: cached steps give full-recompute logits; greedy decoding stops at EOS', async (normFirst) => {
    setInitSeed(11);
    const model = new Seq2SeqTransformer({ srcVocab: 40, tgtVocab: 37, embSize: 32, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 64, maxPositions: 64, normFirst });
    const S = 7, T = 6, B = 2;
    const sources = [[1, 5, 9, 13, 2], [1, 7, 3, 2]];
    const targets = [[0, 4, 8, 15, 16, 23], [0, 3, 3, 9, 30, 1]];
    const tr = await model.compile(rt(), { maxSrcLen: S, maxTgtLen: T, batch: B });
    const steps = await tr.teacherForced(sources, targets);
    // The same thing without caches, sources padded to S with a key-padding mask.
    const full = await rt().compile(model.fullGraph(S, T, B));
    const src = new Int32Array(S * B), srcPad = new Uint8Array(B * S).fill(1);
    sources.forEach((s, b) => s.forEach((id, t) => ((src[t * B + b] = id), (srcPad[b * S + t] = 0))));
    const tgt = Int32Array.from({ length: T * B }, (_, i) => targets[i % B][Math.floor(i / B)]);
    const { logits } = await full.run({ src, tgt, srcPad });
    const V = 37;
    steps.forEach((l, t) => expect(maxDiff(l, logits.subarray(t * B * V, (t + 1) * B * V)), `position ${t}`).toBeLessThan(LOGIT_TOL));
    const out = await tr.translate(sources, { bos: 0, eos: 36, maxLen: T });
    for (const s of out.tokens) {
      expect(s[0]).toBe(0);
      expect(s.length).toBeLessThanOrEqual(T);
    }
    if (which === 'gpu') expect(out.stepStats.submits).toBe(1);
    await expect(tr.translate([[1, 2, 3, 4, 5, 6, 7, 8], [1]], { bos: 0, eos: 36 })).rejects.toThrow(/source 0 has 8 tokens; the compiled maximum is 7/);
    tr.destroy();
    full.destroy();
  });
});

describe('translator GPU against CPU', () => {
  it('greedy translations agree and logits agree within the tolerance', async () => {
    setInitSeed(12);
    const model = new Seq2SeqTransformer({ srcVocab: 30, tgtVocab: 30, embSize: 32, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 2, dimFeedforward: 48, maxPositions: 32 });
    const [a, b] = await Promise.all([model.compile(gpu, { maxSrcLen: 6, maxTgtLen: 8 }), model.compile(Runtime.cpu(), { maxSrcLen: 6, maxTgtLen: 8 })]);
    const src = [[3, 9, 27, 4]];
    const [x, y] = [await a.translate(src, { bos: 1, eos: 2 }), await b.translate(src, { bos: 1, eos: 2 })];
    const lx = await a.teacherForced(src, y.tokens), ly = await b.teacherForced(src, y.tokens);
    lx.forEach((l, t) => expect(maxDiff(l, ly[t])).toBeLessThan(LOGIT_TOL));
    expect(x.tokens).toEqual(y.tokens);
    a.destroy();
    b.destroy();
  });
});
