// 16-bit weights in Node (Dawn): rounding on the host, the build and compile errors of bad 16-bit
// input, the read variants (shader-f16 forced on a device without it), the nn option and loading,
// the bytes of weight buffers, and the error against the f32 weights the 16-bit ones came from.
// Parity on the same 16-bit values is in test/cases-weight16.ts (Node and Chromium).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Embedding, GPT2LMHeadModel, Graph, LimitError, Linear, Runtime, ShapeError, StateDictError, halfToF32, readSafetensors, setInitSeed,
  toHalf, type HalfDType,
} from '../src/node';
import { bf16Bits, f16Bits, halfValue } from '../src/graph/half';
import { nodeGpu } from '../src/runtime/node-gpu';
import { randn } from './parity';

let rt: Runtime;
beforeAll(async () => {
  rt = await Runtime.create();
});
afterAll(() => rt?.destroy());

describe('rounding to 16 bits', () => {
  // Independent of the rounding code: the nearest of the two neighbouring 16-bit values, the even one on a tie.
  const nearest = (x: number, h: number, dt: HalfDType) => {
    const v = halfValue(h, dt);
    for (const n of [h - 1, h + 1]) {
      if ((n & 0x7fff) >= (dt === 'f16' ? 0x7c00 : 0x7f80) || n < 0 || ((n ^ h) & 0x8000)) continue;
      const d = Math.abs(halfValue(n, dt) - x), e = Math.abs(v - x);
      if (d < e || (d === e && (h & 1))) return false;
    }
    return true;
  };
  it.each(['f16', 'bf16'] as const)('%s: every finite 16-bit value round-trips; random f32 values go to the nearest, ties to even', (dt) => {
    const bits = dt === 'f16' ? f16Bits : bf16Bits;
    for (let h = 0; h < 65536; h++) {
      const v = halfValue(h, dt);
      if (Number.isNaN(v)) expect(Number.isNaN(halfValue(bits(v), dt))).toBe(true);
      else expect(bits(v)).toBe(h === 0x8000 ? 0x8000 : h);
    }
    const xs = randn(20000, 7, 3).map((x, i) => x * 10 ** ((i % 9) - 4));
    for (const x of xs) expect(nearest(x, bits(x), dt), `${dt} of ${x}`).toBe(true);
    // Exact midpoints: 1 + 2^-11 (f16) and 1 + 2^-8 (bf16) lie halfway between 1 and its successor: to 1 (even).
    expect(halfValue(bits(dt === 'f16' ? 1 + 2 ** -11 : 1 + 2 ** -8), dt)).toBe(1);
    expect(halfValue(bits(dt === 'f16' ? 1 + 3 * 2 ** -11 : 1 + 3 * 2 ** -8), dt)).toBe(dt === 'f16' ? 1 + 2 ** -9 : 1 + 2 ** -6);
  });
  it('f16 saturates past 65504 to inf; bf16 keeps f32 range', () => {
    expect(halfValue(f16Bits(65520), 'f16')).toBe(Infinity);
    expect(halfValue(f16Bits(65519), 'f16')).toBe(65504);
    expect(halfValue(bf16Bits(3e38), 'bf16')).toBeCloseTo(3e38, -36);
    expect(halfToF32(toHalf([1.5, -2, 2 ** -24], 'f16'), 'f16')).toEqual(Float32Array.from([1.5, -2, 2 ** -24]));
  });
});

