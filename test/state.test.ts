// State kept on the GPU between runs: a cache filled one row per run at a fed position, shared
// between two executables, reset, and range-checked before dispatch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph, InputError, Runtime, ShapeError } from '../src/node';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());

function stepGraph(rows = 5) {
  const g = new Graph();
  const cache = g.state('cache', [rows, 3]);
  const after = g.assign(cache, g.input('row', [1, 3]), { dim: 0, offset: g.input('pos', [1], 'i32') });
  g.output('total', g.matmul(g.constant(new Float32Array(rows).fill(1), [1, rows]), after));
  return g;
}

describe.each(['gpu', 'cpu'])('state (%s)', (which) => {
  const rt = () => (which === 'gpu' ? gpu : Runtime.cpu());
  it('keeps rows written by earlier runs; one submit per run; resetState zeroes', async () => {
    const exe = await rt().compile(stepGraph());
    for (let t = 0; t < 4; t++) {
      const { total } = await exe.run({ row: new Float32Array([t + 1, 10 * (t + 1), 0.5]), pos: new Int32Array([t]) });
      const n = t + 1;
      expect(Array.from(total)).toEqual([(n * (n + 1)) / 2, (10 * n * (n + 1)) / 2, 0.5 * n]);
      if (which === 'gpu') expect(exe.stats).toMatchObject({ dispatches: 2, submits: 1 });
    }
    expect(Array.from(await exe.readState('cache'))).toEqual([1, 10, 0.5, 2, 20, 0.5, 3, 30, 0.5, 4, 40, 0.5, 0, 0, 0]);
    exe.resetState();
    expect(Array.from(await exe.readState('cache'))).toEqual(new Array(15).fill(0));
    exe.destroy();
  });
  it('an assign nothing reads still runs', async () => {
    const g = new Graph();
    const s = g.state('s', [2, 2]);
    g.assign(s, g.input('v', [1, 2]), { dim: 0, offset: 1 });
    g.output('other', g.relu(g.input('x', [1])));
    const exe = await rt().compile(g);
    await exe.run({ v: new Float32Array([5, 6]), x: new Float32Array([1]) });
    expect(Array.from(await exe.readState('s'))).toEqual([0, 0, 5, 6]);
    exe.destroy();
  });
  it('a position past the state is an InputError before dispatch', async () => {
    const exe = await rt().compile(stepGraph());
    await expect(exe.run({ row: new Float32Array(3), pos: new Int32Array([5]) })).rejects.toThrow(
      /assign: offset \[1\] hold 5 at flat index 0; valid values are 0..4/,
    );
    await expect(exe.run({ row: new Float32Array(3), pos: new Int32Array([-1]) })).rejects.toThrow(InputError);
    expect(Array.from(await exe.readState('cache'))).toEqual(new Array(15).fill(0));
    exe.destroy();
  });
  it('a bad id later in the graph leaves an earlier assign undone', async () => {
    const g = new Graph();
    const s = g.state('s', [2, 2]);
    g.assign(s, g.input('v', [1, 2]), { dim: 0, offset: 0 });
    g.output('e', g.embedding(g.input('ids', [1], 'i32'), g.input('w', [3, 2])));
    const exe = await rt().compile(g);
    await expect(exe.run({ v: new Float32Array([1, 2]), ids: new Int32Array([3]), w: new Float32Array(6) })).rejects.toThrow(InputError);
    expect(Array.from(await exe.readState('s'))).toEqual([0, 0, 0, 0]);
    exe.destroy();
  });
  it('two executables share a state by name', async () => {
    const a = await rt().compile(stepGraph());
    const g = new Graph();
    g.output('c', g.state('cache', [5, 3]));
    const b = await rt().compile(g, { shareStateWith: a });
    await a.run({ row: new Float32Array([7, 8, 9]), pos: new Int32Array([2]) });
    const { c } = await b.run({});
    expect(Array.from(c.slice(6, 9))).toEqual([7, 8, 9]);
    const bad = new Graph();
    bad.output('c', bad.state('cache', [4, 3]));
    await expect(rt().compile(bad, { shareStateWith: a })).rejects.toThrow(/state 'cache' \[4, 3\] cannot share/);
    b.destroy();
    a.destroy();
  });
});

describe('data op shape errors', () => {
  it('assign, slice, concat, gather', () => {
    const g = new Graph();
    const s = g.state('s', [4, 3]);
    expect(() => g.assign(s, g.input('v', [2, 2]), { dim: 0, offset: 0 })).toThrow(/assign: value \[2, 2\] does not fit state \[4, 3\] along dim 0/);
    expect(() => g.assign(s, g.input('v2', [2, 3]), { dim: 0, offset: 3 })).toThrow(/assign: offset 3 \+ 2 passes state \[4, 3\]/);
    expect(() => g.assign(g.input('x', [4, 3]), g.input('v3', [1, 3]), { dim: 0, offset: 0 })).toThrow(/assign: the target must be a g.state\(\) tensor, got input/);
    expect(() => g.assign(s, g.input('v4', [1, 3]), { dim: 0, offset: g.input('p', [2], 'i32') })).toThrow(/a tensor offset must be an i32 \[1\] graph input/);
    expect(() => g.slice(s, 1, 2, 5)).toThrow(/slice: \[2:5\] is out of range for dim 1 of \[4, 3\]/);
    expect(() => g.concat([s, g.input('c', [4, 2, 1])], 0)).toThrow(/concat: f32 \[4, 2, 1\] does not match f32 \[4, 3\] outside dim 0/);
    expect(() => g.gather(s, 0, g.input('i', [2, 3]))).toThrow(/gather: index must be i32, got f32 \[2, 3\]/);
    expect(() => g.gather(s, 0, g.input('j', [2, 4], 'i32'))).toThrow(/gather: index \[2, 4\] must have x's rank and fit x \[4, 3\] outside dim 0/);
    expect(() => g.state('s', [1])).toThrow(ShapeError);
  });
  it.each(['gpu', 'cpu'])('a gather index out of range is an InputError at run (%s)', async (which) => {
    const g = new Graph();
    g.output('y', g.gather(g.input('x', [4, 3]), 0, g.input('i', [1, 3], 'i32')));
    const exe = await (which === 'gpu' ? gpu : Runtime.cpu()).compile(g);
    await expect(exe.run({ x: new Float32Array(12), i: new Int32Array([0, 4, 1]) })).rejects.toThrow(/gather: index \[1, 3\] hold 4 at flat index 1; valid values are 0..3/);
    exe.destroy();
  });
});

describe('shared GPU buffers', () => {
  it('a weight used by two executables is uploaded once and outlives the first one destroyed', async () => {
    const w = new Float32Array([1, 2, 3, 4]);
    const build = () => {
      const g = new Graph();
      g.output('y', g.matmul(g.input('x', [1, 2]), g.constant(w, [2, 2])));
      return g;
    };
    const a = await gpu.compile(build());
    const b = await gpu.compile(build());
    a.destroy();
    expect(Array.from((await b.run({ x: new Float32Array([1, 1]) })).y)).toEqual([4, 6]);
    b.destroy();
  });
  it('a state outlives the executable that created it while a sharer uses it', async () => {
    const a = await gpu.compile(stepGraph());
    await a.run({ row: new Float32Array([1, 2, 3]), pos: new Int32Array([0]) });
    const g = new Graph();
    g.output('c', g.state('cache', [5, 3]));
    const b = await gpu.compile(g, { shareStateWith: a });
    a.destroy();
    expect(Array.from((await b.run({})).c.slice(0, 3))).toEqual([1, 2, 3]);
    b.destroy();
  });
});
