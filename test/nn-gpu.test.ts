// nn modules on the GPU runtime against the same graphs on Runtime.cpu().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Embedding, GPT2Block, GPT2LMHeadModel, GRU, Graph, LSTM, LayerNorm, Linear, MultiheadAttention, PositionalEncoding, RNN,
  Runtime, Transformer, type Feeds,
} from '../src/node';
import { randn } from './parity';
import { cpu, randomize, run } from './nn-util';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());

// GPU against Runtime.cpu() (float64 sums): f32 matmuls of <= 32 terms, layer norm and GELU on O(1)
// values stay within 1e-4 + 1e-4·|ref|; exp/tanh in WGSL are not correctly rounded, hence the margin.
const near = (got: ArrayLike<number>, want: ArrayLike<number>) =>
  Array.from(want).findIndex((w, i) => !(Math.abs(got[i] - w) <= 1e-4 + 1e-4 * Math.abs(w)));

describe('GPU runtime against Runtime.cpu()', () => {
  const cases: { name: string; build: () => { g: Graph; feeds: Feeds } }[] = [
    {
      name: 'Embedding + PositionalEncoding + LayerNorm + Linear + GPT2MLP', build: () => {
        const emb = new Embedding(11, 8), pe = new PositionalEncoding(8, 16, true), ln = new LayerNorm(8), lin = new Linear(8, 5);
        const block = new GPT2Block({ vocabSize: 11, nPositions: 16, nEmbd: 8, nLayer: 1, nHead: 2 });
        [emb, ln, lin, block].forEach((m, i) => randomize(m, 50 + i));
        const g = new Graph();
        const h = ln.forward(g, pe.forward(g, emb.forward(g, g.input('ids', [2, 7], 'i32')), 3));
        g.output('lin', lin.forward(g, h));
        g.output('mlp', block.mlp.forward(g, h));
        return { g, feeds: { ids: Int32Array.from({ length: 14 }, (_, i) => (i * 7) % 11) } };
      },
    },
    {
      name: 'MultiheadAttention with bool masks', build: () => {
        const m = new MultiheadAttention(8, 2);
        randomize(m, 60);
        const g = new Graph();
        const kv = g.input('kv', [5, 2, 8]);
        g.output('y', m.forward(g, g.input('q', [3, 2, 8]), kv, kv, { keyPaddingMask: g.input('pad', [2, 5], 'bool'), attnMask: g.input('am', [3, 5], 'bool') }));
        return { g, feeds: { q: randn(48, 61), kv: randn(80, 62), pad: new Uint8Array([0, 0, 0, 1, 1, 0, 0, 0, 0, 0]), am: new Uint8Array(15).map((_, i) => (i % 4 === 1 ? 1 : 0)) } };
      },
    },
    {
      name: 'Transformer (norm_first, gelu) and GPT2LMHeadModel', build: () => {
        const t = new Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 16, normFirst: true, activation: 'gelu', batchFirst: true });
        const gpt = new GPT2LMHeadModel(cfgSmall);
        randomize(t, 70);
        randomize(gpt, 71);
        const g = new Graph();
        g.output('t', t.forward(g, g.input('src', [2, 5, 8]), g.input('tgt', [2, 3, 8]), { tgtIsCausal: true, srcKeyPaddingMask: g.input('pad', [2, 5], 'bool') }));
        g.output('logits', gpt.forward(g, g.input('ids', [2, 4], 'i32')));
        return { g, feeds: { src: randn(80, 72), tgt: randn(48, 73), pad: new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]), ids: new Int32Array([1, 2, 3, 4, 10, 9, 8, 0]) } };
      },
    },
    {
      name: 'LSTM (2 layers, bidirectional), GRU, RNN (relu)', build: () => {
        const lstm = new LSTM(4, 6, { numLayers: 2, bidirectional: true, batchFirst: true }), gru = new GRU(4, 5), rnn = new RNN(4, 3, { nonlinearity: 'relu' });
        [lstm, gru, rnn].forEach((m, i) => randomize(m, 80 + i));
        const g = new Graph();
        const l = lstm.forward(g, g.input('xb', [2, 5, 4]));
        g.output('lstm', l.output);
        g.output('lstmC', l.cN);
        const x = g.input('x', [5, 2, 4]);
        g.output('gru', gru.forward(g, x).output);
        g.output('rnn', rnn.forward(g, x).hN);
        return { g, feeds: { xb: randn(40, 81), x: randn(40, 82) } };
      },
    },
  ];
  const cfgSmall = { vocabSize: 11, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2 };
  for (const c of cases) {
    it(c.name, async () => {
      const { g, feeds } = c.build();
      const [got, want] = [await run(gpu, g, feeds), await run(cpu, g, feeds)];
      for (const name of Object.keys(want)) {
        const bad = near(got[name], want[name]);
        expect(bad, `${name}[${bad}]: gpu ${got[name][bad]} cpu ${want[name][bad]}`).toBe(-1);
      }
    });
  }
});
