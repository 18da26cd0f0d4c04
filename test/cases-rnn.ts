// Parity cases for the recurrent kernels (shaders/rnn.wgsl, one shader for every cell, and the input-projection
// matmul): a covering set of T, H, B, layers, directions, batchFirst, h0/c0 and bias, every variant forced
// somewhere, weights as constants (a bidirectional layer then packs into one GEMM) and as inputs; then the
// batch sizes (3, 8, 64, 65 at H = 33, and at H = 36 for vec4 loads) and hidden sizes (1, 256, 512 at
// B = 3) of the batch-tiled step, each variant, tile height (BT 1 to 16) and width (UT 1, 2, 4) forced on some of them.
import { Graph, type CompileOptions, type Runtime, type Tensor } from '../src/index';
import type { Cell } from '../src/graph/graph';
import { GATES, rnnParamNames } from '../src/graph/ir';
import { numel } from '../src/graph/shapes';
import type { RnnVariant } from '../src/kernels/rnn';
import { randn, type ParityCase, type Tolerance } from './parity';

export interface RnnSpec {
  cell: Cell;
  T: number;
  B: number;
  I: number;
  H: number;
  layers?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
  h0?: boolean;
  c0?: boolean;
  bias?: boolean;
  /** Weights as g.constant (else g.input, fed each run). */
  constants?: boolean;
  /** W_ih and W_hh stored transposed ([in, GH]) and passed as g.transpose: strided views, read without a copy. */
  transposed?: boolean;
  variant?: RnnVariant;
  /** Override constants (KL lanes per dot product, UNITS per tile): the k-split path a GPU gets. */
  lanes?: { KL: number; UNITS: number };
  /**
   * Override constants of the tiled variant (BT rows x UT units per thread, UNITS x ROWS threads per
   * workgroup), and ONE_DIR for any variant that steps (a dispatch per direction, or one for both).
   */
  tile?: { BT?: number; UT?: number; UNITS?: number; ROWS?: number; ONE_DIR?: boolean };
}

/**
 * Each gate's pre-activation is an f32 sum of I + H + 2 terms of size about 1/sqrt(H) (torch's init
 * scale): error about sqrt(I + H) u per step. The cells are contractive (σ' <= 1/4, tanh' <= 1), so the
 * error carried from step to step stays near one step's; through L layers it adds up. WGSL exp and
 * tanh are a few ulp. atol = 2e-7 * sqrt(I + H) * L + 1e-6 sits 9x or more above the largest error
 * lavapipe and SwiftShader show on these cases (2.5e-7), and far below the O(0.1) error of an indexing
 * bug. Relu cells are not contractive, so they get an rtol as well.
 */
export function rnnTol(s: RnnSpec): Tolerance {
  const L = s.layers ?? 1;
  return {
    atol: 2e-7 * Math.sqrt(s.I + s.H) * L + 1e-6,
    rtol: s.cell === 'rnn_relu' ? 1e-5 : 1e-6,
    why: 'f32 dot products of I + H terms per gate, contractive cells over T steps, WGSL exp/tanh a few ulp; relu cells also relative',
  };
}

let seed = 9000;

