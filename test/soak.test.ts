// Soak on Dawn: thousands of runs of a small graph over several kernels, with a state written by
// assign and read by a second executable through shareStateWith, must hold the device's live
// GPUBuffer count and each executable's bytesAllocated constant and keep matching the CPU reference;
// compiling and destroying many executables, with rejected runs, rejected compiles and readState
// calls among them, must bring the live count back to where it started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph, InputError, Runtime, type Executable, type Feeds } from '../src/node';
import { bufferCounts, liveBuffers } from '../src/testing';
import { randn } from './parity';

const RUNS = 2000;
// ROWS a multiple of 4: the reader's [1, ROWS] x [ROWS, D] sum then takes matmul's register kernel, not
// the tiled one, whose pipeline alone costs lavapipe ~10 s of cold compile (the soak is about buffers).
const ROWS = 8, D = 16;
const W1 = randn(D * 8, 1, 0.3), B1 = randn(D, 2, 0.1), EMB = randn(10 * D, 3);
const WIH = randn(3 * 4 * D, 4, 0.5), WHH = randn(3 * 4 * 4, 5, 0.5), ONES = new Float32Array(ROWS).fill(1);

/** linear (+bias) -> gelu -> layerNorm -> a row assigned into the cache at a fed position -> attention over the cache -> softmax; and an embedding. */
function writer(): Graph {
  const g = new Graph();
  const n = g.layerNorm(g.gelu(g.linear(g.input('x', [3, 8]), g.constant(W1, [D, 8]), g.constant(B1, [D]))), [D]);
  const cache = g.assign(g.state('cache', [ROWS, D]), g.slice(n, 0, 1, 2), { dim: 0, offset: g.input('pos', [1], 'i32') });
  const kv = g.reshape(cache, [1, ROWS, D]);
  g.output('y', g.softmax(g.scaledDotProductAttention(g.reshape(n, [1, 3, D]), kv, kv), -1));
  g.output('e', g.embedding(g.input('ids', [4], 'i32'), g.constant(EMB, [10, D])));
  return g;
}

/** Reads the shared cache: a matmul over its rows, and a GRU over it as a sequence. */
function reader(): Graph {
  const g = new Graph();
  const cache = g.state('cache', [ROWS, D]);
  g.output('sum', g.matmul(g.constant(ONES, [1, ROWS]), cache));
  const { hN } = g.gru(g.reshape(cache, [ROWS, 1, D]), { weight_ih_l0: g.constant(WIH, [12, D]), weight_hh_l0: g.constant(WHH, [12, 4]) }, { hiddenSize: 4, bias: false });
  g.output('h', hN);
  return g;
}

function feeds(i: number): Feeds {
  return { x: randn(24, 100 + (i % 7)), pos: new Int32Array([i % ROWS]), ids: Int32Array.from([i % 10, (3 * i) % 10, 9, 0]) };
}

function expectClose(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    // f32 GEMMs of K <= 8 and 16, layer norm, exp: far below 1e-4 (see test/cases*.ts).
    if (!(Math.abs(got[i] - want[i]) <= 1e-4 + 1e-4 * Math.abs(want[i]))) {
      throw new Error(`${what}[${i}]: gpu ${got[i]} ref ${want[i]}`);
    }
  }
}

let rt: Runtime;
beforeAll(async () => {
  rt = await Runtime.create();
});
afterAll(() => rt?.destroy());

describe('the live-buffer counter', () => {
  it('counts created and destroyed buffers once each, however often destroy() is called', () => {
    const before = bufferCounts(rt);
    const b = rt.device!.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE });
    expect(liveBuffers(rt)).toBe(before.live + 1);
    expect(bufferCounts(rt).liveBytes).toBe(before.liveBytes + 64);
    b.destroy();
    b.destroy();
    expect(bufferCounts(rt)).toEqual({ ...before, created: before.created + 1, destroyed: before.destroyed + 1 });
    expect(() => liveBuffers(Runtime.cpu())).toThrow(/CPU runtime/);
  });
});

