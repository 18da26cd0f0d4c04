// The benchmark cases and how one (case, impl) pair is checked and timed. One module for both places
// it runs: the Chromium bench page and the Node runner, so the protocol cannot drift between them.
// Protocol: the CPU reference runs once per case; every impl's output is checked against it before
// any timing; then warm-up, then runs until the time budget (at least 3), wall time per exe.run(feeds)
// (inputs written, outputs read back); GPU time from a second executable compiled with timestamps.
import { Graph, Runtime, type CompileOptions, type Executable, type Feeds } from '../src/index';
import { median, type Roofline } from './roofline';

export const IMPLS = ['seqgpu', 'seqgpu:naive', 'seqgpu:tiled', 'seqgpu:tiled-vec4', 'cpu-reference'] as const;
export type Impl = (typeof IMPLS)[number];

/** One row of the JSON report (DESIGN.md, "Benchmark output"); null where not measured. */
export interface BenchRow {
  suite: string;
  name: string;
  shape: string;
  impl: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
  timing: 'gpu-timestamp' | 'wall-minus-roundtrip' | 'wall';
  gflops: number | null;
  gbps: number | null;
  pctRoof: number | null;
  maxAbsErr: number | null;
  dispatches: number | null;
  submits: number | null;
}

export interface BenchResult {
  row: BenchRow;
  /** Kernel steps with their variants, as the executor labels them. */
  steps: string[];
  /** What the runner did beyond the plain protocol (e.g. a capped CPU run). */
  note: string;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

export interface BenchCase {
  suite: 'matmul' | 'softmax';
  name: string;
  shape: string;
  impls: Impl[];
  /** Part of a --quick run. */
  quick: boolean;
  /** 2 M N K for matmul; 0 where the op is not counted in flops. */
  flops: number;
  /** The byte model: matmul reads A and B and writes C once; softmax reads x twice and writes y once. */
  bytes: number;
  tol: Tolerance;
  build: () => { graph: Graph; feeds: Feeds };
}

export interface TimingOptions {
  /** Wall-time budget per (case, impl) in ms; at least 3 runs whatever it says. */
  budgetMs: number;
  /** The roofline measured earlier in this run (pctRoof, and the round trip for wall-minus-roundtrip). */
  roofline: Roofline;
  /** cpu-reference: fewer than 3 runs when 3 would take longer than this (the run count says so). */
  cpuMaxMs: number;
}

/** A seeded xorshift32 stream of floats in [-scale, scale): the page and Node get the same feeds. */
export function uniform(n: number, seed: number, scale = 1): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

// f32 sums of K products of values in [-1, 1]: the error grows between sqrt(K) u and K u; 4e-7 K is
// far below what an indexing bug gives (the model test/cases.ts states for the parity cases).
const matmulTol = (k: number): Tolerance => ({ atol: 4e-7 * k + 1e-7, rtol: 1e-5 });
// WGSL exp is good to a few ulp; the row sums are of positive terms.
const softmaxTol: Tolerance = { atol: 1e-6, rtol: 1e-4 };

const MATMUL_SIZES = [128, 256, 384, 512];
const QUICK_MATMUL = [128, 256];
const SOFTMAX_SHAPES: [number, number][] = [[64, 1024], [256, 4096], [1024, 1024]];

function matmulCase(n: number): BenchCase {
  const impls: Impl[] = ['seqgpu', 'seqgpu:naive', 'seqgpu:tiled', 'seqgpu:tiled-vec4', 'cpu-reference'];
  return {
    suite: 'matmul', name: `matmul-${n}`, shape: `${n}x${n}x${n}`, impls,
    quick: QUICK_MATMUL.includes(n),
    flops: 2 * n * n * n,
    bytes: 4 * 3 * n * n,
    tol: matmulTol(n),
    build: () => {
      const g = new Graph();
      const a = g.input('a', [n, n]), b = g.input('b', [n, n]);
      g.output('y', g.matmul(a, b));
      return { graph: g, feeds: { a: uniform(n * n, n), b: uniform(n * n, n + 1) } };
    },
  };
}

function softmaxCase(rows: number, len: number): BenchCase {
  return {
    suite: 'softmax', name: `softmax-${rows}x${len}`, shape: `${rows}x${len}`, impls: ['seqgpu', 'cpu-reference'],
    quick: rows === 64 && len === 1024,
    flops: 0,
    bytes: 4 * 3 * rows * len,
    tol: softmaxTol,
    build: () => {
      const g = new Graph();
      g.output('y', g.softmax(g.input('x', [rows, len]), -1));
      return { graph: g, feeds: { x: uniform(rows * len, rows * 7 + len, 6) } };
    },
  };
}

export function benchCases(): BenchCase[] {
  return [...MATMUL_SIZES.map(matmulCase), ...SOFTMAX_SHAPES.map(([r, c]) => softmaxCase(r, c))];
}

/** The text --filter matches against: `suite name shape impl`. */
export const runKey = (c: BenchCase, impl: Impl): string => `${c.suite} ${c.name} ${c.shape} ${impl}`;

export function selectRuns(cases: BenchCase[], opts: { quick: boolean; filter?: string }): { c: BenchCase; impl: Impl }[] {
  const out: { c: BenchCase; impl: Impl }[] = [];
  for (const c of cases) {
    if (opts.quick && !c.quick) continue;
    for (const impl of c.impls) if (!opts.filter || runKey(c, impl).includes(opts.filter)) out.push({ c, impl });
  }
  return out;
}

/** Runs `fn` until `budgetMs` has passed and at least `minRuns` times; returns ms per run. */
async function timeRuns(fn: () => Promise<unknown>, budgetMs: number, minRuns: number, maxRuns = 2000): Promise<number[]> {
  const ms: number[] = [];
  const start = performance.now();
  while (ms.length < minRuns || (performance.now() - start < budgetMs && ms.length < maxRuns)) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** Max |got - want| over every output; throws, naming the first mismatches, if any exceeds the tolerance. */
export function checkOutputs(what: string, got: Record<string, Float32Array>, want: Record<string, Float32Array>, tol: Tolerance): number {
  let maxAbsErr = 0, bad = 0;
  const lines: string[] = [];
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    if (!g || g.length !== w.length) throw new Error(`${what}: output '${name}' has ${g?.length ?? 'no'} values, want ${w.length}`);
    for (let i = 0; i < w.length; i++) {
      const err = Math.abs(g[i] - w[i]);
      if (!(err <= tol.atol + tol.rtol * Math.abs(w[i]))) {
        if (++bad <= 10) lines.push(`  ${name}[${i}]: got ${g[i]} ref ${w[i]} |err| ${err}`);
      }
      if (!Number.isNaN(err)) maxAbsErr = Math.max(maxAbsErr, err);
    }
  }
  if (bad) {
    throw new Error(`${what}: parity failed before timing: ${bad} values beyond atol ${tol.atol} rtol ${tol.rtol}, ` +
      `max |err| ${maxAbsErr}\n${lines.join('\n')}`);
  }
  return maxAbsErr;
}

function compileOptions(impl: Impl): CompileOptions {
  const variant = impl.startsWith('seqgpu:') ? impl.slice('seqgpu:'.length) : undefined;
  return variant ? { variants: { matmul: variant } } : {};
}

/** Holds one runtime and the CPU reference of the case last asked for (computed once per case). */
export class BenchRunner {
  private readonly cases = new Map(benchCases().map((c) => [c.name, c]));
  private ref?: { name: string; feeds: Feeds; want: Record<string, Float32Array>; ms: number };

