// Plans the recurrences of shaders/rnn.wgsl: the variant (a dispatch per timestep, one workgroup per
// batch row or batch-tiled, or one persistent workgroup per direction looping over all timesteps), its
// tunables and the per-step uniforms. The input projection is a matmul, planned by ops/rnn.ts.
import rnnCode from '../../shaders/rnn.wgsl?raw';
import { LimitError, ShapeError } from '../errors';
import { cellOp, type Cell } from '../graph/ir';
import { entryLayout } from '../runtime/reflect';
import { nextPow2, pickConstants, shaderOf, type Constants, type DeviceLimits, type KernelOverrides, type KernelPlan, type Shader } from './kernel';

export const RNN_VARIANTS = ['step', 'persistent', 'tiled', 'tiled-vec4'] as const;
export type RnnVariant = (typeof RNN_VARIANTS)[number];

type Family = ReturnType<typeof cellOp>;

/** Operands only one family has; shaders/rnn.wgsl declares every family's. */
const OWN_OPERANDS: Record<string, Family> = { c0: 'lstm', cN: 'lstm', bhh0: 'gru', bhh1: 'gru' };

/**
 * shaders/rnn.wgsl for one family. WGSL counts a binding as used wherever it is named, even in a
 * branch the CELL override folds away, so each entry would bind all ten storage buffers, past the
 * WebGPU default of 8 per stage. So the operands a family lacks are declared here as private arrays
 * of one element: the code compiles as it is, the entry binds only the family's operands (LSTM and
 * GRU 8, RNN 6), and every line stays where it was, so compile errors keep their lines.
 */
function familyShader(family: Family): Shader {
  let seen = 0;
  const code = rnnCode.replace(/^@group\(0\) @binding\(\d+\) var<storage, \w+> (\w+): array<f32>;/gm, (decl, name: string) => {
    if (OWN_OPERANDS[name] === undefined) return decl;
    seen++;
    return OWN_OPERANDS[name] === family ? decl : `var<private> ${name}: array<f32, 1>;`;
  });
  if (seen !== Object.keys(OWN_OPERANDS).length) {
    throw new Error(`shaders/rnn.wgsl: expected a storage array declaration of each of ${Object.keys(OWN_OPERANDS).join(', ')}`);
  }
  return shaderOf('shaders/rnn.wgsl', code);
}

const SHADERS: Record<Family, Shader> = { lstm: familyShader('lstm'), gru: familyShader('gru'), rnn: familyShader('rnn') };

/** The values of CELL in shaders/rnn.wgsl. */
const CELL: Record<Cell, number> = { lstm: 0, gru: 1, rnn_tanh: 2, rnn_relu: 3 };

/** Bytes of workgroup memory per lane's partial sums: a vec4 of gate sums, whatever the cell. */
const PART_BYTES = 16;

/** Workgroup bytes of an f32 array of n: the device counts each workgroup variable in 16-byte units. */
const wgBytes = (n: number): number => Math.ceil((4 * n) / 16) * 16;

export interface RecurrenceShape {
  cell: Cell;
  T: number;
  B: number;
  H: number;
  D: number;
  hasBias: boolean;
  hasH0: boolean;
  hasC0: boolean;
  /** W_hh's [row, k] element strides (both directions share them). */
  wStrides: [number, number];
}

export interface RecurrenceLimits extends DeviceLimits {
  maxStorageBuffersPerShaderStage: number;
}

/** What every dispatch of one layer's recurrence shares; `plan` adds the per-step uniforms. */
export interface Recurrence {
  family: Family;
  variant: RnnVariant;
  shader: Shader;
  entry: string;
  constants: Record<string, number | boolean>;
  /** Dispatches per layer for the recurrence (T, or 1 when persistent), each split per direction when `split`. */
  dispatches: number;
  /**
   * A dispatch per direction: each binds its own direction's W_hh and b_hh as whh0 and bhh0 (plan's
   * `dir`), so the shader's choice between the directions folds away (ONE_DIR).
   */
  split: boolean;
  /**
   * The tiled variants read h_prev from `hprev` (h0 at step 0) and write h to `hnext`, two buffers
   * that take turns (the last step's hnext is hN), rather than from out and to hN.
   */
  pingPong: boolean;
  /** The dispatch of `step` (all directions, or direction `dir` alone when `split`). */
  plan(step: number, layer: number, tStride: number, bStride: number, dir?: number): KernelPlan;
}