/** A torch-initialised stack: weights and biases uniform in ±1/sqrt(H). */
export function buildRnn(s: RnnSpec): { graph: Graph; feeds: Record<string, Float32Array> } {
  const g = new Graph();
  const L = s.layers ?? 1, D = s.bidirectional ? 2 : 1, bias = s.bias ?? true;
  const G = GATES[s.cell] * s.H;
  const k = 1 / Math.sqrt(s.H);
  const feeds: Record<string, Float32Array> = {};
  const xShape = s.batchFirst ? [s.B, s.T, s.I] : [s.T, s.B, s.I];
  feeds.x = randn(numel(xShape), seed++);
  const x = g.input('x', xShape);
  const params: Record<string, Tensor> = {};
  for (const name of rnnParamNames(L, D, bias)) {
    const layer = Number(/_l(\d+)/.exec(name)![1]);
    let shape = name.startsWith('weight_ih') ? [G, layer === 0 ? s.I : D * s.H] : name.startsWith('weight_hh') ? [G, s.H] : [G];
    const transpose = s.transposed && name.startsWith('weight_');
    if (transpose) shape = [shape[1], shape[0]];
    const data = randn(numel(shape), seed++, k);
    let t: Tensor;
    if (s.constants) t = g.constant(data, shape);
    else {
      t = g.input(name, shape);
      feeds[name] = data;
    }
    params[name] = transpose ? g.transpose(t, 0, 1) : t;
  }
  const state = [D * L, s.B, s.H];
  const h0 = s.h0 ? g.input('h0', state) : undefined;
  const c0 = s.c0 ? g.input('c0', state) : undefined;
  if (s.h0) feeds.h0 = randn(numel(state), seed++);
  if (s.c0) feeds.c0 = randn(numel(state), seed++);
  const opts = { hiddenSize: s.H, numLayers: L, bidirectional: s.bidirectional, batchFirst: s.batchFirst, bias, h0, c0 };
  if (s.cell === 'lstm') {
    const r = g.lstm(x, params, opts);
    g.output('output', r.output);
    g.output('hN', r.hN);
    g.output('cN', r.cN);
  } else {
    const r = s.cell === 'gru' ? g.gru(x, params, opts) : g.rnn(x, params, { ...opts, nonlinearity: s.cell === 'rnn_relu' ? 'relu' : 'tanh' });
    g.output('output', r.output);
    g.output('hN', r.hN);
  }
  return { graph: g, feeds };
}

/**
 * The dispatches a stack costs: per layer, one GEMM per direction (one when its weights are constants)
 * plus the recurrence, whose steps take a dispatch per direction where `split` (ONE_DIR).
 */
export function rnnDispatches(s: RnnSpec, variant: RnnVariant, split = false): number {
  const L = s.layers ?? 1, D = s.bidirectional ? 2 : 1;
  const gemms = s.constants || D === 1 ? 1 : 2;
  return L * (gemms + (variant === 'persistent' ? 1 : s.T * (split ? D : 1)));
}

/** Whether a stack's recurrence splits its directions on `rt`: as forced (ONE_DIR), else on SwiftShader. */
export const splitsOn = (s: RnnSpec, rt: Runtime): boolean =>
  s.tile?.ONE_DIR ?? /swiftshader/i.test(`${rt.info.adapter.architecture} ${rt.info.adapter.description}`);

function describe(s: RnnSpec): string {
  const name = s.cell === 'rnn_tanh' ? 'rnn tanh' : s.cell === 'rnn_relu' ? 'rnn relu' : s.cell;
  const parts = [`T${s.T} B${s.B} I${s.I} H${s.H}`];
  if ((s.layers ?? 1) > 1) parts.push(`${s.layers} layers`);
  if (s.bidirectional) parts.push('bidirectional');
  if (s.batchFirst) parts.push('batchFirst');
  if (s.h0) parts.push(s.c0 ? 'h0 c0' : 'h0');
  if (s.bias === false) parts.push('no bias');
  parts.push(s.constants ? 'constant weights' : 'fed weights');
  if (s.lanes) parts.push(`KL ${s.lanes.KL} x UNITS ${s.lanes.UNITS}`);
  if (s.tile) parts.push(Object.entries(s.tile).map(([k, v]) => `${k} ${v}`).join(' x '));
  if (s.transposed) parts.push('weights as transposed views');
  return `${name} ${s.variant ?? 'auto'}: ${parts.join(', ')}`;
}

function rnnCase(s: RnnSpec): ParityCase {
  const family = s.cell.startsWith('rnn') ? 'rnn' : s.cell;
  const options: CompileOptions = {};
  if (s.variant) options.variants = { [family]: s.variant };
  if (s.lanes || s.tile) options.constants = { [family]: { ...s.lanes, ...s.tile } };
  return {
    id: describe(s), kernel: family, tol: rnnTol(s), options,
    dispatches: s.variant ? (rt: Runtime) => rnnDispatches(s, s.variant!, splitsOn(s, rt)) : undefined,
    build: () => buildRnn(s),
  };
}

