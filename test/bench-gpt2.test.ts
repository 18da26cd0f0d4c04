// The GPT-2 bench rows' machinery at a tiny size, in Node without a GPU: the ONNX GPT-2 graph the ORT
// peer runs (bench/peers/ort-gpt2.ts) computes the float64 reference's logits on ONNX Runtime's wasm
// CPU backend, for a prefill and for a decode step fed the prefill's present keys and values as its
// past; the bench cases' own ORT models (through the peer's ortModel, zero past) match their graphs
// run on the CPU; the f16 rows really hold f16 weights; the weight bytes behind the bytes roofline
// are the model's; and the real-size rows are left out of --quick.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as ORT from 'onnxruntime-web/wasm';
import { Runtime } from '../src/index';
import { fullGraph } from '../src/models/gpt';
import { GPT2LMHeadModel, type GPT2Config } from '../src/nn/gpt2';
import { setInitSeed } from '../src/nn/init';
import { benchCases, caseImpls } from '../bench/cases';
import { gpt2DecodeCase, gpt2PrefillCase, GPT2_124M, isRealSize, weightBytesPerToken } from '../bench/gpt2-real';
import { main } from '../bench/main';
import { encodeModel } from '../bench/peers/onnx';
import { ortModel } from '../bench/peers/ort';
import { gpt2Onnx, LOGITS } from '../bench/peers/ort-gpt2';
import { checkOutputs } from '../bench/suite';

// Awkward sizes: a prime vocabulary, a head dim of 6, a prompt of 7.
const TINY: GPT2Config = { vocabSize: 97, nPositions: 19, nEmbd: 24, nLayer: 2, nHead: 4 };
// f32 sums of at most 4E = 96 terms through two blocks: far below 1e-4 (the logits are about 0.3).
const TOL = { atol: 2e-5, rtol: 1e-4 };
// With the MLP weights scaled up (below), ORT's logits were 9e-8 from the reference, and 1.2e-5
// with GELU's erf form in place of tanh: this tolerance tells the two apart.
const GELU_TOL = { atol: 2e-6, rtol: 1e-5 };

async function ort(): Promise<typeof ORT> {
  const o = (await import('onnxruntime-web/wasm')) as typeof ORT;
  o.env.wasm.numThreads = 1;
  return o;
}

function tensors(o: typeof ORT, feeds: Record<string, { data: Float32Array | Int32Array; dims: number[] }>): Record<string, ORT.Tensor> {
  const out: Record<string, ORT.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) out[k] = new o.Tensor(v.data instanceof Float32Array ? 'float32' : 'int32', v.data, v.dims);
  return out;
}

const weights = (m: GPT2LMHeadModel) => Object.fromEntries(m.namedParameters().map(([n, p]) => [n, p.data]));

describe('GPT-2 as an ONNX graph with past/present (ONNX Runtime wasm, CPU)', () => {
  it('prefill, then a decode step fed its presents, give the full forward pass\'s logits', async () => {
    const o = await ort();
    setInitSeed(5);
    const model = new GPT2LMHeadModel(TINY);
    // MLP pre-activations of a few units, where GELU's tanh and erf forms differ by about 1e-4.
    for (const [name, p] of model.namedParameters()) if (/mlp\.c_(fc|proj)\.weight$/.test(name)) p.data.forEach((v, i, a) => (a[i] = v * 60));
    const T = 7, V = TINY.vocabSize, H = TINY.nHead, Dh = TINY.nEmbd / TINY.nHead;
    const ids = Int32Array.from({ length: T + 1 }, (_, i) => (i * 37 + 11) % V);
    const ref = await (await Runtime.cpu().compile(fullGraph(model, 1, T + 1))).run({ ids });
    const at = (t: number) => ref.logits.slice(t * V, (t + 1) * V);

    const pre = gpt2Onnx({ cfg: TINY, batch: 1, T, past: 0 }, { ...weights(model), ids: ids.slice(0, T) });
    const s1 = await o.InferenceSession.create(encodeModel(pre.model), { executionProviders: ['wasm'] });
    const r1 = await s1.run(tensors(o, pre.feeds));
    await s1.release();
    expect(r1[LOGITS].dims).toEqual([1, V]);
    expect(checkOutputs('prefill', { y: r1[LOGITS].data as Float32Array }, { y: at(T - 1) }, GELU_TOL)).toBeLessThan(GELU_TOL.atol);

    const past: Record<string, Float32Array> = {};
    for (let i = 0; i < TINY.nLayer; i++) {
      expect(r1[`present_key_${i}`].dims).toEqual([1, H, T, Dh]);
      past[`past_key_${i}`] = r1[`present_key_${i}`].data as Float32Array;
      past[`past_value_${i}`] = r1[`present_value_${i}`].data as Float32Array;
    }
    const dec = gpt2Onnx({ cfg: TINY, batch: 1, T: 1, past: T }, { ...weights(model), ...past, ids: ids.slice(T), posIds: Int32Array.of(T) });
    expect(dec.gpuOutputs).toHaveLength(2 * TINY.nLayer);
    const s2 = await o.InferenceSession.create(encodeModel(dec.model), { executionProviders: ['wasm'] });
    const r2 = await s2.run(tensors(o, dec.feeds));
    await s2.release();
    expect(r2[`present_value_${TINY.nLayer - 1}`].dims).toEqual([1, H, T + 1, Dh]);
    expect(checkOutputs('decode', { y: r2[LOGITS].data as Float32Array }, { y: at(T) }, GELU_TOL)).toBeLessThan(GELU_TOL.atol);
  });

  it("the bench cases' ORT models (through the peer, zero past) match their seqgpu graphs on the CPU reference", async () => {
    const o = await ort();
    for (const c of [gpt2PrefillCase(TINY, 7, 'tiny-prefill', 'f32'), gpt2DecodeCase(TINY, 11, 'tiny-decode', 'f32')]) {
      const { graph, feeds, consts } = c.build();
      const want = await (await Runtime.cpu().compile(graph)).run(feeds);
      const b = ortModel(c.spec, { ...feeds, ...consts });
      expect(b.output).toBe('logits');
      const session = await o.InferenceSession.create(encodeModel(b.model), { executionProviders: ['wasm'] });
      const y = (await session.run(tensors(o, b.feeds)))[b.output!].data as Float32Array;
      await session.release();
      expect(checkOutputs(`${c.name} ort-wasm`, { logits: b.toRef(y) }, want, TOL)).toBeLessThan(TOL.atol);
    }
  });
});

