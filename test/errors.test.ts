// Bad input: each fault is a typed error naming the op (or input) and the shapes, raised before any
// dispatch, on the GPU runtime and on the CPU reference alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeviceLostError, GpuError, Graph, InputError, LimitError, Runtime, SeqgpuError, ShapeError,
} from '../src/node';
import { GpuContext } from '../src/runtime/gpu';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());

const runtimes = () => [['gpu', gpu], ['cpu', Runtime.cpu()]] as const;

describe('shape errors at graph build', () => {
  it('matmul of [2,3] by [4,5] names the op and both shapes', () => {
    const g = new Graph();
    expect(() => g.matmul(g.input('a', [2, 3]), g.input('b', [4, 5]))).toThrow(ShapeError);
    expect(() => g.matmul(g.input('c', [2, 3]), g.input('d', [4, 5]))).toThrow(/matmul: \[2, 3\] x \[4, 5\]: inner dims differ/);
  });
  it('matmul of a rank-1 operand is a rank error', () => {
    const g = new Graph();
    expect(() => g.matmul(g.input('a', [3]), g.input('b', [3, 2]))).toThrow(/matmul: both operands need rank >= 2, got \[3\] and \[3, 2\]/);
  });
  it('batch dims that do not broadcast', () => {
    const g = new Graph();
    expect(() => g.matmul(g.input('a', [2, 4, 3]), g.input('b', [3, 3, 5]))).toThrow(/matmul \(batch dims\): shapes \[2\] and \[3\] do not broadcast/);
  });
  it('linear with the wrong feature count, weight rank or bias', () => {
    const g = new Graph();
    const x = g.input('x', [4, 7]);
    expect(() => g.linear(x, g.input('w', [3, 6]))).toThrow(/linear: x \[4, 7\] has 7 features but weight \[3, 6\] expects 6/);
    expect(() => g.linear(x, g.input('w3', [1, 3, 7]))).toThrow(/linear: .*weight \[1, 3, 7\] rank 2/);
    expect(() => g.linear(x, g.input('w2', [3, 7]), g.input('b', [4]))).toThrow(/linear: bias \[4\] must be \[3\]/);
  });
  it('elementwise shapes that do not broadcast', () => {
    const g = new Graph();
    expect(() => g.add(g.input('a', [4, 3]), g.input('b', [2, 3]))).toThrow(/add: input f32 \[4, 3\], other f32 \[2, 3\] do not broadcast \(dim -2: 4 vs 2\)/);
  });
  it('softmax, transpose and reshape with bad dims', () => {
    const g = new Graph();
    const x = g.input('x', [2, 3]);
    expect(() => g.softmax(x, 2)).toThrow(/softmax: dim 2 is out of range for a tensor of shape \[2, 3\]/);
    expect(() => g.transpose(x, 0, -3)).toThrow(/transpose: dim -3 is out of range/);
    expect(() => g.reshape(x, [4, 2])).toThrow(/reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
    expect(() => g.reshape(x, [-1, -1])).toThrow(/reshape: invalid target shape/);
  });
  it('ops on i32 tensors and tensors of another graph', () => {
    const g = new Graph(), h = new Graph();
    expect(() => g.gelu(g.input('ids', [3], 'i32'))).toThrow(/gelu: gelu takes f32 only \(input i32 \[3\]\)/);
    expect(() => g.relu(h.input('x', [3]))).toThrow(/relu: an operand is not a tensor of this graph/);
    expect(() => g.input('ids', [2])).toThrow(/input: the name 'ids' is already an input/);
    expect(() => g.input('bad', [2, -1])).toThrow(ShapeError);
    expect(() => g.constant(new Float32Array(5), [2, 3])).toThrow(/constant: 5 values do not fill shape \[2, 3\]/);
  });
  it('every engine error is a SeqgpuError', () => {
    for (const E of [ShapeError, InputError, LimitError, GpuError, DeviceLostError]) expect(new E('x')).toBeInstanceOf(SeqgpuError);
  });
});

function smallGraph() {
  const g = new Graph();
  g.output('y', g.relu(g.linear(g.input('x', [2, 3]), g.input('w', [4, 3]))));
  return g;
}
const goodFeeds = () => ({ x: new Float32Array(6), w: new Float32Array(12) });

describe.each(runtimes().map(([n]) => n))('run-time input errors (%s)', (name) => {
  const rt = () => (name === 'gpu' ? gpu : Runtime.cpu());
  it('wrong length', async () => {
    const exe = await rt().compile(smallGraph());
    await expect(exe.run({ x: new Float32Array(5), w: new Float32Array(12) })).rejects.toThrow(
      /run: input 'x' has 5 elements but shape \[2, 3\] needs 6/,
    );
    expect(exe.stats.dispatches).toBe(0);
    exe.destroy();
  });
  it('wrong dtype', async () => {
    const exe = await rt().compile(smallGraph());
    await expect(exe.run({ x: new Int32Array(6), w: new Float32Array(12) } as never)).rejects.toThrow(
      /run: input 'x' is f32 \[2, 3\] and needs a Float32Array, got Int32Array/,
    );
    const g = new Graph();
    g.output('y', g.reshape(g.input('ids', [3], 'i32'), [3, 1]));
    const e2 = await rt().compile(g);
    await expect(e2.run({ ids: new Float32Array(3) } as never)).rejects.toBeInstanceOf(InputError);
    exe.destroy();
    e2.destroy();
  });
  it('missing and unknown inputs, unknown output', async () => {
    const exe = await rt().compile(smallGraph());
    await expect(exe.run({ x: new Float32Array(6) })).rejects.toThrow(/run: missing input 'w' \(f32 \[4, 3\]\)/);
    await expect(exe.run({ ...goodFeeds(), z: new Float32Array(1) })).rejects.toThrow(/run: unknown input 'z'/);
    expect(() => exe.outputShape('nope')).toThrow(InputError);
    expect(() => exe.outputShape('nope')).toThrow(/unknown output 'nope'; the outputs are y/);
    expect(exe.outputShape('y')).toEqual([2, 4]);
    // The same executable still runs after rejected calls.
    const { y } = await exe.run(goodFeeds());
    expect(y.length).toBe(8);
    exe.destroy();
  });
});

describe('device limits and GPU errors', () => {
  it('an operand past maxStorageBufferBindingSize is a LimitError at compile, naming the op that cannot take it in parts', async () => {
    const g = new Graph();
    const n = Math.floor(gpu.device!.limits.maxStorageBufferBindingSize / 4) + 16;
    g.output('y', g.relu(g.input('big', [n])));
    await expect(gpu.compile(g)).rejects.toThrow(LimitError);
    await expect(gpu.compile(g)).rejects.toThrow(new RegExp(`^relu: operand 0 \\(input 'big'\\) f32 \\[${n}\\] needs a \\d+-byte buffer; the device binds at most`));
  });
  it('tile constants beyond the workgroup limits are a LimitError', async () => {
    const g = new Graph();
    g.output('y', g.matmul(g.input('a', [8, 8]), g.input('b', [8, 8])));
    await expect(gpu.compile(g, { variants: { matmul: 'tiled' }, constants: { matmul: { TILE_M: 512, TILE_N: 512 } } })).rejects.toThrow(
      /matmul: constants .* give a 128x128 workgroup; the device allows/,
    );
    await expect(gpu.compile(g, { variants: { matmul: 'tiled' }, constants: { matmul: { TILE_M: 6 } } })).rejects.toThrow(/multiples of 4/);
  });
  it('a register tile side other than RM 4, 8, 16, 32 or RN 4, 8, 16 is a LimitError naming it, before any dispatch', async () => {
    const g = new Graph();
    g.output('y', g.matmul(g.input('a', [8, 8]), g.input('b', [8, 8])));
    for (const [name, v, sides] of [['RM', 5, '4, 8, 16, 32'], ['RN', 32, '4, 8, 16'], ['RM', 0, '4, 8, 16, 32'], ['RM', 64, '4, 8, 16, 32']] as const) {
      await expect(gpu.compile(g, { variants: { matmul: 'register' }, constants: { matmul: { [name]: v } } })).rejects.toThrow(
        new RegExp(`matmul: register ${name} ${v}; the shader's register tile takes ${name} ${sides}$`),
      );
    }
    await expect(gpu.compile(g, { variants: { matmul: 'register' }, constants: { matmul: { RM: 3 } } })).rejects.toBeInstanceOf(LimitError);
  });
  it('a forced vec4 variant on unaligned operands is a ShapeError naming the shapes', async () => {
    const g = new Graph();
    g.output('y', g.matmul(g.input('a', [5, 7]), g.input('b', [7, 3])));
    await expect(gpu.compile(g, { variants: { matmul: 'tiled-vec4' } })).rejects.toThrow(/variant 'tiled-vec4' needs .* a \[5, 7\]/);
    await expect(gpu.compile(g, { variants: { matmul: 'register' } })).rejects.toThrow(/variant 'register' needs A stored \[M, K\] .* a \[5, 7\]/);
    await expect(gpu.compile(g, { variants: { matmul: 'fast' } })).rejects.toThrow(/unknown variant 'fast'/);
  });
  it('a shader compile error reports file:line:col', async () => {
    const ctx = new GpuContext(gpu.device!);
    const bad = { file: 'shaders/broken.wgsl', code: '@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = 1u;\n}\n' };
    await expect(ctx.pipeline(bad, 'main', {}, 'broken kernel')).rejects.toThrow(/^broken kernel: pipeline shaders\/broken.wgsl:main [^]*\n  shaders\/broken.wgsl:3:\d+ cannot initialize/);
  });
  it('a compile error behind the shared prelude (shaderOf) names the kernel file and its own line', async () => {
    const { shaderOf, sourceLine } = await import('../src/kernels/kernel');
    const ctx = new GpuContext(gpu.device!);
    const bad = shaderOf('shaders/broken-kernel.wgsl', '@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = relu(1u);\n}\n');
    await expect(ctx.pipeline(bad, 'main', {}, 'broken kernel')).rejects.toThrow(/\n  shaders\/broken-kernel.wgsl:3:\d+ /);
    expect(sourceLine(bad, 1)).toEqual({ file: 'shaders/common.wgsl', line: 1 });
    expect(sourceLine(bad, bad.parts![0].lines + 2)).toEqual({ file: 'shaders/broken-kernel.wgsl', line: 2 });
    const { entryLayout } = await import('../src/runtime/reflect');
    const garbled = shaderOf('shaders/garbled-kernel.wgsl', '@compute @workgroup_size(1)\nfn main( {');
    expect(() => entryLayout(garbled, 'main')).toThrow(/cannot be reflected .* at shaders\/garbled-kernel.wgsl:2/);
  });
  it('a shader that cannot be reflected is a GpuError naming the file', async () => {
    const { entryLayout } = await import('../src/runtime/reflect');
    expect(() => entryLayout({ file: 'shaders/garbled.wgsl', code: 'fn main( {' }, 'main')).toThrow(/shaders\/garbled.wgsl: the shader cannot be reflected/);
  });
  it('a null adapter fails Runtime.create loudly', async () => {
    const gpuWithoutAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(Runtime.create({ gpu: gpuWithoutAdapter })).rejects.toThrow(/requestAdapter\(\) returned null/);
  });
  it('with recover: false, a lost device makes every later call throw DeviceLostError', async () => {
    const rt = await Runtime.create({ recover: false });
    const exe = await rt.compile(smallGraph());
    rt.device!.destroy();
    await rt.device!.lost;
    await expect(rt.compile(smallGraph())).rejects.toBeInstanceOf(DeviceLostError);
    await expect(exe.run(goodFeeds())).rejects.toThrow(/run: the GPU device was lost/);
  });
});

describe('stats', () => {
  it('linear + bias + relu is one dispatch and one submit', async () => {
    const g = new Graph();
    g.output('y', g.relu(g.linear(g.input('x', [3, 8]), g.input('w', [5, 8]), g.input('b', [5]))));
    const exe = await gpu.compile(g);
    await exe.run({ x: new Float32Array(24), w: new Float32Array(40), b: new Float32Array(5) });
    expect(exe.stats).toMatchObject({ dispatches: 1, submits: 1 });
    exe.destroy();
  });
  it('a chain of ops reuses intermediate buffers by liveness', async () => {
    const g = new Graph();
    let x = g.input('x', [64, 64]);
    for (let i = 0; i < 6; i++) x = g.tanh(g.add(x, x));
    g.output('y', x);
    const exe = await gpu.compile(g);
    await exe.run({ x: new Float32Array(64 * 64) });
    expect(exe.stats.dispatches).toBe(12);
    expect(exe.stats.naiveBytes).toBe(12 * 64 * 64 * 4);
    // At most two intermediates are live at once, plus the output.
    expect(exe.stats.peakBytes).toBeLessThanOrEqual(3 * 64 * 64 * 4);
    expect(exe.stats.bytesAllocated).toBeGreaterThan(exe.stats.peakBytes);
    exe.destroy();
  });
});
