// The benchmark cases: for each, the seqgpu graph and its feeds, the op as the peers build it (the
// spec), which impls run it, the flop and byte counts behind GFLOP/s, GB/s and % of roofline, and
// the tolerance every impl is checked against. Weights are graph constants (uploaded once) in seqgpu
// and kept resident by the peers too; feeds are what every impl writes on every run.
import { Graph, MATMUL_VARIANTS, type Feeds, type Tensor } from '../src/index';
import { rnnParamNames } from '../src/graph/ir';
import { numel } from '../src/graph/shapes';
import { modelCases } from './models';
import type { Gpt2Spec } from './peers/ort-gpt2';

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** The op as an engine-neutral description: what the peers build their own version of. */
export type OpSpec =
  | { op: 'matmul'; M: number; K: number; N: number }
  | { op: 'softmax'; rows: number; len: number }
  | { op: 'layerNorm'; rows: number; len: number; eps: number }
  | { op: 'attention'; B: number; heads: number; Tq: number; Tk: number; D: number; mask: 'causal' | 'padded' | 'none'; validLens?: number[] }
  | { op: 'lstm' | 'gru'; T: number; B: number; I: number; H: number; layers: number; bidirectional: boolean }
  /**
   * A whole model's step: `items` (sequences, tokens) per run, for the throughput in the note; a
   * GPT-2 step also says what the ORT peer builds of it (bench/peers/ort-gpt2.ts).
   */
  | { op: 'model'; items: number; unit: string; gpt2?: Gpt2Spec };

export type Suite = 'matmul' | 'softmax' | 'layerNorm' | 'attention' | 'lstm' | 'gru' | 'model';

export const PEER_IMPLS = ['tfjs-webgpu', 'tfjs-webgpu:cell-loop', 'ort-webgpu', 'ort-webgpu:composed'] as const;
export type PeerImpl = (typeof PEER_IMPLS)[number];
export const isPeer = (impl: string): impl is PeerImpl => (PEER_IMPLS as readonly string[]).includes(impl);

/** A target of the issue: seqgpu's speed over the fastest TF.js impl and over ORT, and its % of roofline. */
export interface Target {
  text: string;
  vsTfjs?: number;
  vsOrt?: number;
  pctRoof?: number;
}

export interface BenchCase {
  suite: Suite;
  name: string;
  shape: string;
  /** seqgpu impls: 'seqgpu' (the engine's choice) and 'seqgpu:<variant>' rows. */
  engine: string[];
  peers: PeerImpl[];
  /** Part of a --quick run. */
  quick: boolean;
  /** One of the targets: its ratios are called out at the end. */
  target?: Target;
  flops: number;
  bytes: number;
  /** Which roofline figure % of roof is taken against. */
  roof: 'fma' | 'copy';
  tol: Tolerance;
  spec: OpSpec;
  /** The graph, the per-run feeds, and the constants (weights) as data for the peers. */
  build: () => { graph: Graph; feeds: Feeds; consts: Record<string, Float32Array> };
  /** What the case's fused kernels are measured against (the BASELINE_IMPL row), if anything. */
  baseline?: () => Baseline;
}

/** The impl of a case's baseline row: plain kernels doing the fused kernel's arithmetic, for its GPU time. */
export const BASELINE_IMPL = 'matmul-baseline';

/** A baseline graph with its feeds, its expected outputs and their tolerance, and its dispatches. */
export interface Baseline {
  graph: Graph;
  feeds: Feeds;
  want: Record<string, Float32Array>;
  tol: Tolerance;
  dispatches: number;
  /** For its GFLOP/s. */
  flops: number;
}

/** A seeded xorshift32 stream of floats in [-scale, scale): the page and Node get the same data. */
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

