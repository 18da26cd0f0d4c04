// scaledDotProductAttention outside parity: bad input (typed errors naming the op and the shapes,
// raised before anything is dispatched), the variant choice, fully masked rows and the dispatch count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph, LimitError, Runtime, ShapeError } from '../src/node';
import { planAttention, type AttentionArgs } from '../src/kernels/attention';
import type { DeviceLimits } from '../src/kernels/kernel';
import { contiguousStrides } from '../src/graph/shapes';
import { randn } from './parity';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());

function qkv(g: Graph, q: number[], k: number[], v: number[]) {
  return [g.input('q', q), g.input('k', k), g.input('v', v)] as const;
}

describe('bad input', () => {
  it('a mask that does not broadcast to the scores', () => {
    const g = new Graph();
    const [q, k, v] = qkv(g, [2, 3, 5, 8], [2, 3, 7, 8], [2, 3, 7, 8]);
    expect(() => g.scaledDotProductAttention(q, k, v, { attnMask: g.input('m', [4, 7], 'bool') })).toThrow(ShapeError);
    expect(() => g.scaledDotProductAttention(q, k, v, { attnMask: g.input('m2', [5, 6], 'bool') })).toThrow(
      /scaledDotProductAttention: attnMask: shapes \[5, 6\] and \[2, 3, 5, 7\] do not broadcast/,
    );
    expect(() => g.scaledDotProductAttention(q, k, v, { attnMask: g.input('m3', [4, 2, 3, 5, 7]) })).toThrow(
      /scaledDotProductAttention: attnMask \[4, 2, 3, 5, 7\] does not broadcast to the scores \[2, 3, 5, 7\]/,
    );
  });
  it('q and k with different head dims', () => {
    const g = new Graph();
    const [q, k, v] = qkv(g, [2, 5, 8], [2, 7, 6], [2, 7, 8]);
    expect(() => g.scaledDotProductAttention(q, k, v)).toThrow(
      /scaledDotProductAttention: q \[2, 5, 8\] and k \[2, 7, 6\] differ in head dim \(8 vs 6\)/,
    );
  });
  it('k and v of different lengths', () => {
    const g = new Graph();
    const [q, k, v] = qkv(g, [2, 5, 8], [2, 7, 8], [2, 9, 8]);
    expect(() => g.scaledDotProductAttention(q, k, v)).toThrow(
      /scaledDotProductAttention: k \[2, 7, 8\] and v \[2, 9, 8\] differ in sequence length \(7 vs 9\)/,
    );
  });
  it('attnMask together with isCausal', () => {
    const g = new Graph();
    const [q, k, v] = qkv(g, [5, 8], [5, 8], [5, 8]);
    expect(() => g.scaledDotProductAttention(q, k, v, { attnMask: g.input('m', [5, 5], 'bool'), isCausal: true })).toThrow(
      /scaledDotProductAttention: pass attnMask or isCausal, not both/,
    );
  });
  it('an i32 mask', () => {
    const g = new Graph();
    const [q, k, v] = qkv(g, [5, 8], [5, 8], [5, 8]);
    expect(() => g.scaledDotProductAttention(q, k, v, { attnMask: g.input('m', [5, 5], 'i32') })).toThrow(
      /scaledDotProductAttention: attnMask must be bool or f32, got i32 \[5, 5\]/,
    );
  });
  it('an unknown forced variant fails at compile', async () => {
    const g = new Graph();
    const [q, k, v] = qkv(g, [5, 8], [5, 8], [5, 8]);
    g.output('y', g.scaledDotProductAttention(q, k, v));
    await expect(gpu.compile(g, { variants: { attention: 'fast' } })).rejects.toThrow(
      /scaledDotProductAttention: unknown variant 'fast'; the variants are flash, split, rows/,
    );
  });
  it('a head dim past 256 is a LimitError on the GPU, and runs on the CPU reference', async () => {
    const g = new Graph();
    const [q, k, v] = qkv(g, [1, 3, 8], [1, 4, 8], [1, 4, 300]);
    g.output('y', g.scaledDotProductAttention(q, k, v));
    await expect(gpu.compile(g)).rejects.toThrow(LimitError);
    await expect(gpu.compile(g)).rejects.toThrow(
      /scaledDotProductAttention: q \[1, 3, 8\], v \[1, 4, 300\]: head dims 8 and 300; the kernel supports up to 256/,
    );
    const cpu = await Runtime.cpu().compile(g);
    const { y } = await cpu.run({ q: randn(24, 1), k: randn(32, 2), v: randn(1200, 3) });
    expect(y.length).toBe(900);
  });
  it('tile constants the kernel cannot hold are a LimitError naming them', async () => {
    const g = new Graph();
    const [q, k, v] = qkv(g, [9, 64], [9, 64], [9, 256]);
    g.output('y', g.scaledDotProductAttention(q, k, v));
    await expect(gpu.compile(g, { variants: { attention: 'flash' }, constants: { attention: { TPR: 2 } } })).rejects.toThrow(
      /scaledDotProductAttention \(flash\): constants .*"TPR":2.*: TPR 2 leaves more than 16 of the Dv = 256 columns per thread; use TPR >= 16/,
    );
    await expect(gpu.compile(g, { variants: { attention: 'split' }, constants: { attention: { KG: 3 } } })).rejects.toThrow(
      /KG must be a power of two/,
    );
    await expect(gpu.compile(g, { variants: { attention: 'flash' }, constants: { attention: { RG: 64, BK: 64 } } })).rejects.toThrow(
      /bytes of workgroup memory; the device allows/,
    );
  });
});