export const rnnSpecs: RnnSpec[] = [
  // LSTM: both variants over the sizes; the persistent one also on H = 130 (three unit tiles per step).
  { cell: 'lstm', T: 1, B: 1, I: 3, H: 1, variant: 'step' },
  { cell: 'lstm', T: 1, B: 1, I: 3, H: 1, variant: 'persistent', h0: true, c0: true },
  { cell: 'lstm', T: 2, B: 3, I: 4, H: 5, variant: 'persistent', h0: true, c0: true },
  { cell: 'lstm', T: 2, B: 3, I: 4, H: 5, variant: 'step', h0: true },
  { cell: 'lstm', T: 17, B: 3, I: 7, H: 33, layers: 2, bidirectional: true, constants: true, variant: 'step' },
  { cell: 'lstm', T: 17, B: 3, I: 7, H: 33, layers: 2, bidirectional: true, constants: true, variant: 'persistent' },
  { cell: 'lstm', T: 64, B: 1, I: 16, H: 130, batchFirst: true, constants: true, variant: 'step' },
  { cell: 'lstm', T: 64, B: 1, I: 9, H: 5, h0: true, c0: true },
  { cell: 'lstm', T: 17, B: 3, I: 5, H: 130, bidirectional: true, batchFirst: true, h0: true, c0: true, variant: 'step' },
  { cell: 'lstm', T: 2, B: 3, I: 6, H: 130, bidirectional: true, layers: 2, h0: true, c0: true, variant: 'persistent' },
  { cell: 'lstm', T: 17, B: 1, I: 8, H: 33, layers: 2, bias: false, constants: true },
  { cell: 'lstm', T: 17, B: 3, I: 5, H: 5, bidirectional: true, batchFirst: true, h0: true, c0: true, constants: true, variant: 'persistent' },
  { cell: 'lstm', T: 2, B: 3, I: 6, H: 33, c0: true, bias: false, bidirectional: true, variant: 'step' },
  { cell: 'lstm', T: 17, B: 3, I: 12, H: 33, transposed: true, bidirectional: true, constants: true },
  { cell: 'gru', T: 5, B: 2, I: 12, H: 33, transposed: true, bidirectional: true, variant: 'step' },
  // The k-split path (KL lanes per dot product, a barrier and a reduction), the default on GPUs.
  { cell: 'lstm', T: 17, B: 3, I: 7, H: 33, bidirectional: true, constants: true, h0: true, c0: true, variant: 'step', lanes: { KL: 16, UNITS: 8 } },
  { cell: 'lstm', T: 17, B: 3, I: 7, H: 130, layers: 2, constants: true, variant: 'persistent', lanes: { KL: 4, UNITS: 64 } },
  { cell: 'gru', T: 17, B: 3, I: 7, H: 33, bidirectional: true, h0: true, variant: 'persistent', lanes: { KL: 8, UNITS: 16 } },
  { cell: 'rnn_tanh', T: 17, B: 3, I: 7, H: 5, bidirectional: true, h0: true, constants: true, variant: 'step', lanes: { KL: 4, UNITS: 2 } },
  // GRU
  { cell: 'gru', T: 1, B: 1, I: 2, H: 1, variant: 'step' },
  { cell: 'gru', T: 17, B: 3, I: 6, H: 33, layers: 2, bidirectional: true, constants: true, h0: true, variant: 'step' },
  { cell: 'gru', T: 17, B: 3, I: 6, H: 33, layers: 2, bidirectional: true, constants: true, h0: true, variant: 'persistent' },
  { cell: 'gru', T: 64, B: 1, I: 4, H: 5, batchFirst: true, bias: false, variant: 'persistent' },
  { cell: 'gru', T: 2, B: 3, I: 7, H: 130, bidirectional: true, h0: true, variant: 'step' },
  { cell: 'gru', T: 17, B: 3, I: 7, H: 130, batchFirst: true, variant: 'persistent' },
  // Elman RNN, tanh and relu
  { cell: 'rnn_tanh', T: 17, B: 3, I: 5, H: 33, layers: 2, bidirectional: true, constants: true, h0: true, variant: 'step' },
  { cell: 'rnn_tanh', T: 64, B: 1, I: 3, H: 130, variant: 'persistent' },
  { cell: 'rnn_tanh', T: 2, B: 3, I: 4, H: 1, batchFirst: true, h0: true, variant: 'persistent' },
  { cell: 'rnn_relu', T: 17, B: 3, I: 6, H: 5, batchFirst: true, variant: 'step' },
  { cell: 'rnn_relu', T: 2, B: 3, I: 6, H: 33, bidirectional: true, h0: true, bias: false, layers: 2, variant: 'persistent' },
  { cell: 'rnn_relu', T: 64, B: 1, I: 8, H: 130, constants: true, variant: 'step' },
  // Batch sizes at H = 33 (a unit tile never divides it): the tiled step with the engine's tile (B =
  // 65: rows spread over the tiles, the last partial) and forced ones (BT 1 to 16, ROWS > 1, a last
  // tile partial), and the other variants at the same sizes.
  { cell: 'lstm', T: 5, B: 3, I: 7, H: 33, variant: 'tiled', h0: true, c0: true },
  { cell: 'lstm', T: 5, B: 8, I: 7, H: 33, variant: 'tiled', bidirectional: true, constants: true, tile: { BT: 4, UT: 1, UNITS: 16, ROWS: 2 } },
  { cell: 'lstm', T: 5, B: 8, I: 7, H: 33, variant: 'tiled', h0: true, c0: true, tile: { BT: 8, UNITS: 32 } },
  { cell: 'gru', T: 5, B: 8, I: 6, H: 33, variant: 'tiled', batchFirst: true, h0: true, tile: { BT: 3, UT: 2, UNITS: 8 } },
  { cell: 'rnn_relu', T: 5, B: 8, I: 6, H: 33, variant: 'tiled', bidirectional: true, h0: true, tile: { BT: 2, UT: 4, UNITS: 32, ROWS: 4 } },
  { cell: 'lstm', T: 4, B: 64, I: 5, H: 33, variant: 'tiled', layers: 2, constants: true },
  { cell: 'rnn_tanh', T: 4, B: 64, I: 5, H: 33, variant: 'tiled', h0: true, tile: { BT: 3, UNITS: 4, ROWS: 8 } },
  { cell: 'lstm', T: 3, B: 65, I: 4, H: 33, variant: 'tiled', h0: true, c0: true, bidirectional: true, batchFirst: true },
  { cell: 'gru', T: 3, B: 65, I: 4, H: 33, variant: 'tiled', transposed: true, tile: { BT: 1, UNITS: 64, ROWS: 4 } },
  { cell: 'rnn_relu', T: 3, B: 65, I: 4, H: 33, variant: 'tiled', bias: false, tile: { BT: 4, UNITS: 1, ROWS: 2 } },
  { cell: 'gru', T: 3, B: 65, I: 4, H: 33, variant: 'tiled', h0: true, batchFirst: true, tile: { BT: 7, UNITS: 16, ROWS: 2 } },
  { cell: 'rnn_tanh', T: 3, B: 64, I: 4, H: 33, variant: 'tiled', bidirectional: true, tile: { BT: 5, UNITS: 64 } },
  { cell: 'lstm', T: 3, B: 64, I: 4, H: 33, variant: 'tiled', h0: true, c0: true, tile: { BT: 16, UT: 2, UNITS: 4 } },
  { cell: 'gru', T: 3, B: 65, I: 4, H: 33, variant: 'tiled', bidirectional: true, tile: { BT: 16, UT: 4, UNITS: 2, ROWS: 2 } },
  { cell: 'lstm', T: 3, B: 8, I: 5, H: 33, variant: 'persistent', h0: true, c0: true },
  { cell: 'rnn_tanh', T: 3, B: 8, I: 5, H: 33, variant: 'step', lanes: { KL: 4, UNITS: 8 } },
  { cell: 'lstm', T: 3, B: 64, I: 5, H: 33, variant: 'step', batchFirst: true },
  { cell: 'gru', T: 3, B: 65, I: 5, H: 33, variant: 'persistent', h0: true },
  // tiled-vec4 (H % 4 == 0: H = 36, nine k quads, a partial unit tile) over the same batch sizes.
  { cell: 'lstm', T: 5, B: 3, I: 7, H: 36, variant: 'tiled-vec4', h0: true, c0: true, bidirectional: true },
  { cell: 'gru', T: 5, B: 8, I: 6, H: 36, variant: 'tiled-vec4', batchFirst: true, h0: true, tile: { BT: 3, UT: 1, UNITS: 16, ROWS: 2 } },
  { cell: 'lstm', T: 5, B: 8, I: 6, H: 36, variant: 'tiled-vec4', bidirectional: true, h0: true, c0: true, tile: { BT: 8, UT: 2, UNITS: 8 } },
  { cell: 'gru', T: 4, B: 64, I: 5, H: 36, variant: 'tiled-vec4', constants: true, tile: { BT: 6, UT: 4, UNITS: 32, ROWS: 2 } },
  { cell: 'lstm', T: 4, B: 64, I: 5, H: 36, variant: 'tiled-vec4', layers: 2, constants: true, tile: { BT: 1, UT: 1, UNITS: 32, ROWS: 4 } },
  { cell: 'rnn_relu', T: 4, B: 64, I: 5, H: 36, variant: 'tiled-vec4', h0: true, bias: false },
  { cell: 'lstm', T: 3, B: 65, I: 4, H: 36, variant: 'tiled-vec4', batchFirst: true, constants: true, tile: { BT: 2, UNITS: 8, ROWS: 8 } },
  { cell: 'gru', T: 3, B: 65, I: 4, H: 36, variant: 'tiled-vec4', bidirectional: true, h0: true },
  { cell: 'rnn_relu', T: 3, B: 65, I: 4, H: 36, variant: 'tiled-vec4', tile: { BT: 7, UNITS: 64 } },
  { cell: 'lstm', T: 3, B: 65, I: 4, H: 36, variant: 'tiled-vec4', h0: true, c0: true, bidirectional: true, tile: { BT: 16, UT: 4, UNITS: 4 } },
  { cell: 'rnn_tanh', T: 3, B: 64, I: 4, H: 36, variant: 'tiled-vec4', batchFirst: true, tile: { BT: 16, UT: 1, UNITS: 8 } },
  { cell: 'rnn_tanh', T: 3, B: 5, I: 4, H: 4, variant: 'tiled-vec4', layers: 2, bidirectional: true, h0: true },
  // ONE_DIR forced: a bidirectional layer's steps as a dispatch per direction (true, the rule on
  // SwiftShader) or one for both (false, elsewhere), so each runtime runs both paths.
  { cell: 'lstm', T: 5, B: 3, I: 7, H: 33, variant: 'step', bidirectional: true, layers: 2, h0: true, c0: true, tile: { ONE_DIR: true } },
  { cell: 'gru', T: 5, B: 3, I: 6, H: 33, variant: 'step', bidirectional: true, h0: true, tile: { ONE_DIR: false } },
  { cell: 'rnn_relu', T: 5, B: 3, I: 4, H: 5, variant: 'step', bidirectional: true, h0: true, tile: { ONE_DIR: true } },
  { cell: 'gru', T: 5, B: 8, I: 6, H: 33, variant: 'tiled', bidirectional: true, h0: true, transposed: true, tile: { BT: 3, UT: 2, UNITS: 8, ONE_DIR: true } },
  { cell: 'lstm', T: 3, B: 8, I: 4, H: 33, variant: 'tiled', bidirectional: true, constants: true, tile: { ONE_DIR: false } },
  { cell: 'lstm', T: 5, B: 8, I: 6, H: 36, variant: 'tiled-vec4', bidirectional: true, h0: true, c0: true, tile: { BT: 16, UT: 4, UNITS: 4, ONE_DIR: true } },
  { cell: 'gru', T: 4, B: 65, I: 5, H: 36, variant: 'tiled-vec4', bidirectional: true, batchFirst: true, tile: { ONE_DIR: true } },
  { cell: 'rnn_tanh', T: 4, B: 65, I: 5, H: 36, variant: 'tiled-vec4', bidirectional: true, layers: 2, constants: true, tile: { ONE_DIR: false } },
  // Hidden sizes at B = 3, T <= 5: H = 1 (G lanes of one unit), 256 and 512 (a long k loop, several unit tiles).
  { cell: 'lstm', T: 5, B: 3, I: 4, H: 1, variant: 'tiled' },
  { cell: 'gru', T: 5, B: 3, I: 4, H: 1, variant: 'tiled', h0: true, tile: { BT: 2, UT: 4, UNITS: 1, ROWS: 2 } },
  { cell: 'rnn_tanh', T: 5, B: 3, I: 2, H: 1, variant: 'step', bidirectional: true },
  { cell: 'lstm', T: 4, B: 3, I: 8, H: 256, variant: 'tiled-vec4', h0: true, c0: true },
  { cell: 'lstm', T: 2, B: 3, I: 8, H: 256, variant: 'tiled', batchFirst: true },
  { cell: 'gru', T: 3, B: 3, I: 8, H: 256, variant: 'step', bidirectional: true },
  { cell: 'rnn_tanh', T: 5, B: 3, I: 8, H: 256, variant: 'persistent', h0: true },
  { cell: 'lstm', T: 3, B: 3, I: 8, H: 512, variant: 'tiled', constants: true, tile: { BT: 1, UNITS: 128, ROWS: 2 } },
  { cell: 'gru', T: 3, B: 3, I: 8, H: 512, variant: 'tiled-vec4', bidirectional: true, batchFirst: true, h0: true },
  { cell: 'rnn_tanh', T: 3, B: 3, I: 8, H: 512, variant: 'tiled-vec4', constants: true, tile: { BT: 2, UT: 2, UNITS: 16, ROWS: 4 } },
  { cell: 'rnn_relu', T: 3, B: 3, I: 8, H: 512, variant: 'tiled', tile: { BT: 3, UT: 1, UNITS: 256 } },
  { cell: 'lstm', T: 2, B: 3, I: 8, H: 512, variant: 'step', h0: true },
  { cell: 'lstm', T: 2, B: 3, I: 8, H: 512, variant: 'persistent', c0: true },
];