// One tolerance per case, the same for every impl: it separates an engine's rounding (f32 sums,
// a few-ulp exp and tanh) from a wrong result (an indexing or gate-order bug gives errors of 1e-1).
// matmul: f32 sums of K products of values in [-1, 1] err between sqrt(K) u and K u.
const matmulTol = (k: number): Tolerance => ({ atol: 4e-7 * k + 1e-7, rtol: 1e-5 });
const softmaxTol: Tolerance = { atol: 1e-6, rtol: 1e-4 };
const normTol: Tolerance = { atol: 2e-5, rtol: 1e-4 };
// Attention output is a convex mix of v rows in [-1, 1]; recurrent outputs are bounded by 1 and the
// error compounds over T steps of sigmoid/tanh.
const attnTol: Tolerance = { atol: 2e-5, rtol: 1e-4 };
const rnnTol: Tolerance = { atol: 5e-5, rtol: 1e-4 };

const ALL_PEERS: PeerImpl[] = ['tfjs-webgpu', 'ort-webgpu'];

/**
 * The register tile below 128 rows (16 x 16), forced beside the rule's on rows of 128 or more, where
 * SwiftShader's rule takes 32 x 16: the taller tile's effect, in the same run.
 */
const SQUARE_REGISTER = 'seqgpu:register/RM=16,RN=16,WG_NAIVE=16';

function matmulCase(name: string, M: number, K: number, N: number, opts: { quick?: boolean; target?: Target; variants?: boolean }): BenchCase {
  const variants = opts.variants ? MATMUL_VARIANTS.map((v) => `seqgpu:${v}`) : [];
  if (M >= 128 && N >= 16) variants.push(SQUARE_REGISTER);
  return {
    suite: 'matmul', name, shape: `${M}x${K}x${N}`, engine: ['seqgpu', ...variants], peers: ALL_PEERS,
    quick: !!opts.quick, target: opts.target,
    flops: 2 * M * N * K, bytes: 4 * (M * K + K * N + M * N), roof: 'fma', tol: matmulTol(K),
    spec: { op: 'matmul', M, K, N },
    build: () => {
      const g = new Graph();
      const a = g.input('a', [M, K]), b = g.input('b', [K, N]);
      g.output('y', g.matmul(a, b));
      return { graph: g, feeds: { a: uniform(M * K, M + K), b: uniform(K * N, K + N + 1) }, consts: {} };
    },
  };
}

function softmaxCase(rows: number, len: number, target?: Target): BenchCase {
  return {
    suite: 'softmax', name: `softmax-${rows}x${len}`, shape: `${rows}x${len}`, engine: ['seqgpu'], peers: ALL_PEERS,
    quick: !!target, target,
    // The byte model: x read twice (max and sum, then normalise) and y written once.
    flops: 0, bytes: 4 * 3 * rows * len, roof: 'copy', tol: softmaxTol,
    spec: { op: 'softmax', rows, len },
    build: () => {
      const g = new Graph();
      g.output('y', g.softmax(g.input('x', [rows, len]), -1));
      return { graph: g, feeds: { x: uniform(rows * len, rows * 7 + len, 6) }, consts: {} };
    },
  };
}

function layerNormCase(rows: number, len: number, quick = false): BenchCase {
  const eps = 1e-5;
  return {
    suite: 'layerNorm', name: `layerNorm-${rows}x${len}`, shape: `${rows}x${len}`, engine: ['seqgpu'], peers: ALL_PEERS,
    quick, flops: 0, bytes: 4 * 3 * rows * len, roof: 'copy', tol: normTol,
    spec: { op: 'layerNorm', rows, len, eps },
    build: () => {
      const weight = uniform(len, len + 3, 2), bias = uniform(len, len + 5);
      const g = new Graph();
      const y = g.layerNorm(g.input('x', [rows, len]), [len], g.constant(weight, [len]), g.constant(bias, [len]), eps);
      g.output('y', y);
      return { graph: g, feeds: { x: uniform(rows * len, rows + len, 3) }, consts: { weight, bias } };
    },
  };
}

