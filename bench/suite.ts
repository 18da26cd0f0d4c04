// How one (case, impl) pair is checked and timed. One module for both places it runs, the Chromium
// bench page and the Node runner, so the protocol cannot drift between them or between impls:
// the CPU reference runs once per case; each impl's output is checked against it before any timing
// (a wrong result is reported as wrong and never timed); then one warm-up run; then the impls that
// passed are timed in turns within the case's budget (timeInTurns, at least 3 runs each): wall time
// per run with inputs written and outputs read back. seqgpu also gets GPU time from a second
// executable compiled with timestamps; the peers, which expose none, get wall time less the
// measured round trip.
import { Runtime, type CompileOptions, type Executable, type Feeds, type Graph } from '../src/index';
import { BASELINE_IMPL, isPeer, type BenchCase, type Tolerance } from './cases';
import { PeerSkip, type CaseData, type Peer } from './peers/peer';
import { BusyRoundTrip, createRooflineKernels, median, type Roofline, type RooflineKernels } from './roofline';
import { profileSteps } from './recurrent-targets';

/** One row of the JSON report (schema in the README); null where not measured. */
export interface BenchRow {
  suite: string;
  name: string;
  shape: string;
  impl: string;
  medianMs: number | null;
  minMs: number | null;
  maxMs: number | null;
  runs: number;
  timing: 'gpu-timestamp' | 'wall-minus-roundtrip' | 'wall' | 'none';
  gflops: number | null;
  gbps: number | null;
  pctRoof: number | null;
  maxAbsErr: number | null;
  dispatches: number | null;
  submits: number | null;
  /** ok: checked and timed; wrong: failed the check (not timed); error: threw; skipped: the impl has no such op. */
  status: 'ok' | 'wrong' | 'error' | 'skipped';
  /** What ran (kernel steps and variants, the peer's API and node placement), or why it did not. */
  note: string;
  /** seqgpu with timestamps: the pass's GPU time (median), and the rest of the median wall time (inputs written, encode, submit, readback). */
  gpuMs: number | null;
  hostMs: number | null;
  /**
   * The floor of this stretch of the run: the median wall time of one short busy dispatch submitted
   * and awaited (Roofline.busyRoundTripMs), timed in the same turns as the case's impls.
   */
  floorMs: number | null;
  /**
   * A recurrent row's seqgpu GPU time split by dispatch (compile's timestamps: 'dispatch', medians
   * of its own runs): the input projections' GEMMs and the fused recurrent steps.
   */
  profile?: { projectionMs: number; stepsMs: number; runs: number };
}

export interface BenchResult {
  row: BenchRow;
  /** What the runner did beyond the plain protocol (GPU time, a capped CPU run). */
  detail: string;
}

export interface TimingOptions {
  /** Wall-time budget per (case, impl) in ms; at least 3 runs whatever it says. */
  budgetMs: number;
  /** The roofline measured earlier in this run (pctRoof, and the round trip for wall-minus-roundtrip). */
  roofline: Roofline;
  /** cpu-reference: fewer than 3 runs when 3 would take longer than this (the run count says so). */
  cpuMaxMs: number;
}

/** Runs `fn` until `budgetMs` has passed and at least `minRuns` times; returns ms per run. */
export async function timeRuns(fn: () => Promise<unknown>, budgetMs: number, minRuns: number, maxRuns = 2000): Promise<number[]> {
  const ms: number[] = [];
  const start = performance.now();
  while (ms.length < minRuns || (performance.now() - start < budgetMs && ms.length < maxRuns)) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

export class ParityError extends Error {
  constructor(message: string, readonly maxAbsErr: number) {
    super(message);
  }
}

/** Max |got - want| over every output; throws ParityError, naming the first mismatches, beyond the tolerance. */
export function checkOutputs(what: string, got: Record<string, Float32Array>, want: Record<string, Float32Array>, tol: Tolerance): number {
  let maxAbsErr = 0, bad = 0;
  const lines: string[] = [];
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    if (!g || g.length !== w.length) throw new ParityError(`${what}: output '${name}' has ${g?.length ?? 'no'} values, want ${w.length}`, Infinity);
    for (let i = 0; i < w.length; i++) {
      const err = Math.abs(g[i] - w[i]);
      if (!(err <= tol.atol + tol.rtol * Math.abs(w[i]))) {
        if (++bad <= 10) lines.push(`  ${name}[${i}]: got ${g[i]} ref ${w[i]} |err| ${err}`);
      }
      maxAbsErr = Number.isNaN(err) ? Infinity : Math.max(maxAbsErr, err);
    }
  }
  if (bad) {
    throw new ParityError(`${what}: ${bad} values beyond atol ${tol.atol} rtol ${tol.rtol}, max |err| ${maxAbsErr.toExponential(2)}\n${lines.join('\n')}`, maxAbsErr);
  }
  return maxAbsErr;
}

