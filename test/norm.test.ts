// Bad input for gelu, layerNorm and embedding: typed errors naming the op and the shapes, before dispatch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph, InputError, Runtime, ShapeError } from '../src/node';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());

describe('embedding', () => {
  it('ids that are not i32 are a ShapeError', () => {
    const g = new Graph();
    expect(() => g.embedding(g.input('ids', [4]), g.input('w', [10, 3]))).toThrow(/embedding: ids must be i32, got f32 \[4\]/);
    expect(() => g.embedding(g.input('i', [4], 'i32'), g.input('w2', [10]))).toThrow(/embedding: weight must be f32, f16 or bf16 \[num, dim\], got f32 \[10\]/);
  });
  it.each(['gpu', 'cpu'])('an id out of range is an InputError at run, before dispatch (%s)', async (which) => {
    const g = new Graph();
    g.output('y', g.embedding(g.input('ids', [2, 3], 'i32'), g.input('w', [10, 4])));
    const exe = await (which === 'gpu' ? gpu : Runtime.cpu()).compile(g);
    const w = new Float32Array(40);
    await expect(exe.run({ ids: new Int32Array([0, 1, 2, 3, 10, 4]), w })).rejects.toThrow(InputError);
    await expect(exe.run({ ids: new Int32Array([0, -1, 2, 3, 9, 4]), w })).rejects.toThrow(
      /embedding: ids \[2, 3\] hold -1 at flat index 1; valid values are 0..9/,
    );
    expect(exe.stats.dispatches).toBe(0);
    const { y } = await exe.run({ ids: new Int32Array([9, 0, 0, 0, 0, 0]), w: w.map((_, i) => i) });
    expect(Array.from(y.slice(0, 4))).toEqual([36, 37, 38, 39]);
    exe.destroy();
  });
  it('constant ids out of range fail at compile', async () => {
    const g = new Graph();
    g.output('y', g.embedding(g.constant(new Int32Array([3, 7]), [2]), g.input('w', [5, 2])));
    await expect(gpu.compile(g)).rejects.toThrow(/embedding: ids \[2\] hold 7 at flat index 1; valid values are 0..4/);
  });
});

describe('layerNorm and gelu', () => {
  it('normalizedShape that is not the trailing dims, and mis-shaped affine params', () => {
    const g = new Graph();
    const x = g.input('x', [2, 3, 4]);
    expect(() => g.layerNorm(x, [3])).toThrow(/layerNorm: normalizedShape \[3\] is not the trailing dims of x \[2, 3, 4\]/);
    expect(() => g.layerNorm(x, [3, 4], g.input('w', [4]))).toThrow(/layerNorm: weight \[4\] must be \[3, 4\]/);
    expect(() => g.layerNorm(x, [4], undefined, g.input('b', [5]))).toThrow(ShapeError);
  });
  it('an unknown layerNorm variant is a ShapeError', async () => {
    const g = new Graph();
    g.output('y', g.layerNorm(g.input('x', [2, 4]), [4]));
    await expect(gpu.compile(g, { variants: { layernorm: 'fast' } })).rejects.toThrow(/layerNorm: unknown variant 'fast'; the variants are workgroup, row/);
  });
  it('an unknown gelu approximation', () => {
    const g = new Graph();
    expect(() => g.gelu(g.input('x', [2]), 'fast' as never)).toThrow(/gelu: approximate must be 'none' or 'tanh', got 'fast'/);
  });
});