  constructor(private readonly rt: Runtime) {}

  async run(name: string, impl: Impl, opts: TimingOptions): Promise<BenchResult> {
    const c = this.cases.get(name);
    if (!c) throw new Error(`bench: no case '${name}'`);
    if (!c.impls.includes(impl)) throw new Error(`bench: case '${name}' has no impl '${impl}'`);
    const { graph, feeds } = c.build();
    if (this.ref?.name !== name) {
      const cpu = await Runtime.cpu().compile(graph);
      const t0 = performance.now();
      const want = await cpu.run(feeds);
      this.ref = { name, feeds, want, ms: performance.now() - t0 };
      cpu.destroy();
    }
    return impl === 'cpu-reference' ? this.runCpu_(c, opts) : this.runGpu_(c, impl, graph, opts);
  }

  private async runGpu_(c: BenchCase, impl: Impl, graph: Graph, opts: TimingOptions): Promise<BenchResult> {
    const { feeds, want } = this.ref!;
    const device = this.rt.device;
    if (!device) throw new Error(`bench: ${impl} needs a GPU runtime, got ${this.rt.info.backend}`);
    const options = compileOptions(impl);
    const exes: Executable[] = [];
    try {
      const exe = await this.rt.compile(graph, options);
      exes.push(exe);
      const timed = device.features.has('timestamp-query') ? await this.rt.compile(graph, { ...options, timestamps: true }) : null;
      if (timed) exes.push(timed);
      const what = `${c.name} ${impl}`;
      const maxAbsErr = checkOutputs(what, await exe.run(feeds), want, c.tol);
      if (timed) checkOutputs(`${what} (timestamps)`, await timed.run(feeds), want, c.tol);
      await exe.run(feeds); // warm-up beyond the checked run
      const wall = await timeRuns(() => exe.run(feeds), opts.budgetMs, 3);
      const gpu: number[] = [];
      if (timed) {
        await timeRuns(async () => {
          await timed.run(feeds);
          if (timed.stats.gpuMs !== null) gpu.push(timed.stats.gpuMs);
        }, opts.budgetMs / 2, 3);
      }
      const wallMed = median(wall);
      const gpuTimed = gpu.length > 0 && gpu.every((x) => x > 0);
      const kernelMs = gpuTimed ? median(gpu) : Math.max(wallMed - opts.roofline.roundTripMs, 1e-3);
      const gflops = c.flops ? c.flops / kernelMs / 1e6 : null;
      const gbps = c.bytes / kernelMs / 1e6;
      const pctRoof = c.suite === 'matmul' ? (gflops! / opts.roofline.fmaGflops) * 100 : (gbps / opts.roofline.copyGbps) * 100;
      const steps = 'steps' in exe ? (exe as { steps: string[] }).steps : [];
      return {
        row: {
          suite: c.suite, name: c.name, shape: c.shape, impl,
          medianMs: wallMed, minMs: Math.min(...wall), maxMs: Math.max(...wall), runs: wall.length,
          timing: gpuTimed ? 'gpu-timestamp' : 'wall-minus-roundtrip',
          gflops, gbps, pctRoof, maxAbsErr,
          dispatches: exe.stats.dispatches, submits: exe.stats.submits,
        },
        steps,
        note: gpuTimed ? `gpu ${median(gpu).toFixed(3)} ms (median of ${gpu.length})` : 'no timestamps: wall less the round trip',
      };
    } finally {
      for (const e of exes) e.destroy();
    }
  }