/** q, k, v are [B, heads, T, D]; a padded case masks keys past each batch's valid length. */
function attentionCase(
  kind: 'causal' | 'padded' | 'decode', B: number, heads: number, Tq: number, Tk: number, D: number,
  opts: { quick?: boolean; target?: Target; validLens?: number[] } = {},
): BenchCase {
  const mask = kind === 'causal' ? 'causal' : kind === 'padded' ? 'padded' : 'none';
  const validLens = opts.validLens;
  return {
    suite: 'attention', name: `attn-${kind}-T${Tk}`, shape: `${B}x${heads}x${Tq}x${Tk}x${D}`, engine: ['seqgpu'],
    peers: [...ALL_PEERS, 'ort-webgpu:composed'],
    quick: !!opts.quick, target: opts.target,
    // q·kᵀ and p·v: 2 flops per multiply-add each (the causal half is counted whole, as peers compute it).
    flops: 4 * B * heads * Tq * Tk * D, bytes: 4 * B * heads * D * (2 * Tq + 2 * Tk), roof: 'fma', tol: attnTol,
    spec: { op: 'attention', B, heads, Tq, Tk, D, mask, validLens },
    build: () => {
      const g = new Graph();
      const q = g.input('q', [B, heads, Tq, D]), k = g.input('k', [B, heads, Tk, D]), v = g.input('v', [B, heads, Tk, D]);
      let y: Tensor;
      if (mask === 'padded') {
        const m = new Uint8Array(B * Tk);
        for (let b = 0; b < B; b++) for (let t = 0; t < Tk; t++) m[b * Tk + t] = t < validLens![b] ? 1 : 0;
        // A bool mask, true = attend, broadcast over heads and queries: [B, 1, 1, Tk].
        const mt = g.input('mask', [B, 1, 1, Tk], 'bool');
        y = g.scaledDotProductAttention(q, k, v, { attnMask: mt });
        g.output('y', y);
        return { graph: g, feeds: { ...attnFeeds(B, heads, Tq, Tk, D), mask: m }, consts: {} };
      }
      y = g.scaledDotProductAttention(q, k, v, { isCausal: mask === 'causal' });
      g.output('y', y);
      return { graph: g, feeds: attnFeeds(B, heads, Tq, Tk, D), consts: {} };
    },
  };
}

function attnFeeds(B: number, N: number, Tq: number, Tk: number, D: number): Feeds {
  return { q: uniform(B * N * Tq * D, 11 + Tq), k: uniform(B * N * Tk * D, 12 + Tk), v: uniform(B * N * Tk * D, 13 + Tk) };
}

interface RnnRowOpts {
  quick?: boolean;
  target?: Target;
  layers?: number;
  bidirectional?: boolean;
  /** Run the peers on this row (the issue: rows of T = 16 or B <= 8; the others would take minutes). */
  peers?: boolean;
  /** Forced engine variants timed beside the engine's choice (`seqgpu:<variant>[/K=V,...]`). */
  variants?: string[];
}

/**
 * torch.nn.LSTM / GRU, x [T, B, I], output y [T, B, D·H]; zero h0 (and c0). Its `baseline` is the
 * per-step GEMM the recurrence fuses: L·T matmul dispatches of [D, B, H] x [D, H, G·H] in one submit.
 */
