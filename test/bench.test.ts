// The bench's own machinery, in Node without a GPU: the ONNX writer's models load and compute the
// reference's numbers on ONNX Runtime's wasm CPU backend (so the ORT peer's gate orders and layouts are
// right before any timing in the browser), the impl strings parse, a wrong result is caught, and the
// ratio helpers read rows the way the report prints them.
import { describe, expect, it } from 'vitest';
import type * as ORT from 'onnxruntime-web/wasm';
import { Runtime } from '../src/index';
import { benchCases, uniform, type BenchCase } from '../bench/cases';
import { isRealSize } from '../bench/gpt2-real';
import { encodeModel } from '../bench/peers/onnx';
import { ortComposedAttention, ortModel } from '../bench/peers/ort';
import { permuteGates, swap12, transpose2d } from '../bench/peers/peer';
import { speedup } from '../bench/report';
import { checkOutputs, engineOptions, ParityError, timeInTurns, type BenchRow } from '../bench/suite';
import { sweepImpls } from '../bench/sweep';

let ortP: Promise<typeof ORT> | undefined;
function ort(): Promise<typeof ORT> {
  ortP ??= import('onnxruntime-web/wasm').then((m) => {
    m.env.wasm.numThreads = 1;
    return m;
  });
  return ortP;
}

const caseNamed = (name: string): BenchCase => {
  const c = benchCases().find((x) => x.name === name);
  if (!c) throw new Error(`no case ${name}`);
  return c;
};

/** Runs a case's ORT model on the wasm CPU backend; returns max |err| against the float64 reference. */
async function ortOnCpu(c: BenchCase, composed = false): Promise<number> {
  const o = await ort();
  const { graph, feeds, consts } = c.build();
  const cpu = await Runtime.cpu().compile(graph);
  const want = await cpu.run(feeds);
  const data = { ...feeds, ...consts };
  const b = composed && c.spec.op === 'attention' ? ortComposedAttention(c.spec, data) : ortModel(c.spec, data);
  const session = await o.InferenceSession.create(encodeModel(b.model), { executionProviders: ['wasm'] });
  const ortFeeds: Record<string, ORT.Tensor> = {};
  for (const [k, v] of Object.entries(b.feeds)) ortFeeds[k] = new o.Tensor(v.data instanceof Float32Array ? 'float32' : 'int32', v.data, v.dims);
  const y = (await session.run(ortFeeds)).y.data as Float32Array;
  await session.release();
  return checkOutputs(`${c.name} ort-wasm`, { y: b.toRef(y) }, want, c.tol);
}

describe('bench/peers/onnx.ts models on ONNX Runtime (wasm, CPU)', () => {
  it('MatMul and Softmax load and match the reference', async () => {
    expect(await ortOnCpu(caseNamed('matmul-rnn-proj'))).toBeLessThan(1e-4);
    expect(await ortOnCpu(caseNamed('softmax-64x1024'))).toBeLessThan(1e-6);
  });

  it('LayerNormalization with float and int attributes matches', async () => {
    expect(await ortOnCpu(caseNamed('layerNorm-64x1024'))).toBeLessThan(1e-4);
  });

  it("LSTM (gates i, o, f, c) and GRU (z, r, h, linear_before_reset) match torch's gate orders", async () => {
    expect(await ortOnCpu(caseNamed('lstm-T16-B8-H64'))).toBeLessThan(1e-5);
    expect(await ortOnCpu(caseNamed('gru-T16-B8-H64'))).toBeLessThan(1e-5);
  });

  it('MultiHeadAttention (com.microsoft) with causal and padding biases matches at T = 128', async () => {
    expect(await ortOnCpu(caseNamed('attn-causal-T128'))).toBeLessThan(1e-4);
    expect(await ortOnCpu(caseNamed('attn-padded-T128'))).toBeLessThan(1e-4);
    expect(await ortOnCpu(caseNamed('attn-decode-T128'))).toBeLessThan(1e-4);
  });

  it('attention composed of Transpose, MatMul, Mul, Add, Softmax matches', async () => {
    expect(await ortOnCpu(caseNamed('attn-causal-T16'), true)).toBeLessThan(1e-4);
    expect(await ortOnCpu(caseNamed('attn-padded-T128'), true)).toBeLessThan(1e-4);
  });

  it('a model ORT rejects names the problem', async () => {
    const o = await ort();
    const bad = encodeModel({
      nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
      inputs: [{ name: 'a', dtype: 'float', shape: [2, 3] }, { name: 'b', dtype: 'float', shape: [4, 5] }],
      outputs: [{ name: 'y', dtype: 'float', shape: [2, 5] }],
    });
    await expect(o.InferenceSession.create(bad, { executionProviders: ['wasm'] })).rejects.toThrow();
  });
});

