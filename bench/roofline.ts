// The roofline of the adapter, measured in the same run as the benchmark rows: peak fma rate, copy
// bandwidth, the cost of an empty dispatch, of a submit + readback round trip, and of a round trip
// whose dispatch does a little work. Plans
// shaders/roofline.wgsl on a raw GPUDevice (rt.device); shared by the Chromium page and the Node runner.
import code from '../shaders/roofline.wgsl?raw';
import { namedEntries } from '../src/runtime/reflect';

const FILE = 'shaders/roofline.wgsl';
const SHADER = { file: FILE, code };

/** The figures, as the JSON report carries them. */
export interface Roofline {
  fmaGflops: number;
  copyGbps: number;
  dispatchUs: number;
  roundTripMs: number;
  /**
   * Submit and wait for one short dispatch (64 threads of fma chains, microseconds of work): the
   * least a run that does any work waits here. On Chromium + SwiftShader it is ~2 ms against a
   * 0.2 ms empty round trip: completion of unfinished work is noticed on a polling tick.
   */
  busyRoundTripMs: number;
}

export interface RooflineResult {
  roofline: Roofline;
  /** 'gpu-timestamp': pass time from timestamp queries; 'wall': submit-to-done wall time less the round trip. */
  timing: 'gpu-timestamp' | 'wall';
  /** How each figure was taken (sizes, repeats), for the log. */
  detail: string;
}

export interface RooflineKernels {
  device: GPUDevice;
  wg: number;
  fma: GPUComputePipeline;
  copy: GPUComputePipeline;
  empty: GPUComputePipeline;
}

/** Builds the three pipelines; a compile error names shaders/roofline.wgsl:line:col. */
export async function createRooflineKernels(device: GPUDevice, wg = 64): Promise<RooflineKernels> {
  const module = device.createShaderModule({ label: FILE, code });
  const build = async (entry: string, constants: Record<string, number>) => {
    device.pushErrorScope('validation');
    let pipeline: GPUComputePipeline | undefined;
    let thrown: unknown;
    try {
      pipeline = await device.createComputePipelineAsync({
        label: `roofline ${entry}`, layout: 'auto', compute: { module, entryPoint: entry, constants },
      });
    } catch (e) {
      thrown = e;
    }
    const invalid = await device.popErrorScope();
    if (thrown || invalid || !pipeline) {
      const info = await module.getCompilationInfo();
      const where = info.messages.filter((m) => m.type === 'error').map((m) => `\n  ${FILE}:${m.lineNum}:${m.linePos} ${m.message}`);
      const msg = thrown instanceof Error ? thrown.message : invalid?.message ?? String(thrown);
      throw new Error(`roofline: pipeline ${FILE}:${entry} failed: ${msg}${where.join('')}`);
    }
    return pipeline;
  };
  const [fma, copy, empty] = await Promise.all([build('fma_peak', { WG: wg }), build('copy_vec4', { WG: wg }), build('empty', {})]);
  return { device, wg, fma, copy, empty };
}

/** Spreads `groups` workgroups over x and y (the shader rebuilds the flat index). */
function grid(device: GPUDevice, groups: number): [number, number] {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1];
  return [max, Math.ceil(groups / max)];
}

/** Copies `bytes` of a buffer (COPY_SRC) into a mappable one and returns them. */
export async function readBuffer(device: GPUDevice, buf: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ label: 'roofline readback', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buf, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return out;
}

/** One fma_peak launch: `threads` threads, each 8 vec4 chains of `iters` steps a = a * mul + add. */
export class FmaJob {
  readonly out: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly bind: GPUBindGroup;
  private readonly groups: [number, number];
  iters = 0;

