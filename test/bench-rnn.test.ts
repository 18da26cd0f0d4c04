// The recurrent bench rows' machinery, in Node without a GPU: the ORT peer's stacked bidirectional
// LSTM computes the reference's numbers on ONNX Runtime's wasm CPU backend, the per-step matmul
// baseline's expected outputs match the CPU reference of its graph, a row slower than its budget
// is timed once, and the recurrent targets read the rows as the issue states them.
import { describe, expect, it } from 'vitest';
import type * as ORT from 'onnxruntime-web/wasm';
import { Runtime } from '../src/index';
import { BASELINE_IMPL, benchCases, caseImpls, type BenchCase } from '../bench/cases';
import { encodeModel } from '../bench/peers/onnx';
import { ortModel } from '../bench/peers/ort';
import { recurrentTargetLines } from '../bench/recurrent-targets';
import { checkOutputs, timeInTurns, type BenchRow } from '../bench/suite';

const caseNamed = (name: string): BenchCase => {
  const c = benchCases().find((x) => x.name === name);
  if (!c) throw new Error(`no case ${name}`);
  return c;
};

describe('recurrent bench rows', () => {
  it('the ORT model of a 2-layer bidirectional LSTM (Transpose and Reshape between layers) matches the reference', async () => {
    const ort = (await import('onnxruntime-web/wasm')) as typeof ORT;
    ort.env.wasm.numThreads = 1;
    const c = caseNamed('lstm-T16-B8-H128-L2-bi');
    const { graph, feeds, consts } = c.build();
    const want = await (await Runtime.cpu().compile(graph)).run(feeds);
    const b = ortModel(c.spec, { ...feeds, ...consts });
    const session = await ort.InferenceSession.create(encodeModel(b.model), { executionProviders: ['wasm'] });
    const ortFeeds: Record<string, ORT.Tensor> = {};
    for (const [k, v] of Object.entries(b.feeds)) ortFeeds[k] = new ort.Tensor('float32', v.data, v.dims);
    const y = (await session.run(ortFeeds)).y.data as Float32Array;
    await session.release();
    expect(checkOutputs(`${c.name} ort-wasm`, { y: b.toRef(y) }, want, c.tol)).toBeLessThan(1e-5);
  });

  it('every recurrent row has a per-step matmul baseline whose expected outputs are its graph run on the CPU', async () => {
    const rnnRows = benchCases().filter((c) => c.suite === 'lstm' || c.suite === 'gru');
    expect(rnnRows.length).toBeGreaterThan(5);
    for (const c of rnnRows) expect(caseImpls(c, false)).toContain(BASELINE_IMPL);
    for (const name of ['lstm-T16-B8-H64', 'gru-T16-B1-H64', 'lstm-T16-B8-H128-L2-bi']) {
      const base = caseNamed(name).baseline!();
      const got = await (await Runtime.cpu().compile(base.graph)).run(base.feeds);
      expect(checkOutputs(`${name} baseline`, got, base.want, base.tol)).toBeLessThan(1e-3);
    }
    // L·T dispatches: the 2-layer stack's 16 steps twice.
    expect(caseNamed('lstm-T16-B8-H128-L2-bi').baseline!().dispatches).toBe(32);
  });

  it('recurrent targets: 3x ORT from 20 ms a run, 1.5x below; 10x the faster TF.js; within 2x of the baseline GPU time', () => {
    const row = (name: string, impl: string, medianMs: number, gpuMs: number | null = null): BenchRow => ({
      suite: 'lstm', name, shape: '', impl, medianMs, minMs: medianMs, maxMs: medianMs, runs: 3, timing: 'wall', gflops: null, gbps: null,
      pctRoof: null, maxAbsErr: 0, dispatches: 16, submits: 1, status: 'ok', note: '', gpuMs, hostMs: null, floorMs: null,
    });
    const profiled = { ...row('lstm-T16-B8-H64', 'seqgpu', 10, 8), profile: { projectionMs: 2.5, stepsMs: 5.5, runs: 3 } };
    const rows = [
      profiled, row('lstm-T16-B8-H64', 'ort-webgpu', 25), row('lstm-T16-B8-H64', 'tfjs-webgpu', 150),
      row('lstm-T16-B8-H64', 'tfjs-webgpu:cell-loop', 90), row('lstm-T16-B8-H64', BASELINE_IMPL, 6, 3),
      row('lstm-T16-B1-H64', 'seqgpu', 5), row('lstm-T16-B1-H64', 'ort-webgpu', 8),
      row('model-lstm-classifier-T32-B64', 'seqgpu', 200), row('model-lstm-classifier-T32-B64', 'cpu-reference', 320),
    ];
    const lines = recurrentTargetLines(rows, benchCases());
    expect(lines.find((l) => l.startsWith('lstm-T16-B8-H64'))).toMatch(
      /vs ORT 2\.50x .*\[MISSED ≥3x, ORT ≥ 20 ms\]; vs TF\.js 9\.00x \(tfjs-webgpu:cell-loop 90\.0 ms\) \[MISSED ≥10x\]; GPU 8\.00 ms, 2\.67x .*\[MISSED ≤2x\]; fused steps alone 5\.50 ms, 1\.83x those matmuls \[met ≤2x\], input projections 2\.50 ms/,
    );
    expect(lines.find((l) => l.startsWith('lstm-T16-B1-H64'))).toMatch(/vs ORT 1\.60x .*\[met ≥1\.5x, ORT < 20 ms\]/);
    expect(lines.find((l) => l.startsWith('model-lstm-classifier'))).toMatch(/vs CPU reference 1\.60x .*\[met ≥1\.5x\]/);
  });

  it('timeInTurns times a run marked once a single time, the others in every round', async () => {
    const walls = await timeInTurns([async () => {}, async () => {}], 0, 3, 2000, [true, false]);
    expect(walls.map((w) => w.length)).toEqual([1, 3]);
  });
});