describe('bench helpers', () => {
  it('layout helpers permute, transpose and swap', () => {
    expect(Array.from(permuteGates(Float32Array.from([0, 0, 1, 1, 2, 2]), 3, [1, 0, 2]))).toEqual([1, 1, 0, 0, 2, 2]);
    expect(Array.from(transpose2d(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
    // [1, 2, 3, 1] -> [1, 3, 2, 1]
    expect(Array.from(swap12(Float32Array.from([0, 1, 2, 3, 4, 5]), 1, 2, 3))).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('engine impl strings become compile options', () => {
    // Rows other than seqgpu:tuned (--tune) keep to the built-in rule, whatever table the runtime has.
    expect(engineOptions('seqgpu', 'matmul')).toEqual({ tune: false });
    expect(engineOptions('seqgpu:tuned', 'lstm')).toEqual({ tune: true });
    expect(engineOptions('seqgpu:register', 'matmul')).toEqual({ tune: false, variants: { matmul: 'register' } });
    expect(engineOptions('seqgpu:tiled/TILE_M=32,TILE_N=64,TILE_K=8', 'matmul')).toEqual({
      tune: false, variants: { matmul: 'tiled' }, constants: { matmul: { TILE_M: 32, TILE_N: 64, TILE_K: 8 } },
    });
    expect(engineOptions('seqgpu/WG=64', 'layerNorm')).toEqual({ tune: false, constants: { layernorm: { WG: 64 } } });
    expect(() => engineOptions('tfjs-webgpu', 'matmul')).toThrow(/not an engine impl/);
    expect(() => engineOptions('seqgpu/WG=x', 'softmax')).toThrow(/bad constant/);
  });

  it('timeInTurns runs each impl at least once per round, starting each round with another', async () => {
    const order: number[] = [];
    const runs = [0, 1, 2].map((i) => async () => void order.push(i));
    const walls = await timeInTurns(runs, 0, 3);
    expect(walls.map((w) => w.length)).toEqual([3, 3, 3]);
    expect(order).toEqual([0, 1, 2, 1, 2, 0, 2, 0, 1]);
  });

  it('every sweep impl parses', () => {
    for (const k of ['matmul', 'softmax', 'layerNorm', 'lstm', 'gru', 'attention']) {
      for (const impl of sweepImpls(k)) expect(() => engineOptions(impl, k)).not.toThrow();
    }
  });

  it('checkOutputs passes within tolerance and names a wrong value', () => {
    const want = { y: uniform(100, 3) };
    const near = { y: want.y.map((v) => v + 1e-7) };
    expect(checkOutputs('near', near, want, { atol: 1e-6, rtol: 0 })).toBeLessThan(2e-7);
    const wrong = { y: Float32Array.from(want.y) };
    wrong.y[17] += 0.5;
    expect(() => checkOutputs('wrong', wrong, want, { atol: 1e-6, rtol: 0 })).toThrow(/y\[17\]/);
    expect(() => checkOutputs('nan', { y: want.y.map(() => NaN) }, want, { atol: 1, rtol: 0 })).toThrow(ParityError);
    expect(() => checkOutputs('short', { y: want.y.slice(1) }, want, { atol: 1, rtol: 0 })).toThrow(/99 values/);
  });

  it('speedup compares a row with the seqgpu row of its case, and only checked rows', () => {
    const row = (impl: string, medianMs: number | null, status: BenchRow['status'] = 'ok'): BenchRow => ({
      suite: 'matmul', name: 'm', shape: '1x1x1', impl, medianMs, minMs: medianMs, maxMs: medianMs, runs: 3, timing: 'wall',
      gflops: null, gbps: null, pctRoof: null, maxAbsErr: 0, dispatches: null, submits: null, status, note: '', gpuMs: null, hostMs: null, floorMs: null,
    });
    const rows = [row('seqgpu', 10), row('tfjs-webgpu', 35), row('ort-webgpu', null, 'wrong')];
    expect(speedup(rows[1], rows)).toBeCloseTo(3.5);
    expect(speedup(rows[2], rows)).toBeNull();
    expect(speedup(rows[0], rows)).toBeNull();
  });

  it('every case has a unique name, and the quick cases cover the targets (but the real-size rows)', () => {
    const cases = benchCases();
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases.filter((x) => x.target)) expect(c.quick).toBe(!isRealSize(c));
  });
});