describe('bad 16-bit input: typed errors at graph build or compile', () => {
  it('g.constant: wrong length, a Float32Array with f16, a Uint16Array with no or a wrong dtype', () => {
    const g = new Graph();
    expect(() => g.constant(new Uint16Array(5), [2, 3], 'f16')).toThrow(/^constant: 5 values do not fill f16 shape \[2, 3\] \(6\)$/);
    expect(() => g.constant(new Float32Array(6) as never, [2, 3], 'f16')).toThrow(/^constant: dtype 'f16' takes the 16-bit patterns as a Uint16Array, got a Float32Array$/);
    expect(() => g.constant(new Uint16Array(6) as never, [2, 3])).toThrow(/^constant: a Uint16Array holds 16-bit weights and needs dtype 'f16' or 'bf16', got undefined$/);
    expect(() => g.constant(new Uint16Array(6), [2, 3], 'f8' as never)).toThrow(ShapeError);
  });

  it('a 16-bit tensor into an op that does not read one names the op, the operand and the dtype', () => {
    const g = new Graph();
    const w = g.constant(new Uint16Array(12), [3, 4], 'bf16'), x = g.input('x', [3, 4]);
    const msg = (op: string, i: number) => new RegExp(`^${op}: operand ${i} is a 16-bit weight \\(bf16 \\[3, 4\\]\\); 16-bit tensors are read only as matmul's b`);
    expect(() => g.add(x, w)).toThrow(msg('add', 1));
    expect(() => g.softmax(w)).toThrow(msg('softmax', 0));
    expect(() => g.reshape(w, [12])).toThrow(msg('reshape', 0));
    expect(() => g.output('w', w)).toThrow(msg('output', 0));
    expect(() => g.layerNorm(x, [4], w as never)).toThrow(ShapeError);
    expect(() => g.gather(w, 0, g.input('i', [1, 4], 'i32'))).toThrow(msg('gather', 0));
    expect(() => g.matmul(w, g.input('b', [4, 2]))).toThrow(msg('matmul', 0));
    expect(() => g.linear(x, g.input('w2', [5, 4]), g.constant(new Uint16Array(5), [5], 'f16'))).toThrow(/^linear: bias must be f32, got the 16-bit weight f16 \[5\]/);
    expect(() => g.cast(w, 'f32')).toThrow(msg('cast', 0));
    expect(() => g.concat([x, w], 0)).toThrow(ShapeError);
    // What does read one: matmul's b, linear's weight (also transposed), embedding's table.
    expect(g.matmul(x, g.transpose(w, 0, 1)).shape).toEqual([3, 3]);
    expect(g.linear(x, w).shape).toEqual([3, 3]);
    expect(g.embedding(g.input('ids', [2], 'i32'), w).shape).toEqual([2, 4]);
  });

  it("forcing the 'shader-f16' read on a device without shader-f16 is a LimitError naming the op and the feature", async () => {
    // The engine's own Dawn instance (held for the process): a device asked for with no features.
    const adapter = (await (await nodeGpu()).requestAdapter())!;
    const bare = await Runtime.create({ device: await adapter.requestDevice() });
    try {
      expect(bare.info.features).not.toContain('shader-f16');
      const g = new Graph();
      g.output('y', g.linear(g.input('x', [2, 4]), g.constant(toHalf(randn(12, 3), 'f16'), [3, 4], 'f16')));
      await expect(bare.compile(g, { variants: { weight16: 'shader-f16' } })).rejects.toThrow(
        /^linear: weight16 variant 'shader-f16' needs the device feature 'shader-f16', which this device lacks \(weight is f16\)$/);
      const g2 = new Graph();
      g2.output('e', g2.embedding(g2.input('ids', [2], 'i32'), g2.constant(new Uint16Array(8), [2, 4], 'f16')));
      await expect(bare.compile(g2, { variants: { weight16: 'shader-f16' } })).rejects.toBeInstanceOf(LimitError);
      // Without forcing, the same device reads packed pairs and runs.
      const exe = await bare.compile(g);
      expect(exe.steps.join(';')).toMatch(/f16 weight \(packed\)/);
      exe.destroy();
    } finally {
      bare.destroy();
    }
  });

  it("'shader-f16' reads f16 only; an unknown weight16 variant is named", async () => {
    const g = new Graph();
    g.output('y', g.linear(g.input('x', [2, 4]), g.constant(new Uint16Array(12), [3, 4], 'bf16')));
    await expect(rt.compile(g, { variants: { weight16: 'shader-f16' } })).rejects.toThrow(/^linear: weight16 variant 'shader-f16' reads f16 weights; weight is bf16$/);
    await expect(rt.compile(g, { variants: { weight16: 'half' } })).rejects.toThrow(/^linear: unknown weight16 variant 'half'; the variants are packed, shader-f16$/);
  });

  it('the default read is shader-f16 for f16 where the device has the feature, else packed; bf16 is always packed', async () => {
    const g = new Graph();
    const x = g.input('x', [2, 4]);
    g.output('a', g.linear(x, g.constant(new Uint16Array(12), [3, 4], 'f16')));
    g.output('b', g.linear(x, g.constant(new Uint16Array(12), [3, 4], 'bf16')));
    const exe = await rt.compile(g);
    const want = rt.info.features.includes('shader-f16') ? 'shader-f16' : 'packed';
    expect(exe.steps.join('; ')).toMatch(new RegExp(`f16 weight \\(${want}\\).*bf16 weight \\(packed\\)`));
    exe.destroy();
  });
});