describe('soak (Dawn)', () => {
  it(`${RUNS} runs of a writer and a reader sharing a state hold buffers and bytes constant and match the reference`, async () => {
    const base = liveBuffers(rt);
    const w = await rt.compile(writer());
    const r = await rt.compile(reader(), { shareStateWith: w });
    const cw = await Runtime.cpu().compile(writer());
    const cr = await Runtime.cpu().compile(reader(), { shareStateWith: cw });
    const live = liveBuffers(rt);
    const bytes = [w.stats.bytesAllocated, r.stats.bytesAllocated];
    expect(live).toBeGreaterThan(base);
    const t0 = performance.now();
    for (let i = 0; i < RUNS; i++) {
      const f = feeds(i);
      const [gw, gr] = [await w.run(f), await r.run({})];
      // The reference keeps pace every run (its state must see the same writes); compared now and then.
      const [rw, rr] = [await cw.run(f), await cr.run({})];
      if (i % 250 === 0 || i === RUNS - 1) {
        for (const [got, want, what] of [[gw, rw, 'writer'], [gr, rr, 'reader']] as const) {
          for (const name of Object.keys(want)) expectClose(got[name], want[name], `run ${i} ${what}.${name}`);
        }
        expect(liveBuffers(rt), `live buffers after run ${i}`).toBe(live);
        expect([w.stats.bytesAllocated, r.stats.bytesAllocated], `bytesAllocated after run ${i}`).toEqual(bytes);
      }
    }
    const ms = performance.now() - t0;
    expectClose(await r.readState('cache'), await cr.readState('cache'), 'final cache');
    expect(liveBuffers(rt)).toBe(live);
    console.log(`soak: ${RUNS} x (writer ${w.stats.dispatches} dispatches + reader ${r.stats.dispatches}) in ${(ms / 1000).toFixed(1)} s; ${live - base} live buffers throughout`);
    w.destroy();
    r.destroy();
    expect(liveBuffers(rt)).toBe(base);
  }, 240_000);

  it('compiling and destroying executables, with rejected runs and compiles, leaks no buffer', async () => {
    const base = bufferCounts(rt);
    for (let i = 0; i < 40; i++) {
      const w = await rt.compile(writer());
      const r = await rt.compile(reader(), { shareStateWith: w });
      await w.run(feeds(i));
      const wrongLength = { ...feeds(i), x: new Float32Array(23) };
      await expect(w.run(wrongLength)).rejects.toThrow(InputError);
      await expect(w.run({ ...feeds(i), pos: new Int32Array([ROWS]) })).rejects.toThrow(InputError);
      await expect(r.run({ extra: new Float32Array(1) })).rejects.toThrow(InputError);
      expect((await w.readState('cache')).length).toBe(ROWS * D);
      await expect(r.readState('nope')).rejects.toThrow(InputError);
      // A state of another shape cannot share: the compile fails after building some of its buffers.
      const bad = new Graph();
      bad.output('c', bad.relu(bad.state('cache', [ROWS - 1, D])));
      await expect(rt.compile(bad, { shareStateWith: w })).rejects.toThrow(/cache/);
      // Either may go first; the shared state lives until the last of them is destroyed.
      const [first, second]: Executable[] = i % 2 ? [w, r] : [r, w];
      first.destroy();
      expect(Object.keys(await second.run(second === w ? feeds(i) : {})).length).toBeGreaterThan(0);
      second.destroy();
      second.destroy();
      expect(liveBuffers(rt), `after iteration ${i}`).toBe(base.live);
    }
    const end = bufferCounts(rt);
    expect(end.live).toBe(base.live);
    expect(end.liveBytes).toBe(base.liveBytes);
    expect(end.created - base.created).toBeGreaterThan(40 * 4);
  }, 240_000);
});