/** The kernel name compile options use for a suite's op. */
const KERNEL: Record<string, string> = { matmul: 'matmul', softmax: 'softmax', layerNorm: 'layernorm', attention: 'attention', lstm: 'lstm', gru: 'gru' };

/**
 * Compile options from an engine impl: `seqgpu`, `seqgpu:<variant>`, and either with `/K=V,K=V`
 * override constants for the case's kernel (e.g. `seqgpu:tiled-vec4/TILE_M=32,TILE_N=32,TILE_K=16`).
 */
export function engineOptions(impl: string, suite: string): CompileOptions {
  const m = /^seqgpu(?::([^/]+))?(?:\/(.+))?$/.exec(impl);
  if (!m) throw new Error(`bench: '${impl}' is not an engine impl (seqgpu[:variant][/K=V,...])`);
  const kernel = KERNEL[suite] ?? suite;
  // `seqgpu:tuned` (--tune) measures what the runtime's table lacks; every other row keeps to the rule.
  if (m[1] === 'tuned' && !m[2]) return { tune: true };
  const opts: CompileOptions = { tune: false };
  // A user kernel ('user:...') is forced under the op's own name (layerNorm), the engine's under its kernel's.
  if (m[1]) opts.variants = m[1].startsWith('user:') ? { [suite]: m[1] } : { [kernel]: m[1] };
  if (m[2]) {
    const constants: Record<string, number> = {};
    for (const kv of m[2].split(',')) {
      const [k, v] = kv.split('=');
      if (!k || !Number.isFinite(Number(v))) throw new Error(`bench: bad constant '${kv}' in '${impl}'`);
      constants[k] = Number(v);
    }
    opts.constants = { [kernel]: constants };
  }
  return opts;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** An impl of a case, checked and warmed up, ready to be timed beside the others. */
interface Contender {
  impl: string;
  run: () => Promise<unknown>;
  /** The warm-up run's wall time: past the budget, the impl is timed once (timeInTurns). */
  firstMs: number;
  /** The row from the wall times (and, for seqgpu, a timestamped phase of its own). */
  finish: (wall: number[]) => Promise<BenchResult>;
  dispose: () => void;
}

/**
 * Times the contenders in turns: `rounds` rounds, in each of which every contender runs for
 * budgetMs / rounds (at least once), starting with a different one each round. On a machine whose
 * load changes (a shared CPU under a software adapter), every impl of a case is sampled over the
 * same stretch of time, so their ratio is not one impl's quiet minute against another's busy one.
 */
export async function timeInTurns(runs: (() => Promise<unknown>)[], budgetMs: number, rounds = 3, maxRuns = 2000, once: boolean[] = []): Promise<number[][]> {
  const walls = runs.map((): number[] => []);
  const slice = budgetMs / rounds;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runs.length; k++) {
      const i = (k + r) % runs.length;
      // A run longer than the whole budget is timed once, in the first round.
      if (once[i] && walls[i].length > 0) continue;
      const start = performance.now();
      do {
        const t0 = performance.now();
        await runs[i]();
        walls[i].push(performance.now() - t0);
      } while (!once[i] && performance.now() - start < slice && walls[i].length < maxRuns);
    }
  }
  return walls;
}

/** Holds one runtime, the peers of this page, and the CPU reference of the case last asked for. */
export class BenchRunner {
  private ref?: { name: string; feeds: Feeds; consts: Record<string, Float32Array>; want: Record<string, Float32Array>; ms: number };
  private rooflineKernels?: RooflineKernels;

  constructor(
    private readonly rt: Runtime,
    private readonly cases: Map<string, BenchCase>,
    private readonly peers: Record<string, Peer> = {},
  ) {}