describe('nn modules with 16-bit weights', () => {
  it('weightDtype rounds the seeded weights (ties to even); biases stay f32; stateDict widens', () => {
    setInitSeed(3);
    const f32 = new Linear(5, 3);
    setInitSeed(3);
    const h = new Linear(5, 3, true, { weightDtype: 'bf16' });
    expect(h.weight.half?.dtype).toBe('bf16');
    expect(h.weight.half?.bits).toEqual(toHalf(f32.weight.data, 'bf16'));
    expect(h.bias!.half).toBeUndefined();
    expect(h.bias!.data).toEqual(f32.bias!.data);
    expect(h.stateDict().weight.data).toEqual(halfToF32(toHalf(f32.weight.data, 'bf16'), 'bf16'));
    expect(() => new Embedding(4, 2, { weightDtype: 'f8' as never })).toThrow(/weightDtype must be 'f32', 'f16' or 'bf16'/);
  });

  it('loadStateDict keeps 16-bit weights (readSafetensors keep16), widens 16-bit biases, and refuses a Uint16Array without F16/BF16', () => {
    const lin = new Linear(4, 2);
    const w = toHalf(randn(8, 5), 'f16'), b = toHalf([0.5, -0.25], 'f16');
    lin.loadStateDict({ weight: { shape: [2, 4], data: w, dtype: 'F16' }, bias: { shape: [2], data: b, dtype: 'F16' } });
    expect(lin.weight.half).toEqual({ dtype: 'f16', bits: w });
    expect(lin.bias!.half).toBeUndefined();
    expect(Array.from(lin.bias!.data)).toEqual([0.5, -0.25]);
    expect(() => lin.loadStateDict({ weight: { shape: [2, 4], data: w, dtype: 'I16' }, bias: new Float32Array(2) })).toThrow(StateDictError);
    expect(() => lin.loadStateDict({ weight: { shape: [2, 4], data: w, dtype: 'I16' }, bias: new Float32Array(2) })).toThrow(/weight holds a Uint16Array but its dtype is "I16", not F16 or BF16/);
  });

  it("GPT-2 in 16 bits: distinct weight buffers <= 0.52x the f32 model's, wte one buffer for the embedding and the tied head", async () => {
    const cfg = { vocabSize: 1000, nPositions: 64, nEmbd: 64, nLayer: 2, nHead: 4 };
    const bytes = async (weightDtype: 'f32' | 'f16' | 'bf16') => {
      setInitSeed(5);
      const m = new GPT2LMHeadModel(cfg, { weightDtype });
      const g = new Graph();
      g.output('logits', m.forward(g, g.input('ids', [1, 8], 'i32')));
      const exe = await rt.compile(g);
      const n = exe.stats.weightBytes;
      exe.destroy();
      return n;
    };
    const f32 = await bytes('f32'), f16 = await bytes('f16'), bf16 = await bytes('bf16');
    // f32: wte, wpe's 8 positions, 2 x (c_attn as 3 blocks, c_proj, c_fc, c_proj) and every bias and norm, once each.
    const E = 64, n32 = 1000 * E + 8 * E + 2 * (12 * E * E + 13 * E) + 2 * E;
    expect(f32).toBe(4 * n32);
    expect(f16).toBe(bf16);
    expect(f16 / f32).toBeLessThanOrEqual(0.52);
    console.log(`GPT-2 (vocab 1000, d 64, 2 layers) weight buffers: f32 ${f32} B, f16 ${f16} B (${(f16 / f32).toFixed(3)}x)`);
    // The same model loaded from 16-bit tensors (a keep16 file) holds the same bytes.
    setInitSeed(5);
    const sd = new GPT2LMHeadModel(cfg, { weightDtype: 'f16' }).stateDict();
    const half = Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, { shape: v.shape, data: toHalf(v.data, 'f16'), dtype: 'F16' }]));
    const m = new GPT2LMHeadModel(cfg);
    m.loadStateDict({ ...half, 'lm_head.weight': half['transformer.wte.weight'] });
    expect(m.lmHeadWeight).toBeNull();
    expect(m.transformer.wte.weight.half?.dtype).toBe('f16');
    expect(m.transformer.wpe.weight.half).toBeUndefined();
    const g = new Graph();
    g.output('logits', m.forward(g, g.input('ids', [1, 8], 'i32')));
    const exe = await rt.compile(g);
    expect(exe.stats.weightBytes).toBe(f16);
    exe.destroy();
  });
});

