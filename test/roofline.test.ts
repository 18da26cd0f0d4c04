// shaders/roofline.wgsl on Dawn in Node: the three entry points compile, copy_vec4 copies, and
// fma_peak gives the value its chains must reach, so the bench's roofline rests on working kernels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../src/node';
import { BusyRoundTrip, CopyJob, FmaJob, PassTimer, createRooflineKernels, measureRoundTrip, readBuffer, type RooflineKernels } from '../bench/roofline';

let rt: Runtime;
let device: GPUDevice;
let k: RooflineKernels;

beforeAll(async () => {
  rt = await Runtime.create();
  device = rt.device!;
  k = await createRooflineKernels(device, 32);
});
afterAll(() => rt?.destroy());

/** Runs one pass with `encode` and waits for it. */
async function runPass(encode: (pass: GPUComputePassEncoder) => void): Promise<number> {
  const timer = new PassTimer(device);
  const ms = await timer.time(encode);
  timer.destroy();
  return ms;
}

describe('shaders/roofline.wgsl', () => {
  it('compiles fma_peak, copy_vec4 and empty', () => {
    expect(k.fma).toBeDefined();
    expect(k.copy).toBeDefined();
    expect(k.empty).toBeDefined();
  });

  it('copy_vec4 copies every element', async () => {
    const n = 1000; // vec4s: not a multiple of the workgroup, so the bounds check matters
    const job = new CopyJob(k, 16 * n);
    const data = Float32Array.from({ length: 4 * n }, (_, i) => i * 0.5 - 7);
    device.queue.writeBuffer(job.dst, 0, new Float32Array(4 * n).fill(-1));
    device.queue.writeBuffer(job.src, 0, data);
    await runPass((pass) => job.encode(pass));
    const got = new Float32Array(await readBuffer(device, job.dst, 16 * n));
    expect(Array.from(got)).toEqual(Array.from(data));
    job.destroy();
  });

  it('copy_vec4 copies every element over a grid folded into y', async () => {
    const n = device.limits.maxComputeWorkgroupsPerDimension * k.wg + 300; // one row of workgroups and a bit
    const job = new CopyJob(k, 16 * n);
    const data = Uint32Array.from({ length: 4 * n }, (_, i) => i);
    device.queue.writeBuffer(job.src, 0, data);
    await runPass((pass) => job.encode(pass));
    const got = new Uint32Array(await readBuffer(device, job.dst, 16 * n));
    let bad = 0;
    for (let i = 0; i < got.length; i++) if (got[i] !== i) bad++;
    expect(bad).toBe(0);
    job.destroy();
  });

  it('fma_peak reaches the chains\' closed form', async () => {
    const threads = 100;
    const job = new FmaJob(k, threads);
    // a = a * 1 + 1 for N steps: chain k lane l ends at k + l + N; summed over 8 chains x 4 lanes,
    // 32 N + 4 (0 + ... + 7) + 8 (0 + 1 + 2 + 3) = 32 N + 160. Small integers: exact in f32.
    job.setParams(37, 1, 1);
    await runPass((pass) => job.encode(pass));
    expect(Array.from(await job.read())).toEqual(new Array(threads).fill(32 * 37 + 160));
    // a = a * 2 + 0 for 5 steps multiplies everything by 32: (4 * 28 + 8 * 6) * 32.
    job.setParams(5, 2, 0);
    await runPass((pass) => job.encode(pass));
    expect(Array.from(await job.read())).toEqual(new Array(threads).fill(160 * 32));
    expect(job.flops).toBe(threads * 5 * 64);
    job.destroy();
  });

  it('empty dispatches and the round trip run', async () => {
    const ms = await runPass((pass) => {
      pass.setPipeline(k.empty);
      for (let i = 0; i < 10; i++) pass.dispatchWorkgroups(1);
    });
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(await measureRoundTrip(device, 3)).toBeGreaterThan(0);
    const busy = new BusyRoundTrip(k);
    expect(await busy.time()).toBeGreaterThan(0);
    busy.destroy();
  });
});