  /**
   * Checks every impl of a case against the reference, then times those that passed in turns
   * (timeInTurns); the CPU reference is timed on its own afterwards. One result per impl, in order.
   */
  async runCase(name: string, impls: string[], opts: TimingOptions): Promise<BenchResult[]> {
    const c = this.cases.get(name);
    if (!c) throw new Error(`bench: no case '${name}'`);
    const { graph, feeds, consts } = c.build();
    if (this.ref?.name !== name) {
      const cpu = await Runtime.cpu().compile(graph);
      const t0 = performance.now();
      const want = await cpu.run(feeds);
      this.ref = { name, feeds, consts, want, ms: performance.now() - t0 };
      cpu.destroy();
    }
    const results = new Map<string, BenchResult>();
    const failed = (impl: string, e: unknown) => {
      const status = e instanceof ParityError ? 'wrong' : e instanceof PeerSkip ? 'skipped' : 'error';
      const base = { suite: c.suite, name: c.name, shape: c.shape, impl };
      results.set(impl, { row: emptyRow(base, status, message(e), e instanceof ParityError ? e.maxAbsErr : null), detail: '' });
    };
    const contenders: Contender[] = [];
    try {
      for (const impl of impls) {
        if (impl === 'cpu-reference') continue;
        try {
          contenders.push(isPeer(impl) ? await this.preparePeer_(c, impl, opts) : await this.prepareEngine_(c, impl, graph, opts, this.ref!));
        } catch (e) {
          failed(impl, e);
        }
      }
      const floor = contenders.length && this.rt.device ? await this.floorRun_() : null;
      const runs = contenders.map((k) => k.run);
      if (floor) runs.push(floor.run);
      const once = contenders.map((k) => k.firstMs > opts.budgetMs);
      const walls = await timeInTurns(runs, opts.budgetMs, 3, 2000, once);
      const floorMs = floor ? median(walls[contenders.length]) : null;
      floor?.destroy();
      for (const [i, k] of contenders.entries()) {
        try {
          const r = await k.finish(walls[i]);
          r.row.floorMs = floorMs;
          if (once[i]) r.row.note = `timed once: one run (${k.firstMs.toFixed(0)} ms) exceeds the budget (${opts.budgetMs} ms); ${r.row.note}`;
          if (r.row.gpuMs !== null && r.row.medianMs !== null) r.row.hostMs = Math.max(r.row.medianMs - r.row.gpuMs, 0);
          results.set(k.impl, r);
        } catch (e) {
          failed(k.impl, e);
        }
      }
    } finally {
      for (const k of contenders) k.dispose();
    }
    if (impls.includes('cpu-reference')) {
      try {
        results.set('cpu-reference', await this.runCpu_(c, graph, opts));
      } catch (e) {
        failed('cpu-reference', e);
      }
    }
    return impls.map((i) => results.get(i)!);
  }

  /** One short busy dispatch, submitted and awaited (bench/roofline.ts): the floor of any run here. */
  private async floorRun_(): Promise<{ run: () => Promise<unknown>; destroy: () => void }> {
    this.rooflineKernels ??= await createRooflineKernels(this.rt.device!);
    const busy = new BusyRoundTrip(this.rooflineKernels);
    await busy.time();
    return { run: () => busy.time(), destroy: () => busy.destroy() };
  }