function rnnCase(cell: 'lstm' | 'gru', T: number, B: number, I: number, H: number, opts: RnnRowOpts = {}): BenchCase {
  const G = cell === 'lstm' ? 4 : 3;
  const L = opts.layers ?? 1, D = opts.bidirectional ? 2 : 1;
  const peers: PeerImpl[] = opts.peers === false ? [] : cell === 'lstm' ? ['tfjs-webgpu', 'tfjs-webgpu:cell-loop', 'ort-webgpu'] : ALL_PEERS;
  const stack = L > 1 || D > 1 ? `-L${L}${D > 1 ? '-bi' : ''}` : '';
  // Per layer and direction: the input projection (I, then D·H wide) and the recurrence (H wide).
  const inputs = (l: number) => (l === 0 ? I : D * H);
  let flops = 0, weights = 0;
  for (let l = 0; l < L; l++) {
    flops += 2 * T * B * G * H * (inputs(l) + H) * D;
    weights += G * H * (inputs(l) + H) * D;
  }
  return {
    suite: cell, name: `${cell}-T${T}-B${B}-H${H}${stack}`, shape: `${T}x${B}x${I}x${H}`, engine: ['seqgpu', ...(opts.variants ?? [])], peers,
    quick: !!opts.quick, target: opts.target,
    flops, bytes: 4 * (weights + T * B * (I + D * H)), roof: 'fma', tol: rnnTol,
    spec: { op: cell, T, B, I, H, layers: L, bidirectional: D > 1 },
    baseline: () => perStepMatmul(T * L, D, B, H, G),
    build: () => {
      // PyTorch's init range: U(-1/sqrt(H), 1/sqrt(H)).
      const s = 1 / Math.sqrt(H);
      const consts: Record<string, Float32Array> = {};
      const shapes: Record<string, number[]> = {};
      let seed = 21 + H;
      for (const name of rnnParamNames(L, D, true)) {
        const l = Number(/_l(\d+)/.exec(name)![1]);
        shapes[name] = name.startsWith('weight_ih') ? [G * H, inputs(l)] : name.startsWith('weight_hh') ? [G * H, H] : [G * H];
        consts[name] = uniform(numel(shapes[name]), seed++, s);
      }
      const g = new Graph();
      const params = Object.fromEntries(Object.entries(consts).map(([k, v]) => [k, g.constant(v, shapes[k])]));
      const x = g.input('x', [T, B, I]);
      const o = { hiddenSize: H, numLayers: L, bidirectional: D > 1 };
      g.output('y', cell === 'lstm' ? g.lstm(x, params, o).output : g.gru(x, params, o).output);
      return { graph: g, feeds: { x: uniform(T * B * I, 31 + T * B) }, consts };
    },
  };
}

/**
 * `n` chained matmuls h·W_hhᵀ of the per-step shape, each a dispatch (y_i = h·Wᵀ + y_(i-1): the add
 * folds into the matmul as its residual), so the GPU time of n plain GEMMs of one step's size, in
 * one submit, stands beside the fused recurrence's. The reference is n·(h·Wᵀ), in float64.
 */
function perStepMatmul(n: number, D: number, B: number, H: number, G: number): Baseline {
  const g = new Graph();
  const hData = uniform(D * B * H, 61 + B), wData = uniform(D * G * H * H, 62 + H, 1 / Math.sqrt(H));
  const h = g.input('h', D > 1 ? [D, B, H] : [B, H]);
  const w = g.constant(wData, D > 1 ? [D, G * H, H] : [G * H, H]);
  const wt = D > 1 ? g.transpose(w, 1, 2) : g.transpose(w, 0, 1);
  let y = g.matmul(h, wt);
  for (let i = 1; i < n; i++) y = g.add(g.matmul(h, wt), y);
  g.output('y', y);
  const want = new Float32Array(D * B * G * H);
  for (let d = 0; d < D; d++) {
    for (let b = 0; b < B; b++) {
      for (let r = 0; r < G * H; r++) {
        let acc = 0;
        for (let k = 0; k < H; k++) acc += hData[(d * B + b) * H + k] * wData[(d * G * H + r) * H + k];
        want[(d * B + b) * G * H + r] = n * acc;
      }
    }
  }
  // Each term errs as a K = H matmul does; n of them add up, and the running sum rounds n times.
  const tol = matmulTol(H);
  return {
    graph: g, feeds: { h: hData }, want: { y: want }, tol: { atol: n * tol.atol, rtol: tol.rtol + n * 1.2e-7 }, dispatches: n,
    flops: 2 * n * D * B * G * H * H,
  };
}

