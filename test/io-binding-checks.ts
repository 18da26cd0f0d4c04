// IO binding checks, shared by Node (test/io-binding.test.ts) and Chromium (test/browser/
// io-binding-page.ts): feeds as GPU buffers the check writes itself, outputs kept on the GPU and
// read with the check's own copy, two executables chained through GPU buffers with nothing read back
// between, the caller's output buffers, and every misuse: a wrong size, a missing usage flag, a
// destroyed buffer, another device's buffer, a range-checked input, the CPU runtime. Plain asserts.
import { GpuError, GpuOutput, Graph, InputError, Runtime } from '../src/index';
import { liveBuffers } from '../src/testing';
import { eq, rejects } from './defect-checks';

const USAGE_IN = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

function upload(device: GPUDevice, data: Float32Array | Int32Array, usage = USAGE_IN()): GPUBuffer {
  const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage });
  device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
  return b;
}

/** The check's own readback: copy `bytes` of `src` into a mapped buffer. */
async function readBack(device: GPUDevice, src: GPUBuffer, bytes: number): Promise<Float32Array> {
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}

/** y = relu(x * w): x fed, w a constant. */
function scaleGraph(n: number): Graph {
  const g = new Graph();
  const w = g.constant(Float32Array.from({ length: n }, (_, i) => (i % 3) - 1), [n]);
  g.output('y', g.relu(g.mul(g.input('x', [n]), w)));
  return g;
}

const xs = (n: number) => Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);

