// Parity checking shared by the Node and the Chromium runs: a case builds a graph and its feeds,
// the GPU runtime and Runtime.cpu() run it, and every element must satisfy
// |gpu - ref| <= atol + rtol * |ref|, or be the same special value: NaN where the reference is NaN,
// the same infinity where it is infinite (see `matches`). A failure reports the index, both values
// and the max error.
import { Runtime, type CompileOptions, type Feeds, type Graph } from '../index';

/**
 * How far a GPU value may be from the float64 reference: |gpu − ref| ≤ atol + rtol·|ref|. NaN must
 * meet NaN and an infinity the same infinity, whatever the tolerance.
 */
export interface Tolerance {
  /** The absolute part of the bound. */
  atol: number;
  /** The part of the bound relative to |ref|. */
  rtol: number;
  /** Why this tolerance: the error model of the kernel. */
  why: string;
}

/** One parity check: a graph with its feeds, run on a GPU runtime and on the CPU reference. */
export interface ParityCase {
  /** A unique name for the case, e.g. `softmax [3, 17] dim -1`; reports begin with it. */
  id: string;
  /** The kernel family (shaders/<kernel>.wgsl) the case exercises. */
  kernel: string;
  /** How close every output value must be to the reference, and why. */
  tol: Tolerance;
  /** Builds the graph and its feeds afresh (called once per check). */
  build: () => {
    /** The graph to run; every output is compared. */
    graph: Graph;
    /** A value for every input of the graph. */
    feeds: Feeds;
  };
  /** Compile options for the GPU run (a forced variant, constants); checkParity's own are laid over them. */
  options?: CompileOptions;
  /**
   * Expected exe.stats.dispatches, where the case checks fusion or view folding; a function of the
   * runtime where the count depends on the adapter (a bidirectional recurrence takes a dispatch per
   * direction on SwiftShader).
   */
  dispatches?: number | ((rt: Runtime) => number);
}

/** What checkParity found for one case. */
export interface ParityResult {
  /** The case's id. */
  id: string;
  /** Every value matched, at least one was checked, and the dispatch count (if the case gives one) held. */
  ok: boolean;
  /** The largest finite |gpu − ref| over every output. */
  maxAbsErr: number;
  /** How many output values were compared. */
  checked: number;
  /** A summary line, then up to 10 mismatches with their index and both values. */
  report: string;
  /** The GPU executable's steps: one label per dispatch, with its kernel variant. */
  steps: string[];
  /** Compute dispatches of the GPU run. */
  dispatches: number;
}

/**
 * Runs case `c` on `rt` and on Runtime.cpu() and compares every output. `options` adds to the case's
 * own compile options (a variant to force: `{ variants: { softmax: 'user:mine' } }`).
 */
export async function runParity(rt: Runtime, c: ParityCase, options: CompileOptions = {}): Promise<ParityResult> {
  const { graph, feeds } = c.build();
  const merged: CompileOptions = {
    ...c.options, ...options,
    variants: { ...c.options?.variants, ...options.variants },
    constants: { ...c.options?.constants, ...options.constants },
  };
  const gpuExe = await rt.compile(graph, merged);
  const cpuExe = await Runtime.cpu().compile(graph);
  try {
    const [got, want] = await Promise.all([gpuExe.run(feeds), cpuExe.run(feeds)]);
    const lines: string[] = [];
    let maxAbsErr = 0, checked = 0, bad = 0;
    for (const name of cpuExe.outputNames) {
      const g = got[name], w = want[name];
      const shape = gpuExe.outputShape(name);
      if (!g || g.length !== w.length) {
        lines.push(`output '${name}': ${g?.length ?? 'no'} values, want ${w.length} (shape [${shape}])`);
        bad++;
        continue;
      }
      for (let i = 0; i < w.length; i++) {
        const err = Math.abs(g[i] - w[i]);
        checked++;
        if (!matches(g[i], w[i], c.tol)) {
          if (++bad <= 10) lines.push(`  ${name}[${i}]: gpu ${g[i]} ref ${w[i]} |err| ${err}`);
        }
        if (Number.isFinite(err)) maxAbsErr = Math.max(maxAbsErr, err);
      }
    }
    const steps = gpuExe.steps;
    const dispatches = gpuExe.stats.dispatches;
    // A case's dispatch count holds for the engine's own kernels (fusion); a forced variant may differ.
    const wantDispatches = typeof c.dispatches === 'function' ? c.dispatches(rt) : c.dispatches;
    if (wantDispatches !== undefined && !options.variants && dispatches !== wantDispatches) {
      lines.push(`  dispatches: ${dispatches}, want ${wantDispatches} (${steps.join('; ')})`);
      bad++;
    }
    const head = `${c.id}: ${bad ? `${bad} mismatches` : 'ok'}, max |err| ${maxAbsErr.toExponential(2)} ` +
      `over ${checked} values (atol ${c.tol.atol}, rtol ${c.tol.rtol}) [${steps.join('; ')}]`;
    return { id: c.id, ok: bad === 0 && checked > 0, maxAbsErr, checked, report: [head, ...lines].join('\n'), steps, dispatches };
  } finally {
    gpuExe.destroy();
    cpuExe.destroy();
  }
}

/**
 * One GPU value against the reference. NaN matches only NaN and an infinity only itself: the
 * tolerance test alone would pass inf against -inf or a finite value, its bound being infinite too.
 */
export function matches(gpu: number, ref: number, tol: Tolerance): boolean {
  if (Number.isNaN(ref) || Number.isNaN(gpu)) return Number.isNaN(ref) && Number.isNaN(gpu);
  if (!Number.isFinite(ref) || !Number.isFinite(gpu)) return gpu === ref;
  return Math.abs(gpu - ref) <= tol.atol + tol.rtol * Math.abs(ref);
}

/** mulberry32: a small seeded generator, so the page and Node build the same feeds. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [-scale, scale). */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * r() - 1) * scale;
  return out;
}