/**
 * NaN, +-inf and 1e30 in x, and NaN in h0 (and c0), each in its own batch row, so the others stay
 * finite: NaN spreads to every unit of its row from its step on (through W_hh), +-inf and 1e30
 * saturate the gates (a relu cell carries inf on, and inf - inf makes NaN). In a relu cell 1e30 sits at
 * the last step, where its huge h meets no further sums.
 */
function specialRnnCase(s: RnnSpec): ParityCase {
  const c = rnnCase(s);
  return {
    ...c, id: `${c.id}, NaN, +-inf and 1e30 in x, NaN in h0${s.c0 ? ' and c0' : ''}`,
    build: () => {
      const built = buildRnn(s);
      const { x, h0, c0 } = built.feeds;
      const at = (t: number, b: number, i: number) => (s.batchFirst ? b * s.T + t : t * s.B + b) * s.I + i;
      x[at(1, 0, 0)] = NaN;
      x[at(0, 1, 1)] = Infinity;
      x[at(2, 1, 2)] = -Infinity;
      // A relu cell's h of 1e29 would feed the other direction's later steps: sums of such terms
      // cancel, and f32 and float64 part ways. Bounded cells take it anywhere.
      if (s.cell !== 'rnn_relu' || !s.bidirectional) x[at(s.bidirectional ? 0 : s.T - 1, 2, 3)] = 1e30;
      if (h0) h0[3 * s.H] = NaN;
      if (c0) c0[3 * s.H + 1] = NaN;
      return built;
    },
  };
}

const specialBase = { T: 5, B: 4, I: 4, H: 5, h0: true } as const;
export const rnnSpecialCases: ParityCase[] = (['lstm', 'gru', 'rnn_tanh', 'rnn_relu'] as const).flatMap((cell) =>
  (['step', 'persistent', 'tiled', 'tiled-vec4'] as const).flatMap((variant) => {
    // tiled-vec4 needs H % 4 == 0: H = 8 and 32 for it, 5 and 33 for the others.
    const v4 = variant === 'tiled-vec4';
    return [
      specialRnnCase({ ...specialBase, cell, variant, c0: cell === 'lstm', H: v4 ? 8 : 5 }),
      specialRnnCase({
        ...specialBase, cell, variant, H: v4 ? 32 : 33, layers: 2, bidirectional: true, batchFirst: true,
        ...(variant.startsWith('tiled') ? { tile: { BT: 2, UNITS: 8, ROWS: 2 } } : { lanes: { KL: 4, UNITS: 8 } }),
      }),
    ];
  }));

export const rnnCases: ParityCase[] = [...rnnSpecs.map(rnnCase), ...rnnSpecialCases];