describe('GPT-2 124M bench rows', () => {
  afterEach(() => vi.restoreAllMocks());

  it('count each weight read per token once, at the width the model holds it: every parameter but the positional table', () => {
    for (const dtype of ['f32', 'f16'] as const) {
      setInitSeed(1);
      const m = new GPT2LMHeadModel(TINY, dtype === 'f32' ? {} : { weightDtype: dtype });
      const bytes = m.namedParameters().reduce((n, [, p]) => n + (p.weightDtype ? 2 : 4) * p.shape.reduce((a, b) => a * b, 1), 0);
      expect(weightBytesPerToken(TINY, dtype)).toBe(bytes - 4 * TINY.nPositions * TINY.nEmbd);
    }
    // GPT-2 small: 124,439,808 parameters, 786,432 of them wpe.
    expect(weightBytesPerToken(GPT2_124M, 'f32') / 4 + GPT2_124M.nPositions * GPT2_124M.nEmbd).toBe(124_439_808);
  });

  it('f16 rows hold every Conv1D weight and wte as f16 constants, and compute the f16-rounded model', async () => {
    const f32 = gpt2PrefillCase(TINY, 7, 'tiny-prefill', 'f32').build();
    const f16 = gpt2PrefillCase(TINY, 7, 'tiny-prefill-f16', 'f16').build();
    const half = f16.graph.nodes.filter((n) => n.node.op === 'constant' && n.dtype === 'f16');
    // Per block: c_attn's query, key and value blocks, c_proj, c_fc, mlp.c_proj; and wte, read by
    // the embedding and the tied head alike.
    expect(half).toHaveLength(6 * TINY.nLayer + 1);
    expect(f32.graph.nodes.filter((n) => n.dtype === 'f16')).toEqual([]);
    expect(f16.consts).toEqual({});
    const [a, b] = await Promise.all([f32, f16].map(async (x) => (await (await Runtime.cpu().compile(x.graph)).run(x.feeds)).logits));
    // The same seeded model, rounded: close (f16 keeps 11 bits), never the same bits.
    const diff = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(1e-2);
  });

  it('are a prefill and a decode row in f32 (with the ORT peer and targets) and in f16, none in --quick', async () => {
    const real = benchCases().filter(isRealSize);
    expect(real.map((c) => c.name)).toEqual(['gpt2-124m-prefill-T128', 'gpt2-124m-decode-P128', 'gpt2-124m-f16-prefill-T128', 'gpt2-124m-f16-decode-P128']);
    for (const c of real) expect(c.quick).toBe(false);
    for (const c of real.slice(0, 2)) {
      expect(caseImpls(c, true)).toEqual(['seqgpu', 'cpu-reference', 'ort-webgpu']);
      expect(c.target?.vsOrt).toBe(2);
    }
    for (const c of real.slice(2)) expect(caseImpls(c, true)).toEqual(['seqgpu', 'cpu-reference']);
    expect(real[1].roof).toBe('copy');
    expect(real[1].target?.pctRoof).toBe(60);
    expect(real[3].roof).toBe('copy');
    // The f16 rows' roofline bytes: just over half the f32 rows' (biases and LayerNorms stay f32).
    expect(real[3].bytes / real[1].bytes).toBeGreaterThan(0.5);
    expect(real[3].bytes / real[1].bytes).toBeLessThan(0.501);

    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
    expect(await main(['--quick', '--list'])).toBe(0);
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.filter((l) => l.includes('gpt2-124m'))).toEqual([]);
    lines.length = 0;
    expect(await main(['--list', '--filter', 'gpt2-124m'])).toBe(0);
    expect(lines).toEqual([
      'model gpt2-124m-prefill-T128 1x128 seqgpu', 'model gpt2-124m-prefill-T128 1x128 cpu-reference', 'model gpt2-124m-prefill-T128 1x128 ort-webgpu',
      'model gpt2-124m-decode-P128 1x1+128 seqgpu', 'model gpt2-124m-decode-P128 1x1+128 cpu-reference', 'model gpt2-124m-decode-P128 1x1+128 ort-webgpu',
      'model gpt2-124m-f16-prefill-T128 1x128 seqgpu', 'model gpt2-124m-f16-prefill-T128 1x128 cpu-reference',
      'model gpt2-124m-f16-decode-P128 1x1+128 seqgpu', 'model gpt2-124m-f16-decode-P128 1x1+128 cpu-reference',
    ]);
  });
});
