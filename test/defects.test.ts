// The defects a hostile but fair probe found, one test each, run on the GPU runtime (Dawn) and on
// the CPU reference wherever the defect concerns both: the same misuse must give the same error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceLostError, Graph, Runtime, ShapeError, readSafetensors, writeSafetensors } from '../src/node';
import { DEFECT_CHECKS } from './defect-checks';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());

const RUNTIMES = ['gpu', 'cpu'] as const;
const rtOf = (name: (typeof RUNTIMES)[number]) => (name === 'gpu' ? gpu : Runtime.cpu());

describe.each(RUNTIMES)('run-time defects (%s)', (name) => {
  it.each(Object.keys(DEFECT_CHECKS))('%s', async (check) => {
    await DEFECT_CHECKS[check]({ rt: rtOf(name), fresh: async () => (name === 'gpu' ? Runtime.create() : Runtime.cpu()) });
  });
});

describe('device loss during compile()', () => {
  it('is a DeviceLostError, not a GpuError about a pipeline (recover: false; recovery: device-loss.test.ts)', async () => {
    const rt = await Runtime.create({ recover: false });
    const g = new Graph();
    // Several distinct pipelines, so compile is still creating them when the device goes.
    let x = g.input('x', [5, 7]);
    x = g.softmax(g.layerNorm(g.gelu(g.linear(x, g.input('w', [7, 7]))), [7]), -1);
    g.output('y', g.scaledDotProductAttention(x, x, x, { isCausal: true }));
    const p = rt.compile(g);
    rt.device!.destroy();
    await expect(p).rejects.toBeInstanceOf(DeviceLostError);
    await expect(p).rejects.toThrow(/compile.*the GPU device was lost/);
  });
});

describe('graph-build errors', () => {
  const x = (g: Graph) => g.input('x', [3, 2, 4]);
  it.each(['gru', 'rnn', 'lstm'] as const)('%s with T = 0 is a ShapeError at build, as torch raises', (cell) => {
    const g = new Graph();
    const H = 3, G = { lstm: 4, gru: 3, rnn: 1 }[cell] * H;
    const params = {
      weight_ih_l0: g.input('wi', [G, 4]), weight_hh_l0: g.input('wh', [G, H]), bias_ih_l0: g.input('bi', [G]), bias_hh_l0: g.input('bh', [G]),
    };
    const h0 = g.input('h0', [1, 2, H]);
    expect(() => g[cell](g.input('x', [0, 2, 4]), params, { hiddenSize: H, h0 })).toThrow(ShapeError);
    expect(() => g[cell](g.input('xb', [2, 0, 4]), params, { hiddenSize: H, batchFirst: true, h0 })).toThrow(
      /sequence length 0; torch needs at least one step/,
    );
  });
  it('missing params or options are a ShapeError naming the op', () => {
    const g = new Graph();
    expect(() => g.lstm(x(g), undefined as never, { hiddenSize: 1 })).toThrow(/^lstm: params must be an object/);
    const g2 = new Graph();
    expect(() => g2.gru(x(g2), {}, undefined as never)).toThrow(/^gru: options must be an object/);
    const g3 = new Graph();
    expect(() => g3.rnn(x(g3), null as never, undefined as never)).toThrow(ShapeError);
    const g4 = new Graph();
    expect(() => g4.lstm(x(g4), {}, { hiddenSize: 2 })).toThrow(/^lstm: parameters for 1 layer\(s\), 1 direction\(s\): missing weight_ih_l0/);
    const g5 = new Graph();
    const t = x(g5);
    expect(() => g5.assign(g5.state('s', [3, 2, 4]), t, undefined as never)).toThrow(/^assign: options must be/);
    expect(() => g5.scaledDotProductAttention(t, t, t, null as never)).toThrow(/^scaledDotProductAttention: options must be/);
    expect(() => g5.matmul(t, undefined as never)).toThrow(/^matmul: b is not a tensor of this graph/);
  });
});

describe('safetensors names', () => {
  it('__proto__ and constructor round-trip as tensors of a null-prototype record', () => {
    const rec = Object.create(null);
    rec['__proto__'] = { shape: [2], data: new Float32Array([1, 2]) };
    rec['constructor'] = { shape: [1], data: new Float32Array([3]) };
    rec['toString'] = { shape: [0], data: new Float32Array(0) };
    const back = readSafetensors(writeSafetensors(rec));
    expect(Object.getPrototypeOf(back)).toBe(null);
    expect(Object.keys(back).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Array.from(back['__proto__'].data)).toEqual([1, 2]);
    expect(back['constructor'].shape).toEqual([1]);
    expect(back['toString'].data.length).toBe(0);
  });
  it('a file naming a tensor __proto__ reads it as a tensor', () => {
    const json = new TextEncoder().encode(`{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`);
    const bytes = new Uint8Array(8 + json.length + 4);
    new DataView(bytes.buffer).setUint32(0, json.length, true);
    bytes.set(json, 8);
    new DataView(bytes.buffer).setFloat32(8 + json.length, 7, true);
    const t = readSafetensors(bytes);
    expect(Object.keys(t)).toEqual(['__proto__']);
    expect(Array.from(t['__proto__'].data)).toEqual([7]);
  });
});

describe('mixing runtimes', () => {
  it('shareStateWith an executable of the other runtime is an InputError on both', async () => {
    const g = new Graph();
    g.output('y', g.assign(g.state('s', [2]), g.input('x', [2]), { dim: 0, offset: 0 }));
    const onGpu = await gpu.compile(g), onCpu = await Runtime.cpu().compile(g);
    await expect(gpu.compile(g, { shareStateWith: onCpu })).rejects.toThrow(/shareStateWith must be an executable of a GPU runtime/);
    await expect(Runtime.cpu().compile(g, { shareStateWith: onGpu })).rejects.toThrow(/shareStateWith must be an executable of the CPU runtime/);
    onGpu.destroy();
    onCpu.destroy();
  });
});