  constructor(private readonly k: RooflineKernels, readonly threads: number) {
    const { device } = k;
    this.out = device.createBuffer({ label: 'roofline fma out', size: 4 * threads, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    this.params = device.createBuffer({ label: 'roofline fma params', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.bind = device.createBindGroup({
      label: 'roofline fma', layout: k.fma.getBindGroupLayout(0),
      entries: namedEntries(SHADER, 'fma_peak', { fp: this.params, fmaOut: this.out }),
    });
    this.groups = grid(device, Math.ceil(threads / k.wg));
  }

  /** Flops of one launch: 8 chains x 4 lanes x 2 flops per fma. */
  get flops(): number {
    return this.threads * this.iters * 64;
  }

  setParams(iters: number, mul: number, add: number): void {
    this.iters = iters;
    const p = new ArrayBuffer(16);
    new Uint32Array(p, 0, 1)[0] = iters;
    new Float32Array(p, 4, 2).set([mul, add]);
    this.k.device.queue.writeBuffer(this.params, 0, p);
  }

  encode(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.k.fma);
    pass.setBindGroup(0, this.bind);
    pass.dispatchWorkgroups(...this.groups);
  }

  async read(): Promise<Float32Array> {
    return new Float32Array(await readBuffer(this.k.device, this.out, 4 * this.threads));
  }

  destroy(): void {
    this.out.destroy();
    this.params.destroy();
  }
}

/** One copy_vec4 launch over two buffers of `bytes` (a multiple of 16). */
export class CopyJob {
  readonly src: GPUBuffer;
  readonly dst: GPUBuffer;
  private readonly bind: GPUBindGroup;
  private readonly groups: [number, number];

  constructor(private readonly k: RooflineKernels, readonly bytes: number) {
    const { device } = k;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.src = device.createBuffer({ label: 'roofline copy src', size: bytes, usage });
    this.dst = device.createBuffer({ label: 'roofline copy dst', size: bytes, usage });
    this.bind = device.createBindGroup({
      label: 'roofline copy', layout: k.copy.getBindGroupLayout(0),
      entries: namedEntries(SHADER, 'copy_vec4', { src: this.src, dst: this.dst }),
    });
    this.groups = grid(device, Math.ceil(bytes / 16 / k.wg));
  }

  encode(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.k.copy);
    pass.setBindGroup(0, this.bind);
    pass.dispatchWorkgroups(...this.groups);
  }

  destroy(): void {
    this.src.destroy();
    this.dst.destroy();
  }
}

/**
 * Times one compute pass: from timestamp queries where the device has them, else wall time from
 * submit to onSubmittedWorkDone (which includes one round trip; the caller subtracts it).
 */
export class PassTimer {
  readonly timestamps: boolean;
  private query?: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer };

  constructor(private readonly device: GPUDevice, useTimestamps = true) {
    this.timestamps = useTimestamps && device.features.has('timestamp-query');
    if (this.timestamps) {
      this.query = {
        set: device.createQuerySet({ label: 'roofline pass time', type: 'timestamp', count: 2 }),
        resolve: device.createBuffer({ label: 'roofline timestamps', size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
        read: device.createBuffer({ label: 'roofline timestamps readback', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      };
    }
  }

  async time(encode: (pass: GPUComputePassEncoder) => void): Promise<number> {
    const { device, query } = this;
    const enc = device.createCommandEncoder({ label: 'roofline' });
    const pass = enc.beginComputePass({
      label: 'roofline pass',
      timestampWrites: query ? { querySet: query.set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } : undefined,
    });
    encode(pass);
    pass.end();
    if (query) {
      enc.resolveQuerySet(query.set, 0, 2, query.resolve, 0);
      enc.copyBufferToBuffer(query.resolve, 0, query.read, 0, 16);
    }
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    if (!query) {
      await device.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    }
    await query.read.mapAsync(GPUMapMode.READ);
    const t = new BigInt64Array(query.read.getMappedRange());
    const ms = Number(t[1] - t[0]) / 1e6;
    query.read.unmap();
    return ms;
  }

  destroy(): void {
    this.query?.set.destroy();
    this.query?.resolve.destroy();
    this.query?.read.destroy();
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

async function medianOf(n: number, f: () => Promise<number>): Promise<number> {
  await f(); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await f());
  return median(xs);
}

/** A short dispatch, submitted and waited for (wall time): the floor of a run that does some work. */
export class BusyRoundTrip {
  private readonly job: FmaJob;
  private readonly timer: PassTimer;

  constructor(k: RooflineKernels) {
    this.job = new FmaJob(k, 64);
    this.job.setParams(16, 0.999, 0.001);
    this.timer = new PassTimer(k.device, false);
  }

  time(): Promise<number> {
    return this.timer.time((pass) => this.job.encode(pass));
  }

  destroy(): void {
    this.job.destroy();
    this.timer.destroy();
  }
}

/** Submit + wait for a 16-byte readback: the fixed cost every run with outputs pays. */
export async function measureRoundTrip(device: GPUDevice, n = 20): Promise<number> {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
  const src = device.createBuffer({ label: 'roofline round trip', size: 16, usage });
  const read = device.createBuffer({ label: 'roofline round trip readback', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const once = async () => {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, read, 0, 16);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    read.unmap();
    return performance.now() - t0;
  };
  const ms = await medianOf(n, once);
  src.destroy();
  read.destroy();
  return ms;
}

export interface RooflineOptions {
  /** Bytes of each copy buffer (default 64 MiB, less if the device's limits say so). */
  copyBytes?: number;
  /** Threads of the fma kernel (default 262144). */
  fmaThreads?: number;
  /** A launch is repeated (fma: more iterations; copy: more copies per pass) until it takes this long. */
  minMs?: number;
  repeats?: number;
  timestamps?: boolean;
}

/** Measures the four figures on `device`. */
export async function measureRoofline(device: GPUDevice, opts: RooflineOptions = {}): Promise<RooflineResult> {
  const minMs = opts.minMs ?? 40;
  const repeats = opts.repeats ?? 5;
  const k = await createRooflineKernels(device);
  const timer = new PassTimer(device, opts.timestamps ?? true);
  const roundTripMs = await measureRoundTrip(device);
  const busy = new BusyRoundTrip(k);
  const busyRoundTripMs = await medianOf(repeats * 2, () => busy.time());
  busy.destroy();
  // Wall time holds one round trip beside the work; GPU timestamps hold only the work.
  const work = (ms: number) => (timer.timestamps ? ms : Math.max(ms - roundTripMs, 1e-3));

  const DISPATCHES = 200;
  const dispatchMs = work(await medianOf(repeats, () => timer.time((pass) => {
    pass.setPipeline(k.empty);
    for (let i = 0; i < DISPATCHES; i++) pass.dispatchWorkgroups(1);
  })));

  const fma = new FmaJob(k, opts.fmaThreads ?? 4096 * 64);
  let iters = 16, fmaMs = 0;
  for (;;) {
    fma.setParams(iters, 0.999, 0.001); // a fixed point at 1: values stay finite and normal
    fmaMs = work(await timer.time((pass) => fma.encode(pass)));
    if (fmaMs >= minMs || iters >= 1 << 20) break;
    iters *= Math.min(16, Math.max(2, 2 ** Math.ceil(Math.log2(minMs / Math.max(fmaMs, 1e-3)))));
  }
  fmaMs = work(await medianOf(repeats, () => timer.time((pass) => fma.encode(pass))));
  const fmaGflops = fma.flops / fmaMs / 1e6;
  fma.destroy();

  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const copyBytes = Math.min(opts.copyBytes ?? 64 << 20, Math.floor(limit / 16) * 16);
  const copy = new CopyJob(k, copyBytes);
  let reps = 1, copyMs = 0;
  const copies = (pass: GPUComputePassEncoder) => {
    for (let i = 0; i < reps; i++) copy.encode(pass);
  };
  for (;;) {
    copyMs = work(await timer.time(copies));
    if (copyMs >= minMs / 2 || reps >= 64) break;
    reps *= 2;
  }
  copyMs = work(await medianOf(repeats, () => timer.time(copies)));
  const copyGbps = (2 * copyBytes * reps) / copyMs / 1e6;
  copy.destroy();
  timer.destroy();

  const mib = (copyBytes / 2 ** 20).toFixed(0);
  return {
    roofline: { fmaGflops, copyGbps, dispatchUs: (dispatchMs * 1000) / DISPATCHES, roundTripMs, busyRoundTripMs },
    timing: timer.timestamps ? 'gpu-timestamp' : 'wall',
    detail: `fma ${fma.threads} threads x ${iters} iters; copy ${mib} MiB x ${reps} per pass; ` +
      `${DISPATCHES} empty dispatches per pass; busy round trip: 64 threads x 16 iters; medians of ${repeats}`,
  };
}
