// The defects a hostile but fair probe found, one test each, run on the GPU runtime (Dawn) and on
// the CPU reference wherever the defect concerns both: the same misuse must give the same error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DestroyedError, DeviceLostError, GPT2LMHeadModel, GptDecoder, Graph, InputError, Runtime, SeqgpuError, ShapeError,
  readSafetensors, writeSafetensors,
} from '../src/node';
import { randomize } from './nn-util';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());

const RUNTIMES = ['gpu', 'cpu'] as const;
const rtOf = (name: (typeof RUNTIMES)[number]) => (name === 'gpu' ? gpu : Runtime.cpu());

function reluGraph(n = 4) {
  const g = new Graph();
  g.output('y', g.relu(g.input('x', [n])));
  return g;
}

describe.each(RUNTIMES)('feeds are copied when run() is called (%s)', (name) => {
  it('a feed changed after run() returns does not change that run', async () => {
    const exe = await rtOf(name).compile(reluGraph());
    const x = new Float32Array([1, 2, 3, 4]);
    const p = exe.run({ x });
    x.fill(0);
    expect(Array.from((await p).y)).toEqual([1, 2, 3, 4]);
    exe.destroy();
  });
  it('back-to-back runs on one array keep their own values', async () => {
    const exe = await rtOf(name).compile(reluGraph());
    const x = new Float32Array([1, 2, 3, 4]);
    const a = exe.run({ x });
    x.set([5, 6, 7, 8]);
    const b = exe.run({ x });
    x.fill(-1);
    const [ra, rb] = await Promise.all([a, b]);
    expect(Array.from(ra.y)).toEqual([1, 2, 3, 4]);
    expect(Array.from(rb.y)).toEqual([5, 6, 7, 8]);
    exe.destroy();
  });
  it('a Float32Array on a SharedArrayBuffer is a valid feed and a valid constant', async () => {
    const shared = new Float32Array(new SharedArrayBuffer(16));
    shared.set([-1, 2, -3, 4]);
    const exe = await rtOf(name).compile(reluGraph());
    expect(Array.from((await exe.run({ x: shared })).y)).toEqual([0, 2, 0, 4]);
    exe.destroy();
    const g = new Graph();
    g.output('y', g.add(g.input('x', [4]), g.constant(shared, [4])));
    const e2 = await rtOf(name).compile(g);
    expect(Array.from((await e2.run({ x: new Float32Array(4) })).y)).toEqual([-1, 2, -3, 4]);
    e2.destroy();
  });
  it("an unfed input named 'constructor' is reported missing, not mistyped", async () => {
    const g = new Graph();
    g.output('y', g.relu(g.input('constructor', [2])));
    const exe = await rtOf(name).compile(g);
    await expect(exe.run({})).rejects.toThrow(/run: missing input 'constructor' \(f32 \[2\]\)/);
    expect(Array.from((await exe.run({ constructor: new Float32Array([-1, 1]) })).y)).toEqual([0, 1]);
    exe.destroy();
  });
});

describe.each(RUNTIMES)('use after destroy: one DestroyedError naming what was destroyed (%s)', (name) => {
  const stateGraph = () => {
    const g = new Graph();
    const s = g.state('s', [2]);
    g.output('y', g.assign(s, g.input('x', [2]), { dim: 0, offset: 0 }));
    return g;
  };
  const expectDestroyed = async (p: () => unknown, what: RegExp) => {
    let err: unknown;
    try {
      await p();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DestroyedError);
    expect(err).toBeInstanceOf(SeqgpuError);
    expect((err as Error).message).toMatch(what);
  };
  it('after exe.destroy(): run, readState and resetState', async () => {
    const exe = await rtOf(name).compile(stateGraph());
    await exe.run({ x: new Float32Array([1, 2]) });
    exe.destroy();
    exe.destroy(); // twice is harmless
    await expectDestroyed(() => exe.run({ x: new Float32Array(2) }), /^run: this executable was destroyed/);
    await expectDestroyed(() => exe.readState('s'), /^readState: this executable was destroyed/);
    await expectDestroyed(() => exe.resetState(), /^resetState: this executable was destroyed/);
  });
  it('after rt.destroy(): compile, and run, readState and resetState of its executables', async () => {
    const rt = name === 'gpu' ? await Runtime.create() : Runtime.cpu();
    const exe = await rt.compile(stateGraph());
    rt.destroy();
    await expectDestroyed(() => rt.compile(stateGraph()), /^compile: the runtime was destroyed/);
    await expectDestroyed(() => exe.run({ x: new Float32Array(2) }), /^run: the runtime was destroyed/);
    await expectDestroyed(() => exe.readState('s'), /^readState: the runtime was destroyed/);
    await expectDestroyed(() => exe.resetState(), /^resetState: the runtime was destroyed/);
  });
});