describe('variant choice', () => {
  const view = (shape: number[]) => ({ shape, strides: contiguousStrides(shape) });
  const args = (Tq: number): AttentionArgs => ({
    q: view([4, Tq, 64]), k: view([4, 128, 64]), v: view([4, 128, 64]), maskKind: 'none', isCausal: false, scale: 0.125, batch: [4],
  });
  const limits = (emulated: boolean): DeviceLimits => ({
    maxComputeWorkgroupsPerDimension: 65535, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 32768,
    maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, emulated,
  });
  it('flash for many query rows, split for decode, rows on CPU-emulated adapters', () => {
    expect(planAttention(args(65), undefined, limits(false)).variant).toBe('flash');
    expect(planAttention(args(1), undefined, limits(false)).variant).toBe('split');
    expect(planAttention(args(4), undefined, limits(false)).variant).toBe('split');
    expect(planAttention(args(65), undefined, limits(true)).variant).toBe('rows');
    expect(planAttention(args(1), undefined, limits(true)).variant).toBe('rows');
    expect(planAttention(args(1), { variants: { attention: 'flash' } }, limits(true)).variant).toBe('flash');
  });
  it('flash tiles shrink to fit workgroup memory', () => {
    const plan = planAttention({ ...args(300), q: view([4, 300, 256]), k: view([4, 300, 256]), v: view([4, 300, 256]) }, undefined, limits(false));
    const { RG, RQ, BK, TPR } = plan.constants as Record<string, number>;
    expect(TPR).toBe(16);
    expect(4 * (RG * RQ * 256 + 256 * BK + BK * 256 + 2 * RG * RQ * BK)).toBeLessThanOrEqual(32768);
  });
});

describe('fully masked rows and dispatches', () => {
  it.each(['flash', 'split', 'rows'])('a row with every key masked gives zeros, not NaN (%s)', async (variant) => {
    const g = new Graph();
    const [q, k, v] = qkv(g, [2, 3, 8], [2, 5, 8], [2, 5, 4]);
    g.output('y', g.scaledDotProductAttention(q, k, v, { attnMask: g.input('m', [3, 5], 'bool') }));
    const exe = await gpu.compile(g, { variants: { attention: variant } });
    const mask = Uint8Array.from([1, 0, 1, 0, 0, /* row 1: none */ 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    const { y } = await exe.run({ q: randn(48, 1), k: randn(80, 2), v: randn(40, 3), m: mask });
    for (const b of [0, 1]) {
      expect(Array.from(y.slice(b * 12 + 4, b * 12 + 8))).toEqual([0, 0, 0, 0]);
      expect(y.slice(b * 12, b * 12 + 4).every((x) => Number.isFinite(x) && x !== 0)).toBe(true);
    }
    exe.destroy();
  });
  it.each(['flash', 'split', 'rows', undefined])('contiguous q, k, v and a mask: exactly one dispatch, one submit (%s)', async (variant) => {
    const g = new Graph();
    const [q, k, v] = qkv(g, [2, 4, 33, 16], [2, 4, 40, 16], [2, 4, 40, 8]);
    g.output('y', g.scaledDotProductAttention(q, k, v, { attnMask: g.input('m', [2, 1, 1, 40], 'bool') }));
    const exe = await gpu.compile(g, variant ? { variants: { attention: variant } } : {});
    await exe.run({ q: randn(2 * 4 * 33 * 16, 1), k: randn(2 * 4 * 40 * 16, 2), v: randn(2 * 4 * 40 * 8, 3), m: new Uint8Array(80).fill(1) });
    expect(exe.stats.dispatches).toBe(1);
    expect(exe.stats.submits).toBe(1);
    const steps = exe.steps;
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatch(/^attention#\d+ \[2, 4, 33, 8\]/);
    exe.destroy();
  });
  it('[B, T, H, D] inputs viewed as [B, H, T, D] are read in place: still one dispatch', async () => {
    const g = new Graph();
    const view = (name: string) => g.transpose(g.input(name, [2, 17, 3, 8]), 1, 2);
    g.output('y', g.scaledDotProductAttention(view('q'), view('k'), view('v'), { isCausal: true }));
    const exe = await gpu.compile(g);
    const n = 2 * 17 * 3 * 8;
    await exe.run({ q: randn(n, 1), k: randn(n, 2), v: randn(n, 3) });
    expect(exe.stats.dispatches).toBe(1);
    exe.destroy();
  });
});
