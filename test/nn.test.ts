// nn modules against independent references: values worked out by hand for the small layers,
// float64 loops (test/nn-ref.ts) for attention and the Transformer layers, a torch-layout state
// dict through safetensors, and loadStateDict's errors. GPT-2: nn-gpt2.test.ts; GPU: nn-gpu.test.ts.
import { describe, expect, it } from 'vitest';
import {
  Embedding, GRU, Graph, InputError, LSTM, LayerNorm, Linear, MultiheadAttention, PositionalEncoding, RNN,
  SeqgpuError, ShapeError, StateDictError, Transformer, TransformerDecoderLayer, TransformerEncoderLayer,
  loadStateDict, readSafetensors, setInitSeed, writeSafetensors,
} from '../src/node';
import { randn } from './parity';
import * as ref from './nn-ref';
import { TOL, closeTo, cpu, randomize, run } from './nn-util';

describe('Linear, LayerNorm, Embedding by hand', () => {
  it('Linear: x·Wᵀ + b with torch names and shapes', async () => {
    const lin = new Linear(2, 3);
    expect(Object.fromEntries(lin.namedParameters().map(([n, p]) => [n, p.shape]))).toEqual({ weight: [3, 2], bias: [3] });
    lin.loadStateDict({ weight: new Float32Array([1, 2, 3, 4, 5, 6]), bias: { shape: [3], data: new Float32Array([0.5, -1, 0]) } });
    const g = new Graph();
    g.output('y', lin.forward(g, g.input('x', [2, 2])));
    const { y } = await run(cpu, g, { x: new Float32Array([1, 2, -1, 0.5]) });
    // [1, 2]: 1+4+0.5, 3+8-1, 5+12+0; [-1, 0.5]: -1+1+0.5, -3+2-1, -5+3+0
    expect(Array.from(y)).toEqual([5.5, 10, 17, 0.5, -2, -2]);
  });
  it('LayerNorm: biased variance, affine', async () => {
    const ln = new LayerNorm(4, { eps: 0 });
    ln.loadStateDict({ weight: new Float32Array([1, 2, 1, 1]), bias: new Float32Array([0, 0, 1, 0]) });
    const g = new Graph();
    g.output('y', ln.forward(g, g.input('x', [1, 4])));
    const { y } = await run(cpu, g, { x: new Float32Array([1, 2, 3, 4]) });
    // mean 2.5, variance 1.25, sqrt 1.118033988749895; (x - 2.5) / 1.118... = ±1.3416407865, ±0.4472135955
    closeTo(y, [-1.3416407865, -0.894427191, 1.4472135955, 1.3416407865], 1e-6);
  });
  it('Embedding: rows of weight; an id out of range is an InputError at run', async () => {
    const emb = new Embedding(3, 2);
    emb.loadStateDict({ weight: new Float32Array([0, 1, 2, 3, 4, 5]) });
    const g = new Graph();
    g.output('y', emb.forward(g, g.input('ids', [3], 'i32')));
    const { y } = await run(cpu, g, { ids: new Int32Array([2, 0, 2]) });
    expect(Array.from(y)).toEqual([4, 5, 0, 1, 4, 5]);
    await expect(run(cpu, g, { ids: new Int32Array([0, 3, 1]) })).rejects.toThrow(InputError);
  });
  it('a module used twice in a graph is one constant; init is seeded', () => {
    setInitSeed(7);
    const a = new Linear(3, 2);
    setInitSeed(7);
    const b = new Linear(3, 2), c = new Linear(3, 2);
    expect(Array.from(b.weight.data)).toEqual(Array.from(a.weight.data));
    expect(Array.from(c.weight.data)).not.toEqual(Array.from(a.weight.data));
    const g = new Graph();
    const x = g.input('x', [1, 3]);
    a.forward(g, x);
    a.forward(g, x);
    expect(g.nodes.filter((n) => n.node.op === 'constant').length).toBe(2);
  });
});