  /**
   * seqgpu on the case's graph, or on its baseline's (BASELINE_IMPL: checked against the baseline's
   * own expected outputs).
   */
  private async prepareEngine_(
    c: BenchCase, impl: string, caseGraph: Graph, opts: TimingOptions, ref: { feeds: Feeds; want: Record<string, Float32Array> },
  ): Promise<Contender> {
    const base = impl === BASELINE_IMPL ? c.baseline?.() : undefined;
    if (impl === BASELINE_IMPL && !base) throw new Error(`bench: ${c.name} has no baseline`);
    const { feeds, want } = base ?? ref;
    const graph = base?.graph ?? caseGraph;
    const tol = base?.tol ?? c.tol;
    const device = this.rt.device;
    if (!device) throw new Error(`bench: ${impl} needs a GPU runtime, got ${this.rt.info.backend}`);
    const options = base ? { tune: false } : engineOptions(impl, c.suite);
    const exes: Executable[] = [];
    const dispose = () => exes.forEach((e) => e.destroy());
    try {
      const exe = await this.rt.compile(graph, options);
      exes.push(exe);
      const timed = device.features.has('timestamp-query') ? await this.rt.compile(graph, { ...options, timestamps: true }) : null;
      if (timed) exes.push(timed);
      // A recurrent row's engine choice is also timed per dispatch: the projections apart from the steps.
      const profiled = timed && impl === 'seqgpu' && (c.suite === 'lstm' || c.suite === 'gru')
        ? await this.rt.compile(graph, { ...options, timestamps: 'dispatch' }) : null;
      if (profiled) exes.push(profiled);
      const what = `${c.name} ${impl}`;
      let t0 = performance.now();
      const maxAbsErr = checkOutputs(what, await exe.run(feeds), want, tol);
      const checkedMs = performance.now() - t0;
      if (timed) checkOutputs(`${what} (timestamps)`, await timed.run(feeds), want, tol);
      t0 = performance.now();
      await exe.run(feeds); // warm-up beyond the checked run
      // The faster of two runs decides whether one run passes the budget: one slow stretch does not.
      const firstMs = Math.min(checkedMs, performance.now() - t0);
      const finish = async (wall: number[]): Promise<BenchResult> => {
        // GPU time from the timestamped executable. Its wall time is not used: resolving and
        // reading back the timestamps adds a round trip of its own (about 2 ms on SwiftShader).
        const gpu: number[] = [];
        if (timed) {
          await timeRuns(async () => {
            await timed.run(feeds);
            if (timed.stats.gpuMs !== null) gpu.push(timed.stats.gpuMs);
          }, opts.budgetMs / 2, firstMs > opts.budgetMs ? 1 : 3);
        }
        const gpuTimed = gpu.length > 0 && gpu.every((x) => x > 0);
        const profile = profiled
          ? await profileSteps(profiled, feeds, firstMs > opts.budgetMs ? 1 : 3, (out) => checkOutputs(`${what} (timestamps per dispatch)`, out, want, tol))
          : undefined;
        const steps = exe.steps;
        const row = timedRow(base ? { ...c, flops: base.flops } : c, impl, wall, opts.roofline, gpuTimed ? median(gpu) : null);
        row.maxAbsErr = maxAbsErr;
        row.dispatches = exe.stats.dispatches;
        row.submits = exe.stats.submits;
        row.note = steps.join('; ');
        if (gpuTimed) {
          row.gpuMs = median(gpu);
          row.hostMs = Math.max(row.medianMs! - row.gpuMs, 0);
        }
        if (profile) row.profile = profile;
        if (c.spec.op === 'model') row.note = `${modelSplit(c.spec, row, median(encode), median(submit))}; ${row.note}`;
        if (base) row.note = `${base.dispatches} plain matmul dispatches of one step's shape, one submit (the fused step's baseline); ${row.note}`;
        const detail = gpuTimed ? `gpu ${row.gpuMs!.toFixed(3)} ms (median of ${gpu.length} timestamped runs)` : 'no timestamps: wall less the round trip';
        return { row, detail };
      };
      // The host side of each timed run: writing inputs and encoding, and the submit call.
      const encode: number[] = [], submit: number[] = [];
      const run = async () => {
        await exe.run(feeds);
        encode.push(exe.stats.encodeMs ?? NaN);
        submit.push(exe.stats.submitMs ?? NaN);
      };
      return { impl, run, firstMs, finish, dispose };
    } catch (e) {
      dispose();
      throw e;
    }
  }

  private async preparePeer_(c: BenchCase, impl: string, opts: TimingOptions): Promise<Contender> {
    const peer = this.peers[impl];
    if (!peer) throw new PeerSkip(`${impl} runs only in the Chromium page (a browser engine); not in this runtime`);
    const { feeds, consts, want } = this.ref!;
    const job = await peer.setup(c.spec, { ...feeds, ...consts } as CaseData);
    try {
      let t0 = performance.now();
      const maxAbsErr = checkOutputs(`${c.name} ${impl}`, job.outputs(await job.run()), want, c.tol);
      const checkedMs = performance.now() - t0;
      t0 = performance.now();
      await job.run();
      const firstMs = Math.min(checkedMs, performance.now() - t0);
      const finish = async (wall: number[]): Promise<BenchResult> => {
        const row = timedRow(c, impl, wall, opts.roofline, null);
        row.maxAbsErr = maxAbsErr;
        row.dispatches = job.dispatches;
        row.note = job.note;
        return { row, detail: 'no GPU timestamps from a peer: wall less the round trip' };
      };
      return { impl, run: () => job.run(), firstMs, finish, dispose: () => job.dispose() };
    } catch (e) {
      job.dispose();
      throw e;
    }
  }