describe('device loss during compile()', () => {
  it('is a DeviceLostError, not a GpuError about a pipeline', async () => {
    const rt = await Runtime.create();
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

describe.each(RUNTIMES)('build and reference corners (%s)', (name) => {
  it('linear with in_features 0 gives the bias broadcast, as torch', async () => {
    const g = new Graph();
    g.output('y', g.linear(g.input('x', [2, 0]), g.input('w', [3, 0]), g.input('b', [3])));
    const exe = await rtOf(name).compile(g);
    const { y } = await exe.run({ x: new Float32Array(0), w: new Float32Array(0), b: new Float32Array([1, -2, 3]) });
    expect(Array.from(y)).toEqual([1, -2, 3, 1, -2, 3]);
    exe.destroy();
  });
  it('an embedding whose ids are computed in the graph (a slice) runs', async () => {
    const g = new Graph();
    const ids = g.slice(g.input('ids', [5], 'i32'), 0, 1, 4);
    g.output('y', g.embedding(ids, g.input('w', [4, 2])));
    const exe = await rtOf(name).compile(g);
    const w = new Float32Array([0, 1, 10, 11, 20, 21, 30, 31]);
    const { y } = await exe.run({ ids: new Int32Array([9, 3, 0, 2, 9]), w });
    expect(Array.from(y)).toEqual([30, 31, 0, 1, 20, 21]);
    exe.destroy();
  });
  it('a computed id out of range reads zeros, and run() rejects naming the op; the state write stays', async () => {
    const g = new Graph();
    const ids = g.slice(g.input('ids', [3], 'i32'), 0, 0, 2);
    const e = g.embedding(ids, g.input('w', [4, 2]));
    const s = g.state('s', [2, 2]);
    g.output('y', g.assign(s, e, { dim: 0, offset: 0 }));
    const exe = await rtOf(name).compile(g);
    const w = new Float32Array([0, 1, 10, 11, 20, 21, 30, 31]);
    await expect(exe.run({ ids: new Int32Array([1, 7, 0]), w })).rejects.toThrow(
      /^embedding: ids \[2\] computed in the graph hold 7; valid values are 0\.\.3/,
    );
    await expect(exe.run({ ids: new Int32Array([-2, 3, 0]), w })).rejects.toBeInstanceOf(InputError);
    expect(Array.from(await exe.readState('s'))).toEqual([0, 0, 30, 31]);
    // The same executable runs on after the rejected run.
    expect(Array.from((await exe.run({ ids: new Int32Array([2, 1, 0]), w })).y)).toEqual([20, 21, 10, 11]);
    exe.destroy();
  });
  it('a gather whose index is computed in the graph runs, and an index out of range rejects', async () => {
    const g = new Graph();
    const index = g.slice(g.input('index', [4], 'i32'), 0, 1, 3);
    g.output('y', g.gather(g.input('x', [5]), 0, index));
    const exe = await rtOf(name).compile(g);
    const x = new Float32Array([10, 11, 12, 13, 14]);
    expect(Array.from((await exe.run({ index: new Int32Array([0, 4, 2, 0]), x })).y)).toEqual([14, 12]);
    await expect(exe.run({ index: new Int32Array([0, 5, 2, 0]), x })).rejects.toThrow(/^gather: index \[2\] computed in the graph hold 5/);
    exe.destroy();
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
    expect(() => g5.matmul(t, undefined as never)).toThrow(/^matmul: an operand is not a tensor of this graph/);
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

describe.each(RUNTIMES)('model calls in flight are serialised (%s)', (name) => {
  it('two generate() calls on one GptDecoder give the tokens each gives alone', async () => {
    const model = new GPT2LMHeadModel({ vocabSize: 37, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2 });
    randomize(model, 5);
    const rt = rtOf(name);
    const dec = await GptDecoder.create(rt, model, { maxLen: 16 });
    const a = [[1, 2, 3]], b = [[5, 4]];
    const soloA = await dec.generate(a, { maxNewTokens: 6 });
    const soloB = await dec.generate(b, { maxNewTokens: 6 });
    // Two prompts that continue differently, so an interleaving that mixes their caches shows.
    expect(soloA.tokens[0].slice(3)).not.toEqual(soloB.tokens[0].slice(2));
    const [pa, pb] = [dec.generate(a, { maxNewTokens: 6 }), dec.generate(b, { maxNewTokens: 6 })];
    a[0].push(9); // the call already holds its own copy of the prompt
    const [ra, rb] = await Promise.all([pa, pb]);
    expect(ra.tokens).toEqual(soloA.tokens);
    expect(rb.tokens).toEqual(soloB.tokens);
    dec.destroy();
  });
});
