// Plans the recurrences of shaders/rnn.wgsl: the variant (one dispatch per timestep, or one persistent
// workgroup per direction looping over all timesteps), its tunables and the per-step uniforms. The
// input projection is a matmul, planned by ops/rnn.ts.
import rnnCode from '../../shaders/rnn.wgsl?raw';
import { LimitError, ShapeError } from '../errors';
import { cellOp, type Cell } from '../graph/ir';
import { entryLayout } from '../runtime/reflect';
import { nextPow2, pickConstants, shaderOf, type Constants, type DeviceLimits, type KernelOverrides, type KernelPlan, type Shader } from './kernel';

export const RNN_VARIANTS = ['step', 'persistent'] as const;
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
  /** Dispatches per layer for the recurrence (T, or 1 when persistent). */
  dispatches: number;
  /** `wStrides`: W_hh's [row, k] element strides (both directions share them). */
  plan(step: number, layer: number, tStride: number, bStride: number, wStrides: [number, number]): KernelPlan;
}

/**
 * Chooses and checks the variant. The persistent variant runs in one workgroup per direction, so it
 * wins where the per-timestep dispatch cost outweighs the work of one step: small hidden sizes and
 * batches. It is chosen for H <= 64 and B*H <= 512 when its state fits the workgroup memory (at
 * T = 16, B = 1, H = 64: 0.73 against 0.99 ms per sequence on lavapipe, a tie on SwiftShader).
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
  // LSTM of T = 16, H = 64 1.8x (persistent, KL 4) to 7x (step, KL 16) faster on SwiftShader. Storing
  // W_hh transposed for KL = 1, or vec4 loads along k, made no difference there beyond the noise.
  const kl = (units: number) => (limits.emulated ? 1 : Math.max(1, Math.min(h2, 16, Math.floor(maxInv / units))));
  // Persistent: a tile of up to 64 units covers H = 64 in one pass per step. Step: smaller tiles, so
  // the grid spreads over more workgroups.
  const pUnits = Math.min(h2, 64, maxInv);
  const persistentDefaults = { UNITS: pUnits, KL: kl(pUnits) };
  const stepUnits = Math.min(h2, limits.emulated ? 64 : 8);
  const stepDefaults = { UNITS: stepUnits, KL: kl(stepUnits) };
  const persistent: Constants = { ...pickConstants(family, persistentDefaults, overrides), BH: s.B * s.H };
  // hs (h, double-buffered) and cs (LSTM's c; one element for the other cells, which name it too).
  const state = wgBytes(2 * s.B * s.H) + wgBytes(s.cell === 'lstm' ? s.B * s.H : 1);
  const persistentBytes = state + PART_BYTES * Number(persistent.KL) * Number(persistent.UNITS);
  const fits = persistentBytes <= limits.maxComputeWorkgroupStorageSize;
  const variant: RnnVariant = requested === 'step' || requested === 'persistent'
    ? requested
    : fits && s.H <= 64 && s.B * s.H <= 512 ? 'persistent' : 'step';
  if (variant === 'persistent' && !fits) {
    throw new LimitError(
      `${op}: the persistent variant keeps B*H = ${s.B}*${s.H} state values (${state} bytes with its ${persistentBytes - state} ` +
        `bytes of partial sums: ${persistentBytes}) in workgroup memory; the device allows ${limits.maxComputeWorkgroupStorageSize} bytes`,
    );
  }
  const constants = variant === 'persistent' ? persistent : pickConstants(family, stepDefaults, overrides);
  const lanes = Number(constants.KL), units = Number(constants.UNITS);
  if (!(lanes >= 1 && units >= 1) || lanes * units > limits.maxComputeInvocationsPerWorkgroup ||
      lanes > limits.maxComputeWorkgroupSizeX || units > limits.maxComputeWorkgroupSizeY) {
    throw new LimitError(
      `${op}: KL ${lanes} x UNITS ${units} is not a workgroup the device allows ` +
        `(${limits.maxComputeInvocationsPerWorkgroup} invocations, x <= ${limits.maxComputeWorkgroupSizeX}, y <= ${limits.maxComputeWorkgroupSizeY})`,
    );
  }
  const partBytes = PART_BYTES * lanes * units;
  if (partBytes > limits.maxComputeWorkgroupStorageSize) {
    throw new LimitError(`${op}: KL ${lanes} x UNITS ${units} need ${partBytes} bytes of workgroup memory; the device allows ${limits.maxComputeWorkgroupStorageSize}`);
  }
  constants.CELL = CELL[s.cell];
  constants.HAS_H0 = s.hasH0;
  if (family === 'lstm') constants.HAS_C0 = s.hasC0;
  if (family === 'gru') constants.HAS_BIAS = s.hasBias;
  if (variant === 'step') constants.BH = 1;
  const entry = `rnn_${variant}`;
  const storage = entryLayout(shader, entry).bindings.filter((b) => b.type !== 'uniform').length;
  if (storage > limits.maxStorageBuffersPerShaderStage) {
    throw new LimitError(
      `${op}: ${shader.file}:${entry} binds ${storage} storage buffers; the device allows ${limits.maxStorageBuffersPerShaderStage} per shader stage`,
    );
  }
  const tiles = Math.ceil(s.H / units);
  const grid: [number, number, number] = variant === 'persistent' ? [1, 1, s.D] : [tiles, s.B, s.D];
  if (grid[0] > limits.maxComputeWorkgroupsPerDimension || grid[1] > limits.maxComputeWorkgroupsPerDimension) {
    throw new LimitError(`${op}: a grid of ${grid.join(' x ')} workgroups passes the device's ${limits.maxComputeWorkgroupsPerDimension} per dimension`);
  }
  return {
    family, variant, shader, entry, constants,
    dispatches: variant === 'persistent' ? 1 : s.T,
    plan: (step, layer, tStride, bStride, [wStrideR, wStrideK]) => ({
      shader, entry, constants, grid,
      variant: `${variant} KL${lanes}xU${units}`,
      uniforms: { T: s.T, B: s.B, H: s.H, D: s.D, step, stateBase: layer * s.D * s.B * s.H, tStride, bStride, wStrideR, wStrideK },
    }),
  };
}
