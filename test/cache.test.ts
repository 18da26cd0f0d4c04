// The shader-module, reflection and pipeline caches are keyed by content, not by file name: two
// kernels under one name each run their own code, and the same code under two names shares one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../src/node';
import { GpuContext } from '../src/runtime/gpu';
import { entryLayout, namedEntries } from '../src/runtime/reflect';
import { hashText } from '../src/runtime/hash';

let rt: Runtime;
beforeAll(async () => {
  rt = await Runtime.create();
});
afterAll(() => rt?.destroy());

const kernel = (value: number) =>
  `@group(0) @binding(0) var<storage, read_write> out_${value}: array<f32>;\n` +
  `@compute @workgroup_size(1) fn main() { out_${value}[0] = ${value}.0; }\n`;

async function runOne(ctx: GpuContext, shader: { file: string; code: string }): Promise<number> {
  const device = rt.device!;
  const { pipeline, layout } = await ctx.pipeline(shader, 'main', {}, 'cache test');
  const buf = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  const name = entryLayout(shader, 'main').bindings[0].name;
  pass.setBindGroup(0, device.createBindGroup({ layout, entries: namedEntries(shader, 'main', { [name]: buf }) }));
  pass.dispatchWorkgroups(1);
  pass.end();
  enc.copyBufferToBuffer(buf, 0, read, 0, 16);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const v = new Float32Array(read.getMappedRange())[0];
  read.unmap();
  buf.destroy();
  read.destroy();
  return v;
}

describe('content-keyed caches', () => {
  it('two kernels under one file name each run their own code', async () => {
    const ctx = new GpuContext(rt.device!);
    const a = { file: 'shaders/same.wgsl', code: kernel(1) };
    const b = { file: 'shaders/same.wgsl', code: kernel(2) };
    expect(await runOne(ctx, a)).toBe(1);
    expect(await runOne(ctx, b)).toBe(2);
    expect(entryLayout(a, 'main').bindings[0].name).toBe('out_1');
    expect(entryLayout(b, 'main').bindings[0].name).toBe('out_2');
  });
  it('the same code under two file names shares one pipeline', async () => {
    const ctx = new GpuContext(rt.device!);
    const p1 = await ctx.pipeline({ file: 'shaders/x.wgsl', code: kernel(3) }, 'main', {}, 'x');
    const p2 = await ctx.pipeline({ file: 'shaders/y.wgsl', code: kernel(3) }, 'main', {}, 'y');
    expect(p1).toBe(p2);
  });
  it('the hash tells apart texts that differ in one character or in length', () => {
    expect(hashText(kernel(1))).not.toBe(hashText(kernel(2)));
    expect(hashText('ab')).not.toBe(hashText('ba'));
    expect(hashText('')).not.toBe(hashText('\0'));
  });
});