describe('error against the f32 weights the 16-bit ones were rounded from', () => {
  // Rounding a weight w to 16 bits moves it by at most u|w| (u = 2^-11 for f16, 2^-8 for bf16), so an
  // output moves by at most u * sum |x||w|: the bound each value must meet (plus f32 accumulation).
  const U = { f16: 2 ** -11, bf16: 2 ** -8 } as const;
  it.each(['f16', 'bf16'] as const)('%s linear [16, 256] -> 96: within u * sum|x||w| of the f32 layer; relative max error printed', async (dt) => {
    const [M, K, N] = [16, 256, 96];
    const x = randn(M * K, 11), w = randn(N * K, 12, 1 / 16), bias = randn(N, 13, 1 / 16);
    const run = async (weight: Float32Array | Uint16Array) => {
      const g = new Graph();
      const wt = weight instanceof Uint16Array ? g.constant(weight, [N, K], dt) : g.constant(weight, [N, K]);
      g.output('y', g.linear(g.input('x', [M, K]), wt, g.constant(bias, [N])));
      const exe = await rt.compile(g);
      const { y } = await exe.run({ x });
      exe.destroy();
      return y;
    };
    const y32 = await run(w), y16 = await run(toHalf(w, dt));
    let worst = 0, maxY = 0;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += Math.abs(x[m * K + k] * w[n * K + k]);
        const d = Math.abs(y16[m * N + n] - y32[m * N + n]);
        // Plus both runs' f32 accumulation, K u32 s each at worst (u32 = 2^-24).
        expect(d).toBeLessThanOrEqual(U[dt] * s + 2 * K * 2 ** -24 * s + 1e-6);
        worst = Math.max(worst, d);
        maxY = Math.max(maxY, Math.abs(y32[m * N + n]));
      }
    }
    console.log(`linear ${M}x${K}x${N} ${dt} vs f32 weights: max abs error ${worst.toExponential(2)}, ${(worst / maxY).toExponential(2)} of max |y| (${rt.info.adapter.description})`);
  });

  it.each(['f16', 'bf16'] as const)('%s GPT-2 (vocab 1000, d 64, 2 layers): logits near the f32 model; the greedy token printed', async (dt) => {
    const cfg = { vocabSize: 1000, nPositions: 64, nEmbd: 64, nLayer: 2, nHead: 4 };
    const logits = async (weightDtype: 'f32' | HalfDType) => {
      setInitSeed(21);
      const m = new GPT2LMHeadModel(cfg, { weightDtype });
      const g = new Graph();
      g.output('logits', m.forward(g, g.input('ids', [1, 16], 'i32')));
      const exe = await rt.compile(g);
      const { logits: y } = await exe.run({ ids: Int32Array.from({ length: 16 }, (_, i) => (i * 61) % 1000) });
      exe.destroy();
      return y;
    };
    const a = await logits('f32'), b = await logits(dt);
    let worst = 0, maxY = 0, agree = 0;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
      maxY = Math.max(maxY, Math.abs(a[i]));
    }
    const argmax = (v: Float32Array, r: number) => {
      let best = 0;
      for (let j = 1; j < 1000; j++) if (v[r * 1000 + j] > v[r * 1000 + best]) best = j;
      return best;
    };
    for (let r = 0; r < 16; r++) agree += Number(argmax(a, r) === argmax(b, r));
    // Weights of std 0.02 rounded by u: logits (about 1 in size) move by a few u at most.
    expect(worst / maxY).toBeLessThan(dt === 'f16' ? 4e-3 : 3e-2);
    console.log(`GPT-2 small config ${dt} vs f32 weights: max abs logit error ${worst.toExponential(2)}, ${(worst / maxY).toExponential(2)} of max |logit|; greedy tokens agree at ${agree}/16 positions`);
  });
});

describe('readSafetensors keep16 feeds g.constant', () => {
  it('an F16 file read with keep16 runs as a 16-bit weight', async () => {
    const bits = toHalf(randn(6, 2), 'f16');
    const header = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] } }).padEnd(56));
    const file = new Uint8Array(8 + header.length + 12);
    new DataView(file.buffer).setUint32(0, header.length, true);
    file.set(header, 8);
    file.set(new Uint8Array(bits.buffer), 8 + header.length);
    const t = readSafetensors(file, { keep16: true }).w;
    expect(t.dtype).toBe('F16');
    const g = new Graph();
    g.output('y', g.linear(g.input('x', [1, 3]), g.constant(t.data as Uint16Array, t.shape, 'f16')));
    const exe = await rt.compile(g);
    const { y } = await exe.run({ x: Float32Array.from([1, 0, 0]) });
    const w = halfToF32(bits, 'f16');
    expect(Array.from(y)).toEqual([w[0], w[3]]);
    exe.destroy();
  });
});