export const IO_CHECKS: Record<string, (rt: Runtime, fresh: () => Promise<Runtime>) => Promise<void>> = {
  async 'a GPU buffer feed, and an output kept on the GPU and read with our own copy'(rt) {
    const device = rt.device!;
    const n = 7;
    const exe = await rt.compile(scaleGraph(n));
    const want = (await (await Runtime.cpu().compile(scaleGraph(n))).run({ x: xs(n) })).y;
    const x = upload(device, xs(n));
    const r = await exe.run({ x }, { keepOnGpu: ['y'] });
    const y = r.y;
    if (!(y instanceof GpuOutput)) throw new Error('keepOnGpu: y is not a GpuOutput');
    eq(y.shape, [n], 'kept shape');
    if (y.dtype !== 'f32' || y.byteLength !== 4 * n) throw new Error(`kept y: ${y.dtype}, ${y.byteLength} bytes`);
    if (!(y.buffer.usage & GPUBufferUsage.COPY_SRC)) throw new Error('a kept buffer must be copyable');
    eq(await readBack(device, y.buffer, 4 * n), want, 'kept y');
    eq([exe.stats.readbackBytes], [0], 'bytes read back with y kept');
    // The default still reads back Float32Arrays.
    const plain = await exe.run({ x: xs(n) });
    eq(plain.y, want, 'plain run');
    eq([exe.stats.readbackBytes], [4 * n], 'bytes read back');
    exe.destroy();
    x.destroy();
  },

  async 'two executables chained through GPU buffers, nothing read back between'(rt) {
    const device = rt.device!;
    const n = 13;
    const a = await rt.compile(scaleGraph(n));
    const g = new Graph();
    g.output('z', g.add(g.input('y', [n]), g.input('b', [n])));
    const b = await rt.compile(g);
    const cpuA = await Runtime.cpu().compile(scaleGraph(n));
    const cpuB = await Runtime.cpu().compile(g);
    const bias = Float32Array.from({ length: n }, (_, i) => i);
    const want = (await cpuB.run({ y: (await cpuA.run({ x: xs(n) })).y, b: bias })).z;
    const first = await a.run({ x: xs(n) }, { keepOnGpu: ['y'] });
    eq([a.stats.readbackBytes], [0], 'first executable read back');
    const y = first.y as GpuOutput;
    const second = await b.run({ y: y.buffer, b: bias });
    eq(second.z as Float32Array, want, 'chained result');
    // And into a buffer of ours, then fed on again.
    const mine = device.createBuffer({ size: 4 * n, usage: USAGE_IN() });
    const third = await b.run({ y: y.buffer, b: bias }, { outputBuffers: { z: mine } });
    if ((third.z as GpuOutput).buffer !== mine) throw new Error('outputBuffers: z is not in the given buffer');
    eq(await readBack(device, mine, 4 * n), want, 'z in our buffer');
    a.destroy();
    b.destroy();
    // The engine never destroys a caller's buffer: ours is still usable.
    eq(await readBack(device, mine, 4 * n), want, 'our buffer after destroy');
    mine.destroy();
  },

  async 'an i32 feed and a bool output through GPU buffers'(rt) {
    const device = rt.device!;
    const g = new Graph();
    const ids = g.input('ids', [5], 'i32');
    g.output('big', g.gt(ids, g.constant(new Int32Array([2]), [1])));
    const exe = await rt.compile(g);
    const r = await exe.run({ ids: upload(device, new Int32Array([0, 3, 2, 9, -1])) }, { keepOnGpu: ['big'] });
    const big = r.big as GpuOutput;
    if (big.dtype !== 'bool' || big.byteLength !== 20) throw new Error(`bool output: ${big.dtype}, ${big.byteLength} bytes`);
    eq(new Uint32Array((await readBack(device, big.buffer, 20)).buffer), [0, 1, 0, 1, 0], 'bool words');
    exe.destroy();
  },

  async 'misuse: wrong size, missing usage, unknown names, range-checked inputs'(rt) {
    const device = rt.device!;
    const exe = await rt.compile(scaleGraph(9));
    const small = upload(device, new Float32Array(4));
    await rejects(() => exe.run({ x: small }), InputError, /input 'x' \(f32 \[9\], 36 bytes\): its GPUBuffer holds 16 bytes/, 'too small');
    const noCopy = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE });
    await rejects(() => exe.run({ x: noCopy }), InputError, /input 'x'.*lacks GPUBufferUsage.COPY_SRC/, 'no COPY_SRC');
    const noDst = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    await rejects(() => exe.run({ x: xs(9) }, { outputBuffers: { y: noDst } }), InputError, /output 'y'.*lacks GPUBufferUsage.COPY_DST/, 'no COPY_DST');
    await rejects(() => exe.run({ x: xs(9) }, { outputBuffers: { y: small } }), InputError, /output 'y' \(f32 \[9\], 36 bytes\): its GPUBuffer holds 16 bytes/, 'small output');
    await rejects(() => exe.run({ x: xs(9) }, { keepOnGpu: ['nope'] }), InputError, /keepOnGpu names unknown output 'nope'/, 'unknown output');
    const g = new Graph();
    g.output('e', g.embedding(g.input('ids', [2], 'i32'), g.input('w', [4, 3])));
    const emb = await rt.compile(g);
    await rejects(() => emb.run({ ids: upload(device, new Int32Array([1, 2])), w: new Float32Array(12) }), InputError,
      /input 'ids' \(i32 \[2\], 8 bytes\) is range-checked on the host/, 'range-checked input');
    // Nothing ran: the executables still work.
    eq((await exe.run({ x: xs(9) })).y.length === 9 ? [1] : [0], [1], 'after refusals');
    for (const b of [small, noCopy, noDst]) b.destroy();
    exe.destroy();
    emb.destroy();
  },

  async 'a destroyed buffer and another device\'s buffer fail validation, naming the bound inputs'(rt, fresh) {
    const device = rt.device!;
    const exe = await rt.compile(scaleGraph(5));
    const gone = upload(device, xs(5));
    gone.destroy();
    await rejects(() => exe.run({ x: gone }), GpuError, /bound GPU buffers of the caller's: input 'x'; a buffer already destroyed/, 'destroyed');
    const other = await fresh();
    const foreign = upload(other.device!, xs(5));
    await rejects(() => exe.run({ x: foreign }), GpuError, /input 'x'.*another device/, 'another device');
    // The executable is fine afterwards.
    const want = (await (await Runtime.cpu().compile(scaleGraph(5))).run({ x: xs(5) })).y;
    eq((await exe.run({ x: xs(5) })).y, want, 'after the failed runs');
    foreign.destroy();
    other.destroy();
    exe.destroy();
  },

  async 'the CPU runtime refuses GPU buffers and keepOnGpu'(rt) {
    const cpu = await Runtime.cpu().compile(scaleGraph(3));
    const b = upload(rt.device!, xs(3));
    await rejects(() => cpu.run({ x: b }), InputError, /input 'x' is a GPUBuffer; the CPU runtime/, 'CPU GPU feed');
    await rejects(() => cpu.run({ x: xs(3) }, { keepOnGpu: ['y'] }), InputError, /keepOnGpu and outputBuffers need a GPU runtime/, 'CPU keepOnGpu');
    b.destroy();
  },

  async 'kept buffers are the executable\'s: destroy frees them'(rt) {
    const before = liveBuffers(rt);
    const exe = await rt.compile(scaleGraph(6));
    await exe.run({ x: xs(6) }, { keepOnGpu: ['y'] });
    await exe.run({ x: xs(6) }, { keepOnGpu: ['y'] });
    exe.destroy();
    eq([liveBuffers(rt)], [before], 'live buffers after destroy');
  },
};