  private async runCpu_(c: BenchCase, opts: TimingOptions): Promise<BenchResult> {
    const { feeds, want, ms: refMs } = this.ref!;
    const exe = await Runtime.cpu().compile(c.build().graph);
    // The reference run above was this impl's warm-up; a slow case gets fewer than 3 runs.
    const minRuns = Math.max(1, Math.min(3, Math.floor(opts.cpuMaxMs / Math.max(refMs, 1e-3))));
    let last: Record<string, Float32Array> = {};
    const wall = await timeRuns(async () => {
      last = await exe.run(feeds);
    }, Math.min(opts.budgetMs, opts.cpuMaxMs), minRuns);
    exe.destroy();
    const maxAbsErr = checkOutputs(`${c.name} cpu-reference`, last, want, { atol: 0, rtol: 0 });
    const wallMed = median(wall);
    return {
      row: {
        suite: c.suite, name: c.name, shape: c.shape, impl: 'cpu-reference',
        medianMs: wallMed, minMs: Math.min(...wall), maxMs: Math.max(...wall), runs: wall.length,
        timing: 'wall',
        gflops: c.flops ? c.flops / wallMed / 1e6 : null,
        gbps: c.bytes / wallMed / 1e6,
        pctRoof: null, maxAbsErr, dispatches: null, submits: null,
      },
      steps: ['float64 reference interpreter'],
      note: minRuns < 3 ? `capped: one run took ${refMs.toFixed(0)} ms, cpu cap ${opts.cpuMaxMs} ms` : '',
    };
  }
}