export function kernelCases(): BenchCase[] {
  return [
    matmulCase('matmul-128', 128, 128, 128, { variants: true }),
    matmulCase('matmul-256', 256, 256, 256, { quick: true, target: { text: 'matmul 256³: ≥3x TF.js and ORT, ≥25% of fma peak', vsTfjs: 3, vsOrt: 3, pctRoof: 25 }, variants: true }),
    matmulCase('matmul-384', 384, 384, 384, { variants: true }),
    matmulCase('matmul-512', 512, 512, 512, { quick: true, target: { text: 'matmul 512³: ≥3x TF.js and ORT, ≥25% of fma peak', vsTfjs: 3, vsOrt: 3, pctRoof: 25 }, variants: true }),
    // Model shapes: an LSTM's input projection (T·B = 128 rows), a Transformer MLP, a decode step's logits.
    matmulCase('matmul-rnn-proj', 128, 64, 256, {}),
    matmulCase('matmul-mlp', 64, 256, 1024, {}),
    matmulCase('matmul-logits', 1, 256, 4096, {}),
    softmaxCase(64, 1024, { text: 'softmax 64x1024: ≥3x TF.js, ≥70% of copy bandwidth', vsTfjs: 3, pctRoof: 70 }),
    softmaxCase(256, 4096),
    softmaxCase(1024, 1024),
    layerNormCase(64, 1024, true),
    layerNormCase(1024, 1024),
    attentionCase('causal', 1, 4, 16, 16, 64, { quick: true, target: { text: 'attention T=16: ≥3x ORT MultiHeadAttention', vsOrt: 3 } }),
    attentionCase('causal', 1, 4, 128, 128, 64, { quick: true, target: { text: 'attention T=128: ≥3x ORT MultiHeadAttention', vsOrt: 3 } }),
    attentionCase('padded', 2, 4, 128, 128, 64, { validLens: [128, 77] }),
    attentionCase('decode', 1, 4, 1, 128, 64),
    rnnCase('lstm', 16, 1, 64, 64, { quick: true, target: { text: 'LSTM T=16 I=H=64 B=1: ≥5x ORT, ≥20x TF.js (its faster of tf.layers.lstm and the cell loop)', vsTfjs: 20, vsOrt: 5 } }),
    rnnCase('lstm', 16, 8, 64, 64),
    rnnCase('lstm', 64, 8, 128, 128),
    // Scale: batch 64, hidden 256 and 512, T = 128, a 2-layer bidirectional stack. The peers run
    // where T = 16 or B <= 8; at T = 32, B = 64 they would take minutes a run.
    // Beside the engine's choice: the per-row step (W_hh read once per batch row, the choice before
    // the batch tiles) and a shorter tile, so the batch tiling's effect is measured in the same run.
    rnnCase('lstm', 16, 64, 128, 128, { variants: ['seqgpu:step', 'seqgpu:tiled-vec4/BT=4,UNITS=64'] }),
    rnnCase('lstm', 128, 8, 128, 128),
    rnnCase('lstm', 16, 8, 256, 256),
    rnnCase('lstm', 16, 8, 512, 512),
    rnnCase('lstm', 32, 64, 256, 256, { peers: false }),
    rnnCase('lstm', 16, 8, 128, 128, { layers: 2, bidirectional: true }),
    rnnCase('gru', 16, 1, 64, 64, { quick: true }),
    rnnCase('gru', 16, 8, 64, 64),
    rnnCase('gru', 16, 64, 128, 128),
  ];
}

/** Every case: the kernel suites, then the models (bench/models.ts). */
export function benchCases(): BenchCase[] {
  return [...kernelCases(), ...modelCases()];
}

/** Every impl of a case, in row order: the engine, its baseline, the CPU reference, then the peers. */
export function caseImpls(c: BenchCase, withPeers: boolean): string[] {
  return [...c.engine, ...(c.baseline ? [BASELINE_IMPL] : []), 'cpu-reference', ...(withPeers ? c.peers : [])];
}

/** The text --filter matches against: `suite name shape impl`. */
export const runKey = (c: BenchCase, impl: string): string => `${c.suite} ${c.name} ${c.shape} ${impl}`;