  private async runCpu_(c: BenchCase, graph: Graph, opts: TimingOptions): Promise<BenchResult> {
    const { feeds, want, ms: refMs } = this.ref!;
    const exe = await Runtime.cpu().compile(graph);
    // The reference run above was this impl's warm-up; a slow case gets fewer than 3 runs.
    const minRuns = Math.max(1, Math.min(3, Math.floor(opts.cpuMaxMs / Math.max(refMs, 1e-3))));
    let last: Record<string, Float32Array> = {};
    const wall = await timeRuns(async () => {
      last = await exe.run(feeds);
    }, Math.min(opts.budgetMs, opts.cpuMaxMs), minRuns);
    exe.destroy();
    const maxAbsErr = checkOutputs(`${c.name} cpu-reference`, last, want, { atol: 0, rtol: 0 });
    const wallMed = median(wall);
    const row: BenchRow = {
      suite: c.suite, name: c.name, shape: c.shape, impl: 'cpu-reference',
      medianMs: wallMed, minMs: Math.min(...wall), maxMs: Math.max(...wall), runs: wall.length, timing: 'wall',
      gflops: c.flops ? c.flops / wallMed / 1e6 : null, gbps: c.bytes / wallMed / 1e6,
      pctRoof: null, maxAbsErr, dispatches: null, submits: null, status: 'ok', note: 'float64 reference interpreter', gpuMs: null, hostMs: null, floorMs: null,
    };
    return { row, detail: minRuns < 3 ? `capped: one run took ${refMs.toFixed(0)} ms, cpu cap ${opts.cpuMaxMs} ms` : '' };
  }
}

/** Wall-time figures, and rates from GPU time where given, else from wall time less the round trip. */
function timedRow(c: BenchCase, impl: string, wall: number[], roof: Roofline, gpuMs: number | null): BenchRow {
  const wallMed = median(wall);
  const kernelMs = gpuMs ?? Math.max(wallMed - roof.roundTripMs, 1e-3);
  const gflops = c.flops ? c.flops / kernelMs / 1e6 : null;
  const gbps = c.bytes / kernelMs / 1e6;
  const pctRoof = c.roof === 'fma' ? (gflops === null ? null : (gflops / roof.fmaGflops) * 100) : (gbps / roof.copyGbps) * 100;
  return {
    suite: c.suite, name: c.name, shape: c.shape, impl,
    medianMs: wallMed, minMs: Math.min(...wall), maxMs: Math.max(...wall), runs: wall.length,
    timing: gpuMs !== null ? 'gpu-timestamp' : 'wall-minus-roundtrip',
    gflops, gbps, pctRoof, maxAbsErr: null, dispatches: null, submits: null, status: 'ok', note: '', gpuMs: null, hostMs: null, floorMs: null,
  };
}

/**
 * A model step's throughput and where its time goes: encoding (inputs written, commands recorded),
 * the submit call, GPU time, and the rest of the wall time (waiting for completion, reading back).
 */
function modelSplit(spec: { items: number; unit: string }, row: BenchRow, encodeMs: number, submitMs: number): string {
  const rate = `${((spec.items * 1000) / row.medianMs!).toFixed(1)} ${spec.unit}/s`;
  const host = `encode ${encodeMs.toFixed(2)} ms, submit ${submitMs.toFixed(2)} ms`;
  if (row.gpuMs === null) return `${rate}; a run: ${host}; no timestamps, so no GPU time`;
  const rest = Math.max(row.medianMs! - encodeMs - submitMs - row.gpuMs, 0);
  return `${rate}; a run: ${host}, GPU ${row.gpuMs.toFixed(2)} ms, completion wait and readback ${rest.toFixed(2)} ms`;
}

function emptyRow(base: Pick<BenchRow, 'suite' | 'name' | 'shape' | 'impl'>, status: BenchRow['status'], note: string, maxAbsErr: number | null): BenchRow {
  return {
    ...base, medianMs: null, minMs: null, maxMs: null, runs: 0, timing: 'none',
    gflops: null, gbps: null, pctRoof: null, maxAbsErr, dispatches: null, submits: null, status, note, gpuMs: null, hostMs: null, floorMs: null,
  };
}