describe('PositionalEncoding', () => {
  it('sin on even, cos on odd features, 10000^(2i/d)', async () => {
    const pe = new PositionalEncoding(4, 6);
    // d = 4: features 0, 1 use pos / 1, features 2, 3 use pos / 10000^(2/4) = pos / 100.
    closeTo(pe.table.subarray(4, 8), [Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01)], 1e-7);
    closeTo(pe.table.subarray(0, 4), [0, 1, 0, 1], 0);
    const g = new Graph();
    g.output('y', pe.forward(g, g.input('x', [2, 3, 4]), 4)); // positions 4, 5; batch 3
    const { y } = await run(cpu, g, { x: new Float32Array(24).fill(1) });
    closeTo(y.subarray(12, 16), [1 + Math.sin(5), 1 + Math.cos(5), 1 + Math.sin(0.05), 1 + Math.cos(0.05)], 1e-6);
  });
  it('a sequence longer than the table is a ShapeError', () => {
    const pe = new PositionalEncoding(4, 6, true);
    const g = new Graph();
    expect(() => pe.forward(g, g.input('x', [1, 7, 4]))).toThrow(/PositionalEncoding: positions 0..6 pass the table of 6 positions/);
    expect(() => pe.forward(g, g.input('y', [1, 3, 4]), 4)).toThrow(ShapeError);
  });
});

