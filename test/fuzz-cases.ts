// The fuzz: random shapes, options and data against the CPU reference, shared by Node (Dawn) and the
// Chromium page. A case is plain JSON (op, shapes, options, data seed) so fast-check can generate and
// shrink it in Node and the page can rebuild it from its description. fast-check is passed in rather
// than imported, so the page, which only builds and runs cases, never loads it.
import type * as FC from 'fast-check';
import { Runtime } from '../src/index';
import { buildCase } from './fuzz-build';
import { runParity, type ParityResult, type Tolerance } from './parity';
import type { Cell } from '../src/graph/ir';

type Variant<V extends string> = 'auto' | V;
/** Shapes are what the op sees; a flag ending in T stores the operand with its last two dims swapped and views it back. */
type Shape = number[];

export type OpCase =
  | { op: 'matmul'; a: Shape; b: Shape; aT: boolean; bT: boolean; variant: Variant<'naive' | 'tiled'>; seed: number }
  | { op: 'linear'; x: Shape; out: number; bias: boolean; act: 'none' | 'relu' | 'tanh' | 'sigmoid'; wT: boolean; residual: boolean; variant: Variant<'naive' | 'tiled'>; seed: number }
  | { op: 'add' | 'sub' | 'mul' | 'div'; a: Shape; b: Shape; aT: boolean; seed: number }
  | { op: 'relu' | 'tanh' | 'sigmoid' | 'gelu' | 'gelu-tanh'; x: Shape; xT: boolean; seed: number }
  | { op: 'softmax'; x: Shape; dim: number; xT: boolean; variant: Variant<'workgroup' | 'row'>; seed: number }
  | { op: 'layerNorm'; x: Shape; normalized: Shape; weight: boolean; bias: boolean; eps: number; variant: Variant<'workgroup' | 'row'>; seed: number }
  | { op: 'embedding'; ids: Shape; table: Shape; seed: number }
  | {
      op: 'attention'; q: Shape; k: Shape; v: Shape; mask: 'none' | 'bool' | 'float' | 'causal'; maskShape: Shape;
      /** bthd: q, k, v stored [B, T, H, D] and viewed as [B, H, T, D]; kT: k stored [..., D, Tk]. */
      layout: 'plain' | 'bthd' | 'kT'; scale: number | null; qk: number; variant: Variant<'flash' | 'split' | 'rows'>; seed: number;
    }
  | {
      op: 'rnn'; cell: Cell; T: number; B: number; I: number; H: number; layers: number; bidirectional: boolean; batchFirst: boolean;
      bias: boolean; h0: boolean; c0: boolean; constants: boolean; wT: boolean; variant: Variant<'step' | 'persistent'>; seed: number;
    }
  | { op: 'slice'; x: Shape; dim: number; start: number; end: number; xT: boolean; seed: number }
  | { op: 'concat'; parts: Shape[]; dim: number; firstT: boolean; seed: number }
  | { op: 'gather'; x: Shape; dim: number; index: Shape; seed: number }
  | { op: 'assign'; state: Shape; value: Shape; dim: number; offset: number; fed: boolean; seed: number }
  /** cmp(a, b) -> where, maskedFill, cast and logic over a, b (f32 with ties, NaN, +-inf, or i32), broadcast. */
  | { op: 'dtype'; a: Shape; b: Shape; aInt: boolean; bInt: boolean; cmp: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'; aT: boolean; seed: number };

export type EwStep = { fn: 'add' | 'sub' | 'mul'; operand: Shape } | { fn: 'relu' | 'tanh' | 'sigmoid' | 'gelu' };

export type ChainCase =
  | { op: 'chain:mlp'; x: Shape; hidden: number; approximate: 'none' | 'tanh'; eps: number; softmaxDim: number; seed: number }
  | { op: 'chain:block'; B: number; T: number; heads: number; headDim: number; mask: 'none' | 'causal' | 'padding'; lengths: number[]; variant: Variant<'flash' | 'split' | 'rows'>; seed: number }
  | { op: 'chain:classifier'; cell: 'lstm' | 'gru' | 'rnn_tanh'; vocab: number; E: number; H: number; T: number; B: number; classes: number; lengths: number[]; seed: number }
  | { op: 'chain:ew'; x: Shape; xT: boolean; steps: EwStep[]; seed: number };

export type FuzzCase = OpCase | ChainCase;

/** `full` with the dims whose bit is set in `ones` made 1 and `drop` leading dims removed: broadcasts to it. */
function broadcastable(full: Shape, ones: number, drop: number): Shape {
  return full.map((d, i) => ((ones >> i) & 1 ? 1 : d)).slice(Math.min(drop, full.length));
}

/** A dim index in [-rank, rank) from any integer, negative values kept negative (both forms get used). */
const dimOf = (raw: number, rank: number) => (raw >= 0 ? raw % rank : -(((-raw - 1) % rank) + 1));
const norm = (dim: number, rank: number) => (dim < 0 ? dim + rank : dim);

// Sizes: 1, primes, and sizes just past a power of two or a tile (16, 32, 64, 256).
//
// Pipelines: each distinct (shader, entry, override constants) is a pipeline, and lavapipe (CI's
// adapter) compiles one at its first dispatch, cold in 0.1 to 30 s on a 2-core machine (attention_rows
// 10-30 s, matmul_tiled ~10 s, matmul_register and layernorm_main 2-5 s, the rest under 2 s): a
// cold run's time is nearly all compiles. So a size that picks override constants comes from a small
// set (awkward values kept in it), and sizes the kernels see only as uniforms stay free:
//   softmax and layerNorm 'workgroup' size WG = nextPow2(n) in [32, 256]: the reduced lengths (ROWS,
//     LN_PAIRS) give WG 32 (n <= 32) or 256 (n > 128; 257 and 300 take two passes), never 64 or 128;
//   attention 'rows' (the emulated adapters' pick) widens WG_ROWS once batch * ceil(Tq / 4) passes 32:
//     batches are cut to fit (fitRows); D, Dv, Tq, Tk are uniforms there and stay free, so one
//     pipeline per mask kind (none, bool, float, causal) serves every attention case and block;
//   recurrences bake B * H and nextPow2(H): H in HIDDEN = {1, 17}, B in {1, 3};
//   matmul bakes its epilogue (bias, second bias, activation, residual) and operand transposes, and
//     at these sizes its tiles are 32x32: linear draws its epilogue from EPILOGUES except when naive.
const DIMS = [1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 17, 31, 32, 33];
const SMALL = [1, 2, 3, 5];
const ROWS = [1, 2, 3, 5, 7, 16, 17, 31, 257, 300];
/** Normalized shapes of two dims: products in WG 32 (<= 32) or WG 256 (> 128), as ROWS. */
const LN_PAIRS: [number, number][] = [[1, 1], [2, 3], [1, 17], [3, 7], [5, 5], [16, 2], [33, 5], [7, 33], [16, 17], [3, 65]];
const SEQ = [1, 2, 3, 4, 5, 7, 13, 17, 33];
const HEAD = [1, 2, 3, 4, 5, 8, 16, 17, 32, 33, 64];
/**
 * linear's epilogues outside 'naive': the three of the chains' projections (pipelines they share),
 * then an activation with both additions and the weight stored transposed.
 */
const EPILOGUES = [
  { act: 'none', bias: false, residual: false, wT: false }, // the block's q, k, v
  { act: 'none', bias: true, residual: false, wT: false }, // the MLP's and the classifier's
  { act: 'none', bias: true, residual: true, wT: false }, // the block's output with its residual
  { act: 'sigmoid', bias: true, residual: true, wT: true },
] as const;
/** Hidden sizes: nextPow2(H) and B * H are override constants of the recurrences. */
const HIDDEN = [1, 17];

/**
 * attention_rows runs a thread per 4 query rows and sizes its workgroup (WG_ROWS, a constant) to the
 * thread count once that passes 32; `batch` loses its leading dim's size until the count fits.
 */
function fitRows(batch: number[], Tq: number): number[] {
  const out = [...batch];
  for (let i = 0; i < out.length && out.reduce((a, b) => a * b, 1) * Math.ceil(Tq / 4) > 32; i++) out[i] = 1;
  return out;
}

export interface FuzzOptions {
  /**
   * Also force attention's flash and split variants. Each new (head dims, mask) pipeline of theirs
   * takes lavapipe's LLVM 2 to 25 s to compile (their workgroup tiles and barriers), against
   * milliseconds on a GPU, where 'auto' picks them anyway; the parity cases cover them on CPU
   * emulation. On an emulated adapter they stay out unless asked for (SEQGPU_FUZZ_VARIANTS=all).
   */
  slowVariants: boolean;
}

/** Whether `adapter` is a CPU emulation (the Runtime's own test), where some pipelines compile slowly. */
export const isEmulated = (adapter: { architecture: string; description: string }) =>
  /swiftshader|llvmpipe|lavapipe|software/i.test(`${adapter.architecture} ${adapter.description}`);

/** The case generator; shrinking goes toward the first size of each list, no options and data seed 0. */
export function fuzzCase(fc: typeof FC, opts: FuzzOptions): FC.Arbitrary<FuzzCase> {
  const attnVariant = fc.constantFrom(...(opts.slowVariants ? ['auto', 'rows', 'flash', 'split'] as const : ['auto', 'rows'] as const));
  const seed = fc.nat();
  const dim = fc.constantFrom(...DIMS);
  const small = fc.constantFrom(...SMALL);
  const shape = (sizes: number[], min: number, max: number) => fc.array(fc.constantFrom(...sizes), { minLength: min, maxLength: max });
  const bool = fc.boolean();

  // Batch dims: each operand's are the common ones with some set to 1 (bits of ao, bo) and some
  // leading ones dropped (ad, bd), so they broadcast against each other.
  const matmul = fc.record({
    M: dim, K: dim, N: dim, batch: shape(SMALL, 0, 3), ao: fc.nat(7), bo: fc.nat(7), ad: fc.nat(3), bd: fc.nat(3),
    aT: bool, bT: bool, variant: fc.constantFrom('auto', 'naive', 'tiled'), seed,
  }).map((r): FuzzCase => ({
    op: 'matmul', a: [...broadcastable(r.batch, r.ao, r.ad), r.M, r.K], b: [...broadcastable(r.batch, r.bo, r.bd), r.K, r.N],
    aT: r.aT, bT: r.bT, variant: r.variant, seed: r.seed,
  }));
  // Every matmul variant calls one epilogue function, so 'naive' (compiled in a fraction of a second)
  // takes any bias/act/residual/wT; 'tiled' and 'auto' (on lavapipe the register or tiled kernel,
  // 3 or 10 s a pipeline) take one of EPILOGUES.
  const linear = fc.record({
    lead: shape([1, 2, 3, 5, 7], 0, 2), K: dim, out: dim, bias: bool, act: fc.constantFrom('none', 'relu', 'tanh', 'sigmoid'),
    wT: bool, residual: bool, variant: fc.constantFrom('auto', 'naive', 'tiled'), epilogue: fc.nat(EPILOGUES.length - 1), seed,
  }).map(({ lead, K, epilogue, ...r }): FuzzCase => ({ op: 'linear', x: [...lead, K], ...r, ...(r.variant === 'naive' ? {} : EPILOGUES[epilogue]) }));
  const binary = fc.record({
    op: fc.constantFrom('add', 'sub', 'mul', 'div'), out: shape([1, 2, 3, 4, 5, 7, 13], 1, 4),
    ao: fc.nat(15), bo: fc.nat(15), ad: fc.nat(3), bd: fc.nat(3), aT: bool, seed,
  }).map((r): FuzzCase => {
      const a = broadcastable(r.out, r.ao, Math.min(r.ad, r.out.length - 1));
      return { op: r.op, a, b: broadcastable(r.out, r.bo, Math.min(r.bd, r.out.length - 1)), aT: r.aT && a.length >= 2, seed: r.seed };
    });
  const dtype = fc.record({
    out: shape([1, 2, 3, 5, 7, 13], 1, 3), ao: fc.nat(7), bo: fc.nat(7), bd: fc.nat(2), aInt: bool, bInt: bool,
    cmp: fc.constantFrom('eq', 'ne', 'lt', 'le', 'gt', 'ge'), aT: bool, seed,
  }).map((r): FuzzCase => {
    const a = broadcastable(r.out, r.ao, 0);
    return { op: 'dtype', a, b: broadcastable(r.out, r.bo, Math.min(r.bd, r.out.length - 1)), aInt: r.aInt, bInt: r.bInt, cmp: r.cmp, aT: r.aT && a.length >= 2, seed: r.seed };
  });
  const unary = fc.record({ op: fc.constantFrom('relu', 'tanh', 'sigmoid', 'gelu', 'gelu-tanh'), x: shape(DIMS, 1, 3), xT: bool, seed })
    .map((r): FuzzCase => ({ ...r, xT: r.xT && r.x.length >= 2 }));
  const softmax = fc.record({ lead: shape(SMALL, 0, 2), last: fc.constantFrom(...ROWS), dim: fc.integer({ min: -3, max: 2 }), xT: bool, variant: fc.constantFrom('auto', 'workgroup', 'row'), seed })
    .map(({ lead, last, ...r }): FuzzCase => {
      const x = [...lead, last];
      return { op: 'softmax', x, ...r, dim: dimOf(r.dim, x.length), xT: r.xT && x.length >= 2 };
    });
  const layerNorm = fc.record({
    lead: shape(SMALL, 0, 2), trail: fc.oneof(fc.tuple(fc.constantFrom(...ROWS)), fc.constantFrom(...LN_PAIRS)),
    weight: bool, bias: bool, eps: fc.constantFrom(1e-5, 1e-3), variant: fc.constantFrom('auto', 'workgroup', 'row'), seed,
  }).map(({ lead, trail, ...r }): FuzzCase => ({ op: 'layerNorm', x: [...lead, ...trail], normalized: [...trail], ...r }));
  const embedding = fc.record({ ids: shape([1, 2, 3, 5, 7], 1, 2), num: fc.constantFrom(1, 2, 3, 7, 17, 50), dim, seed })
    .map((r): FuzzCase => ({ op: 'embedding', ids: r.ids, table: [r.num, r.dim], seed: r.seed }));
  const attention = fc.record({
    batch: shape([1, 2, 3], 0, 2), Tq: fc.constantFrom(...SEQ), Tk: fc.constantFrom(...SEQ), D: fc.constantFrom(...HEAD), Dv: fc.constantFrom(...HEAD),
    kvo: fc.nat(3), mask: fc.constantFrom('none', 'bool', 'float', 'causal'), mo: fc.nat(15), md: fc.nat(3), layout: fc.constantFrom('plain', 'bthd', 'kT'),
    scale: fc.constantFrom(null, 0.3, 1), qk: fc.constantFrom(1, 2), variant: attnVariant, seed,
  }).map(({ batch: drawn, ...r }): FuzzCase => {
    const batch = fitRows(drawn, r.Tq);
    const kv = broadcastable(batch, r.kvo, 0);
    const full = [...batch, r.Tq, r.Tk];
    const layout = r.layout === 'bthd' && (batch.length !== 2 || kv.some((d, i) => d !== batch[i])) ? 'plain' : r.layout;
    return {
      op: 'attention', q: [...batch, r.Tq, r.D], k: [...kv, r.Tk, r.D], v: [...kv, r.Tk, r.Dv], mask: r.mask,
      maskShape: r.mask === 'bool' || r.mask === 'float' ? broadcastable(full, r.mo, Math.min(r.md, full.length - 1)) : [],
      layout, scale: r.scale, qk: r.qk, variant: r.variant, seed: r.seed,
    };
  });
  const rnn = fc.record({
    // B and H are constants of the recurrences (HIDDEN); T, I and the layer count are free.
    cell: fc.constantFrom<Cell>('lstm', 'gru', 'rnn_tanh', 'rnn_relu'), T: fc.constantFrom(1, 2, 3, 5, 9), B: fc.constantFrom(1, 3), I: fc.constantFrom(1, 2, 3, 5, 8),
    H: fc.constantFrom(...HIDDEN), layers: fc.constantFrom(1, 2, 3), bidirectional: bool, batchFirst: bool, bias: fc.boolean(),
    h0: bool, c0: bool, constants: bool, wT: bool, variant: fc.constantFrom('auto', 'step', 'persistent'), seed,
  }).map((r): FuzzCase => ({ op: 'rnn', ...r, bias: !r.bias, c0: r.c0 && r.cell === 'lstm' })); // shrinks to torch's bias=True
  const slice = fc.record({ x: shape([1, 2, 3, 5, 7, 13, 17], 1, 3), dim: fc.integer({ min: -3, max: 2 }), s: fc.nat(32), n: fc.nat(32), negative: bool, xT: bool, seed })
    .map((r): FuzzCase => {
      const dim = dimOf(r.dim, r.x.length), xT = r.xT && r.x.length >= 2;
      const size = r.x[norm(dim, r.x.length)];
      const start = r.s % size, end = start + 1 + (r.n % (size - start));
      // Negative bounds count from the end; an end of `size` has no negative form.
      return { op: 'slice', x: r.x, dim, start: r.negative ? start - size : start, end: r.negative && end < size ? end - size : end, xT, seed: r.seed };
    });
  const concat = fc.record({ base: shape([1, 2, 3, 5, 7], 1, 3), dim: fc.integer({ min: -3, max: 2 }), sizes: shape([1, 2, 3, 5, 7], 1, 3), firstT: bool, seed })
    .map((r): FuzzCase => {
      const dim = dimOf(r.dim, r.base.length);
      const parts = r.sizes.map((n) => r.base.map((d, i) => (i === norm(dim, r.base.length) ? n : d)));
      return { op: 'concat', parts, dim, firstT: r.firstT && r.base.length >= 2, seed: r.seed };
    });
  const gather = fc.record({ x: shape([1, 2, 3, 5, 7, 13], 1, 3), dim: fc.integer({ min: -3, max: 2 }), idx: fc.array(fc.nat(12), { minLength: 3, maxLength: 3 }), seed })
    .map((r): FuzzCase => {
      const dim = dimOf(r.dim, r.x.length), d = norm(dim, r.x.length);
      return { op: 'gather', x: r.x, dim, index: r.x.map((n, i) => 1 + (r.idx[i] % (i === d ? 5 : n))), seed: r.seed };
    });
  const assign = fc.record({ state: shape([1, 2, 3, 5, 7], 1, 3), dim: fc.integer({ min: -3, max: 2 }), n: fc.nat(8), o: fc.nat(8), fed: bool, seed })
    .map((r): FuzzCase => {
      const dim = dimOf(r.dim, r.state.length), d = norm(dim, r.state.length), size = r.state[d];
      const len = 1 + (r.n % size);
      return { op: 'assign', state: r.state, value: r.state.map((s, i) => (i === d ? len : s)), dim, offset: r.o % (size - len + 1), fed: r.fed, seed: r.seed };
    });
  const mlp = fc.record({ B: small, T: fc.constantFrom(1, 2, 3, 5, 7), K: dim, hidden: dim, approximate: fc.constantFrom('none', 'tanh'), eps: fc.constantFrom(1e-5, 1e-3), softmaxDim: fc.integer({ min: -3, max: 2 }), seed })
    .map(({ B, T, K, ...r }): FuzzCase => ({ op: 'chain:mlp', x: [B, T, K], ...r }));
  const block = fc.record({
    B: fc.constantFrom(1, 2, 3), T: fc.constantFrom(1, 2, 3, 5, 7, 13), heads: fc.constantFrom(1, 2, 3, 4), headDim: fc.constantFrom(1, 2, 4, 5, 8, 16),
    mask: fc.constantFrom('none', 'causal', 'padding'), lengths: fc.array(fc.nat(16), { minLength: 3, maxLength: 3 }), variant: attnVariant, seed,
  }).map(({ B: drawn, ...r }): FuzzCase => {
    const [B] = fitRows([drawn, r.heads], r.T); // attention over [B, heads] batches: B trimmed first
    return { op: 'chain:block', B, ...r, lengths: r.mask === 'padding' ? r.lengths.slice(0, B).map((n) => n % (r.T + 1)) : [] };
  });
  const classifier = fc.record({
    cell: fc.constantFrom('lstm', 'gru', 'rnn_tanh'), vocab: fc.constantFrom(2, 5, 17), E: fc.constantFrom(1, 3, 8), H: fc.constantFrom(...HIDDEN),
    T: fc.constantFrom(1, 2, 5, 9), B: fc.constantFrom(1, 3), classes: fc.constantFrom(1, 2, 5), lengths: fc.array(fc.nat(16), { minLength: 3, maxLength: 3 }), seed,
  }).map((r): FuzzCase => ({ op: 'chain:classifier', ...r, lengths: r.lengths.slice(0, r.B).map((n) => 1 + (n % r.T)) }));
  const step = fc.oneof(
    fc.record({ fn: fc.constantFrom('add', 'sub', 'mul'), ones: fc.nat(7), drop: fc.nat(2) }),
    fc.record({ fn: fc.constantFrom('relu', 'tanh', 'sigmoid', 'gelu') }),
  );
  const ew = fc.record({ x: shape([1, 2, 3, 5, 7, 13], 1, 3), xT: bool, steps: fc.array(step, { minLength: 1, maxLength: 4 }), seed })
    .map((r): FuzzCase => ({
      op: 'chain:ew', x: r.x, xT: r.xT && r.x.length >= 2, seed: r.seed,
      steps: r.steps.map((s): EwStep => ('ones' in s ? { fn: s.fn, operand: broadcastable(r.x, s.ones, Math.min(s.drop, r.x.length - 1)) } : { fn: s.fn })),
    }));

  return fc.oneof(
    { arbitrary: matmul, weight: 2 }, { arbitrary: linear, weight: 1 }, { arbitrary: binary, weight: 2 }, { arbitrary: unary, weight: 1 },
    { arbitrary: softmax, weight: 2 }, { arbitrary: layerNorm, weight: 2 }, { arbitrary: embedding, weight: 1 }, { arbitrary: attention, weight: 3 },
    { arbitrary: rnn, weight: 2 }, { arbitrary: slice, weight: 1 }, { arbitrary: concat, weight: 1 }, { arbitrary: gather, weight: 1 },
    { arbitrary: assign, weight: 1 }, { arbitrary: mlp, weight: 1 }, { arbitrary: block, weight: 1 }, { arbitrary: classifier, weight: 1 },
    { arbitrary: ew, weight: 1 }, { arbitrary: dtype, weight: 1 },
  );
}

/** One line a person can read: op, shapes, the options that are on, the data seed. */
export function describeCase(c: FuzzCase): string {
  const parts: string[] = [c.op];
  for (const [k, v] of Object.entries(c)) {
    if (k === 'op' || k === 'seed' || v === false || v === null || v === 'auto') continue;
    parts.push(v === true ? k : `${k}=${JSON.stringify(v)}`);
  }
  return `${parts.join(' ')} (data seed ${c.seed})`;
}

export interface FuzzResult extends ParityResult {
  case: string;
  why: string;
}

/** Builds the case, runs it on `rt` and on the CPU reference, and compares; a throw is a failure too. */
export async function runFuzzCase(rt: Runtime, c: FuzzCase): Promise<FuzzResult> {
  const id = describeCase(c);
  let tol: Tolerance | undefined;
  try {
    const built = buildCase(c);
    if (typeof built.tol === 'function') {
      const p = buildCase(c, true);
      const exe = await Runtime.cpu().compile(p.graph);
      tol = built.tol(await exe.run(p.feeds));
    } else tol = built.tol;
    const r = await runParity(rt, { id, kernel: built.kernel, tol, options: built.options, build: () => ({ graph: built.graph, feeds: built.feeds }) });
    return { ...r, case: id, why: tol.why };
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { id, ok: false, maxAbsErr: NaN, checked: 0, report: `${id}: threw ${msg}`, steps: [], dispatches: 0, case: id, why: tol?.why ?? '' };
  }
}

/**
 * Bounds shrinking, which recompiles every candidate: the first failure is printed at once, and
 * `seconds` after it every further candidate counts as passing
 * without running, so fast-check reports the smallest failure found by then instead of a test timeout.
 */
export function shrinkBudget(seconds: number) {
  let since: number | null = null;
  return {
    spent: () => since !== null && performance.now() - since > seconds * 1000,
    failed(message: string): never {
      if (since === null) {
        since = performance.now();
        console.error(`fuzz: first failure (shrinking for up to ${seconds} s):\n${message}`);
      }
      throw new Error(message);
    },
  };
}

/**
 * The fuzz seed: SEQGPU_FUZZ_SEED if set, else the first 8 hex digits of the commit (so a CI run can
 * be repeated), else a fixed one, said loudly because every run then tests the same cases.
 */
export function fuzzSeed(env: string | undefined, head: () => string): { seed: number; source: string } {
  if (env !== undefined && env !== '') {
    const seed = Number(env);
    if (!Number.isInteger(seed)) throw new Error(`SEQGPU_FUZZ_SEED must be an integer, got '${env}'`);
    return { seed, source: 'SEQGPU_FUZZ_SEED' };
  }
  try {
    const hash = head().trim();
    if (!/^[0-9a-f]{8}/.test(hash)) throw new Error(`unexpected output '${hash}'`);
    // As a signed 32-bit integer: the form fast-check prints in its report, so both read the same.
    return { seed: parseInt(hash.slice(0, 8), 16) | 0, source: `commit ${hash.slice(0, 8)}` };
  } catch (e) {
    const seed = 20240611;
    console.warn(`\n!!! FUZZ: git rev-parse HEAD failed (${e instanceof Error ? e.message : e}); using the FIXED seed ${seed}. !!!\n`);
    return { seed, source: 'fixed fallback (no git)' };
  }
}