/** Rows of the tiled variants' register tile (MAX_BT in the shader). */
export const MAX_BT = 16;

/** Units per thread the tiled variants' register tile takes (UT in the shader). */
export const TILE_UNITS = [1, 2, 4] as const;

/**
 * Chooses and checks the variant, then its tunables.
 * - persistent: one workgroup per direction loops over all T steps, so it pays one dispatch per
 *   layer, but one workgroup is one core on a CPU emulator and one SM on a GPU. Chosen for B = 1 and
 *   H <= 64 when its state fits workgroup memory, except on SwiftShader (laneGathers), where the step
 *   variant's small workgroups, spread over the emulator's threads, ran faster.
 * - tiled-vec4 and tiled: a dispatch per step, each thread a register tile of BT rows x UT units' G
 *   gates: W_hh is read once per BT rows. The choice for every batch of 2 or more (tiled-vec4 where
 *   H % 4 == 0 and W_hh's rows are contiguous).
 * - step: a dispatch per step, one workgroup per batch row, KL lanes per dot product: at B = 1 on a
 *   GPU it spreads one row's work widest; the choice for B = 1 and H > 64, and for B = 1 on SwiftShader.
 */
export function planRecurrence(s: RecurrenceShape, overrides: KernelOverrides | undefined, limits: RecurrenceLimits): Recurrence {
  const family = cellOp(s.cell);
  const shader = SHADERS[family];
  const op = family;
  const requested = overrides?.variants?.[family];
  if (requested !== undefined && !(RNN_VARIANTS as readonly string[]).includes(requested)) {
    throw new ShapeError(`${op}: unknown variant '${requested}'; the variants are ${RNN_VARIANTS.join(', ')}`);
  }
  const maxInv = Math.min(256, limits.maxComputeInvocationsPerWorkgroup);
  const h2 = nextPow2(s.H);
  // KL lanes split each dot product along k, so lanes read consecutive W_hh elements (coalesced on a
  // GPU) and a step's latency is H/KL multiply-adds, at the price of a barrier and a reduction. CPU
  // emulators pay dearly for barriers: there KL = 1 (one thread per hidden unit, no barrier) ran an
  // LSTM of T = 16, H = 64 1.8x (persistent, KL 4) to 7x (step, KL 16) faster on SwiftShader. In the
  // step variant, storing W_hh transposed for KL = 1, or vec4 loads along k, made no difference there
  // beyond the noise.
  const kl = (units: number) => (limits.emulated ? 1 : Math.max(1, Math.min(h2, 16, Math.floor(maxInv / units))));
  // Persistent: a tile of up to 64 units covers H = 64 in one pass per step.
  const pUnits = Math.min(h2, 64, maxInv);
  const persistent: Constants = { ...pickConstants(family, { UNITS: pUnits, KL: kl(pUnits) }, overrides), BH: s.B * s.H };
  // hs (h, double-buffered) and cs (LSTM's c; one element for the other cells, which name it too).
  const state = wgBytes(2 * s.B * s.H) + wgBytes(s.cell === 'lstm' ? s.B * s.H : 1);
  const persistentBytes = state + PART_BYTES * Number(persistent.KL) * Number(persistent.UNITS);
  const fits = persistentBytes <= limits.maxComputeWorkgroupStorageSize;
  const [wStrideR, wStrideK] = s.wStrides;
  const vec4 = s.H % 4 === 0 && wStrideK === 1 && wStrideR % 4 === 0;
  const variant: RnnVariant = requested !== undefined
    ? (requested as RnnVariant)
    : s.B === 1 ? (fits && s.H <= 64 && !limits.laneGathers ? 'persistent' : 'step') : vec4 ? 'tiled-vec4' : 'tiled';
  if (variant === 'tiled-vec4' && !vec4) {
    throw new ShapeError(
      `${op}: variant 'tiled-vec4' needs H % 4 == 0 and W_hh rows contiguous at a multiple of 4; got H ${s.H}, W_hh strides [${wStrideR}, ${wStrideK}]`,
    );
  }
  const tiled = variant === 'tiled' || variant === 'tiled-vec4';
  if (variant === 'persistent' && !fits) {
    throw new LimitError(
      `${op}: the persistent variant keeps B*H = ${s.B}*${s.H} state values (${state} bytes with its ${persistentBytes - state} ` +
        `bytes of partial sums: ${persistentBytes}) in workgroup memory; the device allows ${limits.maxComputeWorkgroupStorageSize} bytes`,
    );
  }
  let constants: Constants;
  let wg: [number, number];
  let grid: [number, number, number];
  let label: string;
  if (tiled) {
    // Rows spread evenly over the tiles (B = 10: 5 + 5, not 8 + 2). SwiftShader (laneGathers) runs
    // four threads in the lanes of one SIMD register and gathers every buffer load lane by lane, so
    // there a load costs several multiply-adds and the tile is as large as it goes: 16 rows x 4 units
    // x 4 gates, 256 sums from 32 loads per k, against 32 from 12 at 8 rows x one unit. Threads per
    // workgroup stay at 4, one SIMD register, so even H = 64 at B = 8 gives the emulator's threads
    // four workgroups to share. An LSTM of T = 16, B = 64, H = 128 took 180 ms there with 8 rows x 4
    // units against 228 with 8 x 1 (one sweep), and 114 and 171 ms with 16 x 4 against 286 before
    // this tile (bench runs of one session). lavapipe vectorizes and gathers in hardware: there 8 rows
    // x one unit ran as fast as any wider tile, and 16 x 4 took LLVM 50 s to compile, so it keeps the
    // narrow tile. On a GPU a tile of 4 rows x one unit's 4 gates holds 16 accumulators per thread;
    // 4 rows, and wider workgroups, are a guess, unmeasured.
    const tallest = limits.laneGathers ? MAX_BT : limits.emulated ? 8 : 4;
    const bt = Math.ceil(s.B / Math.ceil(s.B / tallest));
    const ut = limits.laneGathers ? Math.min(4, nextPow2(Math.ceil(s.H / 4))) : 1;
    const defaultUnits = limits.laneGathers ? 4 : Math.min(h2, limits.emulated ? 32 : 64, maxInv);
    constants = pickConstants(family, { UNITS: defaultUnits, ROWS: 1, BT: bt, UT: ut }, overrides);
    const BT = Number(constants.BT), units = Number(constants.UNITS), rows = Number(constants.ROWS), UT = Number(constants.UT);
    if (!(Number.isInteger(BT) && BT >= 1 && BT <= MAX_BT)) {
      throw new LimitError(`${op}: tiled BT ${BT} rows per thread; the shader's register tile holds 1 to ${MAX_BT}`);
    }
    if (!(TILE_UNITS as readonly number[]).includes(UT)) {
      throw new LimitError(`${op}: tiled UT ${UT} units per thread; the shader's register tile holds ${TILE_UNITS.join(', ')}`);
    }
    wg = [units, rows];
    grid = [Math.ceil(s.H / (units * UT)), Math.ceil(s.B / (rows * BT)), s.D];
    label = `${variant} BT${BT}xUT${UT}xU${units}xR${rows}`;
  } else {
    // Step: smaller tiles than persistent's on a GPU, so the grid spreads over more workgroups. On
    // SwiftShader too: an LSTM of T = 16, B = 1, H = 64 took 6.7 to 7.5 ms there with UNITS 4 or 8
    // (16 or 8 workgroups), 10.2 with UNITS 2, and 8.7 to 9.2 persistent (one workgroup, so one of
    // the emulator's threads); a GRU of that shape 6.1 to 6.2, 8.8 and 7.4 ms (wall, one sweep). At
    // H = 256 the LSTM took 43 to 49 ms with UNITS 8 or 16, 52 with 64 and 90 persistent. lavapipe
    // ran the H = 64 LSTM as fast at UNITS 8, 16 and 64 and persistent (1.9 to 2.0 ms), so it keeps
    // its rule.
    const stepUnits = Number(overrides?.constants?.[family]?.UNITS ?? Math.min(h2, limits.emulated && !limits.laneGathers ? 64 : 8));
    constants = variant === 'persistent' ? persistent : pickConstants(family, { UNITS: stepUnits, KL: kl(stepUnits) }, overrides);
    const units = Number(constants.UNITS);
    wg = [Number(constants.KL), units];
    grid = variant === 'persistent' ? [1, 1, s.D] : [Math.ceil(s.H / units), s.B, s.D];
    label = `${variant} KL${wg[0]}xU${units}`;
  }
  const [x, y] = wg;
  const names = tiled ? ['UNITS', 'ROWS'] : ['KL', 'UNITS'];
  if (!(Number.isInteger(x) && Number.isInteger(y) && x >= 1 && y >= 1) || x * y > limits.maxComputeInvocationsPerWorkgroup ||
      x > limits.maxComputeWorkgroupSizeX || y > limits.maxComputeWorkgroupSizeY) {
    throw new LimitError(
      `${op}: ${names[0]} ${x} x ${names[1]} ${y} is not a workgroup the device allows ` +
        `(${limits.maxComputeInvocationsPerWorkgroup} invocations, x <= ${limits.maxComputeWorkgroupSizeX}, y <= ${limits.maxComputeWorkgroupSizeY})`,
    );
  }
  const partBytes = tiled ? 0 : PART_BYTES * x * y;
  if (partBytes > limits.maxComputeWorkgroupStorageSize) {
    throw new LimitError(`${op}: KL ${x} x UNITS ${y} need ${partBytes} bytes of workgroup memory; the device allows ${limits.maxComputeWorkgroupStorageSize}`);
  }
  constants.CELL = CELL[s.cell];
  constants.HAS_H0 = s.hasH0;
  if (family === 'lstm') constants.HAS_C0 = s.hasC0;
  if (family === 'gru') constants.HAS_BIAS = s.hasBias;
  if (variant !== 'persistent') constants.BH = 1;
  // ONE_DIR (a dispatch per direction, each binding its own W_hh as whh0) is the rule for a
  // bidirectional layer on SwiftShader. It runs a workgroup's threads in the lanes of SIMD registers
  // and, not knowing that the direction is the same in every lane, pays at each W_hh load for the
  // choice between the two directions' buffers. Measured there as the cost of that choice (D = 1,
  // where it always picks whh0): a step of the tiled-vec4 LSTM at B = 64, H = 128 (BT 16 x UT 4)
  // took 2.4 to 2.6 ms of GPU time with the choice (five runs) and 1.8 to 2.0 without it (eight
  // runs), each run the median of 5 to 9 passes of 48 dispatches. On lavapipe a bidirectional LSTM of T = 16 ran as fast either way
  // (B = 64, H = 128: 169 ms both; B = 8, H = 64: 6.0 ms in one dispatch, 6.6 split), and on a GPU
  // the choice is uniform per workgroup, so both directions share a dispatch there. Forcing ONE_DIR
  // (constants) chooses either way; the persistent variant runs both directions in one dispatch.
  const forcedSplit = constants.ONE_DIR;
  if (forcedSplit !== undefined && typeof forcedSplit !== 'boolean') {
    throw new ShapeError(`${op}: ONE_DIR is true (a dispatch per direction) or false (one for both); got ${String(forcedSplit)}`);
  }
  if (forcedSplit === true && s.D === 2 && variant === 'persistent') {
    throw new ShapeError(`${op}: the persistent variant runs both directions in one dispatch, so ONE_DIR cannot split them (D ${s.D})`);
  }
  const split = s.D === 2 && variant !== 'persistent' && (forcedSplit ?? limits.laneGathers === true);
  constants.ONE_DIR = s.D === 1 || split;
  if (split) grid[2] = 1;
  if (!tiled) constants.UT = 1;
  const entry = `rnn_${variant.replace('-', '_')}`;
  const storage = entryLayout(shader, entry).bindings.filter((b) => b.type !== 'uniform').length;
  if (storage > limits.maxStorageBuffersPerShaderStage) {
    throw new LimitError(
      `${op}: ${shader.file}:${entry} binds ${storage} storage buffers; the device allows ${limits.maxStorageBuffersPerShaderStage} per shader stage`,
    );
  }
  if (grid[0] > limits.maxComputeWorkgroupsPerDimension || grid[1] > limits.maxComputeWorkgroupsPerDimension) {
    throw new LimitError(`${op}: a grid of ${grid.join(' x ')} workgroups passes the device's ${limits.maxComputeWorkgroupsPerDimension} per dimension`);
  }
  return {
    family, variant, shader, entry, constants,
    dispatches: variant === 'persistent' ? 1 : s.T,
    split,
    pingPong: tiled,
    plan: (step, layer, tStride, bStride, dir = 0) => ({
      shader, entry, constants, grid, variant: label,
      uniforms: { T: s.T, B: s.B, H: s.H, D: s.D, step, stateBase: layer * s.D * s.B * s.H, tStride, bStride, wStrideR, wStrideK, dir0: dir },
    }),
  };
}