describe('RNN, LSTM, GRU', () => {
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  it('torch names and shapes (2 layers, bidirectional)', () => {
    const lstm = new LSTM(3, 5, { numLayers: 2, bidirectional: true });
    const shapes = Object.fromEntries(lstm.namedParameters().map(([n, p]) => [n, p.shape]));
    expect(shapes.weight_ih_l0).toEqual([20, 3]);
    expect(shapes.weight_ih_l1_reverse).toEqual([20, 10]);
    expect(shapes.bias_hh_l1_reverse).toEqual([20]);
    expect(Object.keys(shapes)).toHaveLength(16);
    expect(new GRU(3, 5, { bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight_ih_l0', 'weight_hh_l0']);
  });
  it('a stateDict written to safetensors loads into a fresh module with the same outputs', async () => {
    const a = new GRU(3, 4, { numLayers: 2, batchFirst: true }), b = new GRU(3, 4, { numLayers: 2, batchFirst: true });
    randomize(a, 8);
    loadStateDict(b, readSafetensors(writeSafetensors(a.stateDict())));
    const outs = await Promise.all([a, b].map((m) => {
      const g = new Graph();
      g.output('y', m.forward(g, g.input('x', [2, 3, 3])).output);
      return run(cpu, g, { x: randn(18, 9) });
    }));
    expect(Array.from(outs[1].y)).toEqual(Array.from(outs[0].y));
  });
  it('RNN (tanh) two steps by hand', async () => {
    const rnn = new RNN(1, 1);
    rnn.loadStateDict({ weight_ih_l0: new Float32Array([2]), weight_hh_l0: new Float32Array([0.5]), bias_ih_l0: new Float32Array([0.1]), bias_hh_l0: new Float32Array([-0.1]) });
    const g = new Graph();
    const { output, hN } = rnn.forward(g, g.input('x', [2, 1, 1]));
    g.output('out', output);
    g.output('hN', hN);
    const { out } = await run(cpu, g, { x: new Float32Array([1, -1]) });
    const h1 = Math.tanh(2), h2 = Math.tanh(-2 + 0.5 * h1);
    closeTo(out, [h1, h2], 1e-6);
  });
  it('LSTM and GRU one step by hand (gates i, f, g, o and r, z, n)', async () => {
    const lstm = new LSTM(1, 1, { batchFirst: true });
    lstm.loadStateDict({
      weight_ih_l0: new Float32Array([0.5, -0.3, 0.8, 0.2]), weight_hh_l0: new Float32Array([0.1, 0.2, 0.3, 0.4]),
      bias_ih_l0: new Float32Array([0.1, 0, -0.1, 0.2]), bias_hh_l0: new Float32Array([0, 0.1, 0, 0]),
    });
    const gru = new GRU(1, 1);
    gru.loadStateDict({
      weight_ih_l0: new Float32Array([0.5, -0.3, 0.8]), weight_hh_l0: new Float32Array([0.1, 0.2, 0.3]),
      bias_ih_l0: new Float32Array([0.1, 0, -0.1]), bias_hh_l0: new Float32Array([0, 0.1, 0.2]),
    });
    const g = new Graph();
    const x = g.input('x', [1, 1, 1]);
    const h0 = g.input('h0', [1, 1, 1]);
    const l = lstm.forward(g, x, { h0, c0: g.input('c0', [1, 1, 1]) });
    g.output('h', l.hN);
    g.output('c', l.cN);
    g.output('gh', gru.forward(g, x, h0).hN);
    const r = await run(cpu, g, { x: new Float32Array([2]), h0: new Float32Array([0.5]), c0: new Float32Array([-1]) });
    const [x0, hp, cp] = [2, 0.5, -1];
    const i = sig(0.5 * x0 + 0.1 + 0.1 * hp), f = sig(-0.3 * x0 + 0.2 * hp + 0.1);
    const gg = Math.tanh(0.8 * x0 - 0.1 + 0.3 * hp), o = sig(0.2 * x0 + 0.2 + 0.4 * hp);
    const c = f * cp + i * gg;
    closeTo(r.c, [c], 1e-6);
    closeTo(r.h, [o * Math.tanh(c)], 1e-6);
    const rr = sig(0.5 * x0 + 0.1 + 0.1 * hp), z = sig(-0.3 * x0 + 0.2 * hp + 0.1);
    const n = Math.tanh(0.8 * x0 - 0.1 + rr * (0.3 * hp + 0.2));
    closeTo(r.gh, [(1 - z) * n + z * hp], 1e-6);
  });
});

describe('MultiheadAttention against per-head float64 loops', () => {
  const E = 6, H = 2, B = 2, L = 3, S = 4;
  const q = randn(L * B * E, 11), kv = randn(S * B * E, 12);
  const pad = [0, 0, 0, 1, 0, 1, 1, 0]; // [B, S], 1 = padding
  it('seq-first, cross-attention with a bool key_padding_mask (true = ignore)', async () => {
    const m = new MultiheadAttention(E, H);
    randomize(m, 1);
    expect(m.namedParameters().map(([n, p]) => `${n} [${p.shape}]`)).toEqual(
      ['in_proj_weight [18,6]', 'in_proj_bias [18]', 'out_proj.weight [6,6]', 'out_proj.bias [6]']);
    const g = new Graph();
    const kvT = g.input('kv', [S, B, E]);
    g.output('y', m.forward(g, g.input('q', [L, B, E]), kvT, kvT, { keyPaddingMask: g.input('pad', [B, S], 'bool') }));
    const { y } = await run(cpu, g, { q, kv, pad: new Uint8Array(pad) });
    const want = ref.mha(ref.paramsOf(m.namedParameters()), '', ref.swap01(q, L, B, E), ref.swap01(kv, S, B, E), B, L, S, E, H, (b, _h, _i, j) => pad[b * S + j] === 1);
    closeTo(y, ref.swap01(want, B, L, E), TOL);
  });
  it('batch-first with a bool attn_mask [L, S], a float key_padding_mask and isCausal combined', async () => {
    const m = new MultiheadAttention(E, H, { batchFirst: true });
    randomize(m, 2);
    const g = new Graph();
    const x = g.input('x', [B, S, E]);
    const amask = [0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]; // [S, S], 1 = ignore
    const fpad = [0, 0, -0.5, 0.25, 0, 0.5, 0, 0]; // [B, S], added
    g.output('y', m.forward(g, x, x, x, { attnMask: g.input('am', [S, S], 'bool'), keyPaddingMask: g.input('fp', [B, S]), isCausal: true }));
    const xs = randn(B * S * E, 13);
    const { y } = await run(cpu, g, { x: xs, am: new Uint8Array(amask), fp: new Float32Array(fpad) });
    const want = ref.mha(ref.paramsOf(m.namedParameters()), '', xs, xs, B, S, S, E, H,
      (_b, _h, i, j) => j > i || amask[i * S + j] === 1, (b, _h, _i, j) => fpad[b * S + j]);
    closeTo(y, want, TOL);
  });
  it('a float attn_mask [B * heads, L, S] and an unbatched query', async () => {
    const m = new MultiheadAttention(E, H, { batchFirst: true, bias: false });
    randomize(m, 3);
    expect(m.namedParameters().map(([n]) => n)).toEqual(['in_proj_weight', 'out_proj.weight']);
    const fm = randn(B * H * L * S, 14, 2);
    const g = new Graph();
    const kvT = g.input('kv', [B, S, E]);
    g.output('y', m.forward(g, g.input('q', [B, L, E]), kvT, kvT, { attnMask: g.input('fm', [B * H, L, S]) }));
    const q1 = g.input('q1', [L, E]), kv1 = g.input('kv1', [S, E]);
    g.output('u', m.forward(g, q1, kv1, kv1));
    const qb = randn(B * L * E, 15), kb = randn(B * S * E, 16);
    const r = await run(cpu, g, { q: qb, kv: kb, fm, q1: qb.subarray(0, L * E), kv1: kb.subarray(0, S * E) });
    const P = { ...ref.paramsOf(m.namedParameters()), in_proj_bias: new Float32Array(3 * E), 'out_proj.bias': new Float32Array(E) };
    closeTo(r.y, ref.mha(P, '', qb, kb, B, L, S, E, H, undefined, (b, h, i, j) => fm[((b * H + h) * L + i) * S + j]), TOL);
    closeTo(r.u, ref.mha(P, '', qb.subarray(0, L * E), kb.subarray(0, S * E), 1, L, S, E, H), TOL);
  });
  it('mask shapes and dtypes are checked; needWeights is refused', () => {
    const m = new MultiheadAttention(E, H);
    const g = new Graph();
    const x = g.input('x', [L, B, E]);
    expect(() => m.forward(g, x, x, x, { keyPaddingMask: g.input('p', [S, B], 'bool') })).toThrow(/keyPaddingMask \[4, 2\] must be \[2, 3\]/);
    expect(() => m.forward(g, x, x, x, { attnMask: g.input('a', [H, L, L], 'bool') })).toThrow(/attnMask \[2, 3, 3\] must be \[3, 3\] or \[4, 3, 3\]/);
    expect(() => m.forward(g, x, x, x, { attnMask: g.input('i', [L, L], 'i32') })).toThrow(/must be bool \(true = ignore\) or f32/);
    expect(() => m.forward(g, x, x, x, { needWeights: true })).toThrow(/needWeights is not supported/);
    expect(() => m.forward(g, x, g.input('k5', [S, B, 5]), x)).toThrow(/key \[4, 2, 5\] must end in embedDim 6/);
    expect(() => new MultiheadAttention(6, 4)).toThrow(ShapeError);
  });
});

describe('Transformer layers against float64 loops', () => {
  const E = 8, H = 2, F = 16, B = 2, T = 3, S = 4;
  for (const normFirst of [false, true]) {
    for (const activation of ['relu', 'gelu'] as const) {
      it(`encoder and decoder layer, normFirst ${normFirst}, ${activation}`, async () => {
        const opts = { normFirst, activation, batchFirst: true };
        const enc = new TransformerEncoderLayer(E, H, F, opts), dec = new TransformerDecoderLayer(E, H, F, opts);
        randomize(enc, 4);
        randomize(dec, 5);
        const g = new Graph();
        const src = g.input('src', [B, S, E]), tgt = g.input('tgt', [B, T, E]), pad = g.input('pad', [B, S], 'bool');
        const mem = enc.forward(g, src, { srcKeyPaddingMask: pad });
        g.output('mem', mem);
        g.output('y', dec.forward(g, tgt, mem, { tgtIsCausal: true, memoryKeyPaddingMask: pad }));
        const xs = randn(B * S * E, 21), ts = randn(B * T * E, 22), padv = [0, 0, 1, 1, 0, 0, 0, 1];
        const r = await run(cpu, g, { src: xs, tgt: ts, pad: new Uint8Array(padv) });
        const cfg = { E, H, F, normFirst, act: activation === 'relu' ? ref.relu : ref.geluErf };
        const ignore = (b: number, _h: number, _i: number, j: number) => padv[b * S + j] === 1;
        const memRef = ref.encoderLayer(ref.paramsOf(enc.namedParameters()), '', xs, B, S, cfg, ignore);
        closeTo(r.mem, memRef, 1e-4);
        closeTo(r.y, ref.decoderLayer(ref.paramsOf(dec.namedParameters()), '', ts, r.mem, B, T, S, cfg, ignore), 1e-4);
      });
    }
  }
});

/** torch.nn.Transformer(d_model=8, nhead=2, 1 + 1 layers, dim_feedforward=16) state_dict, spelled out. */
function torchTransformerStateDict(E: number, F: number): [string, number[]][] {
  const attn = (p: string): [string, number[]][] => [
    [`${p}.in_proj_weight`, [3 * E, E]], [`${p}.in_proj_bias`, [3 * E]], [`${p}.out_proj.weight`, [E, E]], [`${p}.out_proj.bias`, [E]],
  ];
  const ffNorms = (p: string, norms: number): [string, number[]][] => [
    [`${p}.linear1.weight`, [F, E]], [`${p}.linear1.bias`, [F]], [`${p}.linear2.weight`, [E, F]], [`${p}.linear2.bias`, [E]],
    ...Array.from({ length: norms }, (_, i): [string, number[]][] => [[`${p}.norm${i + 1}.weight`, [E]], [`${p}.norm${i + 1}.bias`, [E]]]).flat(),
  ];
  return [
    ...attn('encoder.layers.0.self_attn'), ...ffNorms('encoder.layers.0', 2), ['encoder.norm.weight', [E]], ['encoder.norm.bias', [E]],
    ...attn('decoder.layers.0.self_attn'), ...attn('decoder.layers.0.multihead_attn'), ...ffNorms('decoder.layers.0', 3),
    ['decoder.norm.weight', [E]], ['decoder.norm.bias', [E]],
  ];
}

describe('state dicts in torch layout through safetensors', () => {
  it('nn.Transformer: hand-laid names load and run, matching the float64 loops', async () => {
    const E = 8, H = 2, F = 16, B = 2, S = 4, T = 3;
    const layout = torchTransformerStateDict(E, F);
    const record = Object.fromEntries(layout.map(([n, shape], i) => {
      const data = randn(shape.reduce((a, b) => a * b, 1), 100 + i, 0.5);
      return [n, { shape, data: /norm\d?\.weight$/.test(n) ? data.map((v) => 1 + v / 2) : data }];
    }));
    const model = new Transformer({ dModel: E, nhead: H, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: F });
    expect(model.namedParameters().map(([n, p]) => [n, p.shape])).toEqual(layout);
    loadStateDict(model, readSafetensors(writeSafetensors(record)));
    const g = new Graph();
    const tgtMask = Transformer.generateSquareSubsequentMask(g, T);
    g.output('y', model.forward(g, g.input('src', [S, B, E]), g.input('tgt', [T, B, E]), { tgtMask, srcKeyPaddingMask: g.input('pad', [B, S], 'bool'), memoryKeyPaddingMask: g.input('pad2', [B, S], 'bool') }));
    const src = randn(S * B * E, 31), tgt = randn(T * B * E, 32), pad = new Uint8Array([0, 0, 0, 1, 0, 1, 1, 1]);
    const { y } = await run(cpu, g, { src, tgt, pad, pad2: pad });
    const P = Object.fromEntries(Object.entries(record).map(([n, t]) => [n, t.data]));
    const cfg = { E, H, F, normFirst: false, act: ref.relu };
    const ignore = (b: number, _h: number, _i: number, j: number) => pad[b * S + j] === 1;
    let mem = ref.encoderLayer(P, 'encoder.layers.0.', ref.swap01(src, S, B, E), B, S, cfg, ignore);
    mem = ref.layerNorm(mem, B * S, E, P['encoder.norm.weight'], P['encoder.norm.bias']);
    let out = ref.decoderLayer(P, 'decoder.layers.0.', ref.swap01(tgt, T, B, E), mem, B, T, S, cfg, ignore);
    out = ref.layerNorm(out, B * T, E, P['decoder.norm.weight'], P['decoder.norm.bias']);
    closeTo(y, ref.swap01(out, B, T, E), 1e-4);
  });
});

describe('loadStateDict errors', () => {
  it('lists every missing, unexpected and wrongly shaped name at once, and loads nothing', () => {
    const layer = new TransformerEncoderLayer(4, 2, 8);
    const before = layer.namedParameters().map(([n, p]) => [n, p.data, Array.from(p.data)] as const);
    const good = Object.fromEntries(layer.namedParameters().map(([n, p]) => [n, { shape: p.shape, data: new Float32Array(p.data.length).fill(0.25) }]));
    const { ['norm2.bias']: _dropped, ...rest } = good;
    const bad = {
      ...rest,
      'norm3.weight': new Float32Array(4),
      'self_attn.k_proj_weight': new Float32Array(16),
      'linear1.weight': { shape: [8, 5], data: new Float32Array(40) },
      'self_attn.in_proj_bias': new Float32Array(13),
    };
    let err: unknown;
    try {
      loadStateDict(layer, bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    expect(err).toBeInstanceOf(ShapeError);
    expect(err).toBeInstanceOf(SeqgpuError);
    const e = err as StateDictError;
    expect(e.missing).toEqual(['norm2.bias']);
    expect(e.unexpected).toEqual(['norm3.weight', 'self_attn.k_proj_weight']);
    expect(e.mismatched).toEqual([
      { name: 'self_attn.in_proj_bias', expected: [12], got: [13] },
      { name: 'linear1.weight', expected: [8, 4], got: [8, 5] },
    ]);
    expect(e.message).toMatch(/missing 1: norm2\.bias; unexpected 2: norm3\.weight, self_attn\.k_proj_weight; wrong shape 2: self_attn\.in_proj_bias is \[13\], expected \[12\], linear1\.weight is \[8, 5\], expected \[8, 4\]/);
    for (const [n, data, values] of before) {
      const p = layer.namedParameters().find(([m]) => m === n)![1];
      expect(p.data).toBe(data);
      expect(Array.from(p.data)).toEqual(values);
    }
    expect(() => loadStateDict(layer, { ...good, 'norm1.weight': { shape: [4], data: new Float32Array(5) } })).toThrow(/invalid 1: norm1\.weight has 5 values for shape \[4\]/);
    expect(() => loadStateDict(layer, { ...good, 'norm1.weight': [1, 2, 3, 4] as never })).toThrow(/norm1\.weight is not a Float32Array/);
    loadStateDict(layer, good);
    expect(layer.norm2.bias!.data).toBe(good['norm2.bias'].data);
  });
});

