// Plans shaders/matmul.wgsl: picks the variant (naive, tiled, tiled-vec4, register) and tile sizes,
// folds transposed operands and broadcast batches into strides, and checks the config against the
// device. B may be a 16-bit weight: every variant reads it, through the reader weight16.ts generates.
import { LimitError, ShapeError, fmtShape } from '../errors';
import { broadcastShapes, broadcastStrides, numel } from '../graph/shapes';
import type { DType } from '../graph/ir';
import { weight16Mode, withWeightReader } from './weight16';
import code from '../../shaders/matmul.wgsl?raw';
import {
  collapseDims,
  foldGrid,
  pickConstants,
  type Constants,
  type DeviceLimits,
  type KernelOverrides,
  type KernelPlan,
  type View,
} from './kernel';

/** The shader with an f32 B. */
export const matmulShader = withWeightReader('shaders/matmul.wgsl', code, 'b', 2, 'f32', undefined);
/**
 * The matmul kernel's variants, for compile's `variants: { matmul: ... }`: 'naive' (a thread per
 * output), 'tiled' (workgroup-memory tiles), 'tiled-vec4' (the same with vec4 loads, when shapes
 * and strides allow), 'register' (register tiles without workgroup barriers).
 */
export const MATMUL_VARIANTS = ['naive', 'tiled', 'tiled-vec4', 'register'] as const;
export type MatmulVariant = (typeof MATMUL_VARIANTS)[number];

/** Activation codes shared with the shader's ACT constant. */
export const ACT = { none: 0, relu: 1, tanh: 2, sigmoid: 3 } as const;

export interface MatmulArgs {
  /** [..., M, K] */
  a: View;
  /** [..., K, N] (a linear weight arrives as the transposed view of [N, K]) */
  b: View;
  hasBias: boolean;
  act: number;
  /** A second bias (binding 5) added to columns n < bias2Cols (default N). */
  bias2?: { cols?: number };
  /** Where C goes: element (z, m, n) at offset + (z * M + m) * rowStride + n; default contiguous. */
  out?: { offset: number; rowStride: number };
  /** Elements skipped at the start of A, B and bias (a block of columns of a weight in parts); default 0. */
  offsets?: { a?: number; b?: number; bias?: number };
  /** B's stored dtype: f32 (default), or a 16-bit weight (f16, bf16). */
  bDtype?: DType;
}

/** The operands of a matmul step by WGSL name; what is absent is bound to the dummy buffer. */
export function matmulBind(a: number, b: number, c: number, bias?: number, bias2?: number, res?: number): Record<string, number | 'dummy'> {
  return { a, b, bias: bias ?? 'dummy', c, bias2: bias2 ?? 'dummy', res: res ?? 'dummy' };
}

export function planMatmul(args: MatmulArgs, overrides: KernelOverrides | undefined, limits: DeviceLimits): KernelPlan {
  const { a, b } = args;
  const [M, K] = a.shape.slice(-2), N = b.shape[b.shape.length - 1];
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const collapsed = collapseDims(batchShape, [
    broadcastStrides(a.shape.slice(0, -2), a.strides.slice(0, -2), batchShape),
    broadcastStrides(b.shape.slice(0, -2), b.strides.slice(0, -2), batchShape),
  ]);
  if (collapsed.shape.length > 4) {
    throw new LimitError(
      `matmul: ${fmtShape(a.shape)} x ${fmtShape(b.shape)} has ${collapsed.shape.length} batch dims that cannot be merged; the kernel indexes 4`,
    );
  }
  const pad = (v: number[], fill: number) => [...new Array(4 - v.length).fill(fill), ...v];
  const [aStrideM, aStrideK] = a.strides.slice(-2);
  const [bStrideK, bStrideN] = b.strides.slice(-2);
  const batch = numel(batchShape);
  const aT = aStrideM === 1 && aStrideK !== 1;
  const bT = bStrideK === 1 && bStrideN !== 1;

  const requested = overrides?.variants?.matmul as MatmulVariant | undefined;
  if (requested !== undefined && !MATMUL_VARIANTS.includes(requested)) {
    throw new ShapeError(`matmul: unknown variant '${requested}'; the variants are ${MATMUL_VARIANTS.join(', ')}`);
  }
  const aOffset = args.offsets?.a ?? 0, bOffset = args.offsets?.b ?? 0;
  const aligned = vec4Aligned(M, N, K, aStrideM, aStrideK, bStrideK, bStrideN, collapsed.strides) && aOffset % 4 === 0 && bOffset % 4 === 0;
  const m4 = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  const registerOk = aligned && aStrideK === 1 && m4(K, aStrideM) &&
    ((bStrideN === 1 && m4(N, bStrideK)) || (bStrideK === 1 && m4(K, bStrideN)));
  // CPU-emulated adapters pay dearly for barriers, so the barrier-free register tile wins there.
  const variant: MatmulVariant = requested ?? (registerOk && limits.emulated ? 'register' : aligned ? 'tiled-vec4' : 'tiled');
  if (variant === 'register' && !registerOk) {
    throw new ShapeError(
      `matmul: variant 'register' needs A stored [M, K] with K % 4 == 0 and B's contiguous dim a multiple of 4; ` +
        `got a ${fmtShape(a.shape)} strides ${fmtShape(a.strides)}, b ${fmtShape(b.shape)} strides ${fmtShape(b.strides)}`,
    );
  }
  if (variant === 'tiled-vec4' && !aligned) {
    throw new ShapeError(
      `matmul: variant 'tiled-vec4' needs each operand's contiguous dim and strides to be multiples of 4; ` +
        `got a ${fmtShape(a.shape)} strides ${fmtShape(a.strides)}, b ${fmtShape(b.shape)} strides ${fmtShape(b.strides)}`,
    );
  }

  // 32x32 tiles when 64x64 ones would leave the GPU with few workgroups to spread.
  const small = M <= 32 || N <= 32 || Math.ceil(M / 64) * Math.ceil(N / 64) * batch < 32;
  const constants = pickConstants(
    'matmul',
    variant === 'naive' ? { WG_NAIVE: 64 } : variant === 'register' ? registerTile(M, N, limits) : { TILE_M: small ? 32 : 64, TILE_N: small ? 32 : 64, TILE_K: 16 },
    overrides,
  );
  Object.assign(constants, { HAS_BIAS: args.hasBias, HAS_BIAS2: !!args.bias2, HAS_RES: false, ACT: args.act, A_T: aT, B_T: bT });
  let total: number;
  let tilesM = 1, tilesN = 1;
  if (variant === 'naive' || variant === 'register') {
    const wg = Number(constants.WG_NAIVE);
    checkThreads(wg, 1, limits, constants);
    if (variant === 'register') {
      for (const name of ['RM', 'RN'] as const) {
        if (!REGISTER_TILE[name].includes(Number(constants[name]))) {
          throw new LimitError(`matmul: register ${name} ${constants[name]}; the shader's register tile takes ${name} ${REGISTER_TILE[name].join(', ')}`);
        }
      }
    }
    const perThread = variant === 'naive' ? M * N : Math.ceil(M / Number(constants.RM)) * Math.ceil(N / Number(constants.RN));
    total = Math.ceil((perThread * batch) / wg);
  } else {
    const tm = Number(constants.TILE_M), tn = Number(constants.TILE_N), tk = Number(constants.TILE_K);
    if (tm % 4 || tn % 4 || tk % 4 || tm <= 0 || tn <= 0 || tk <= 0) {
      throw new LimitError(`matmul: TILE_M, TILE_N and TILE_K must be positive multiples of 4, got ${tm}, ${tn}, ${tk}`);
    }
    checkThreads(tn / 4, tm / 4, limits, constants);
    const shared = 4 * tk * (tm + tn);
    if (shared > limits.maxComputeWorkgroupStorageSize) {
      throw new LimitError(
        `matmul: tiles ${tm}x${tn}x${tk} need ${shared} bytes of workgroup memory; the device allows ${limits.maxComputeWorkgroupStorageSize}`,
      );
    }
    tilesM = Math.ceil(M / tm);
    tilesN = Math.ceil(N / tn);
    total = tilesM * tilesN * batch;
  }
  const bDtype = args.bDtype ?? 'f32';
  const mode = weight16Mode('matmul', `b ${bDtype} ${fmtShape(b.shape)}`, bDtype, overrides, limits);
  const entry = { naive: 'matmul_naive', tiled: 'matmul_tiled', 'tiled-vec4': 'matmul_tiled_vec4', register: 'matmul_register' }[variant];
  return {
    shader: withWeightReader('shaders/matmul.wgsl', code, 'b', 2, bDtype, mode),
    entry,
    constants,
    variant,
    grid: foldGrid(`matmul (${entry})`, total, limits),
    uniforms: {
      M, N, K, batch, tilesM, tilesN, aStrideM, aStrideK, bStrideK, bStrideN,
      cOffset: args.out?.offset ?? 0, cRowStride: args.out?.rowStride ?? N, bias2Cols: args.bias2?.cols ?? N,
      aOffset, bOffset, biasOffset: args.offsets?.bias ?? 0,
      batchShape: pad(collapsed.shape, 1),
      aBatchStride: pad(collapsed.strides[0], 0),
      bBatchStride: pad(collapsed.strides[1], 0),
    },
  };
}

/** The register variant's tile sides: RM rows and RN columns per thread. */
export const REGISTER_TILE = { RM: [4, 8, 16, 32], RN: [4, 8, 16] };

/**
 * The register variant's tile: 4 x 4 on a GPU and on lavapipe. SwiftShader (laneGathers) gathers
 * every buffer load lane by lane, so there the tile grows to 16 x 16 (32 loaded values per k for 256
 * sums, against 8 for 16), as far as M and N fill it; small workgroups give the emulator's threads
 * enough of them to share. On SwiftShader the GEMMs of an LSTM of T = 16, B = 64, H = 128 (16 of
 * [64, 128] x [128, 512] and its projection, [1024, 128] x [128, 512]) took 126 ms of GPU time with
 * 4 x 4 tiles and 60 and 70 ms with 16 x 16. From M = 128 rows the tile is 32 x 16 (48 loads for 512
 * sums), 8 threads a workgroup: single-dispatch timings on SwiftShader, 32 x 16 against 16 x 16,
 * gave 29.8-31.8 ms against 32.9-35.0 for [1024, 128] x [128, 512] (an LSTM's input projection),
 * 6.1 against 7.2 ms at 256^3, 46 against 54 ms at 512^3 and 1.09 against 1.18 ms at
 * [128, 64] x [64, 256]; at 32 and 64 rows the two were level within their spread.
 */
function registerTile(M: number, N: number, limits: DeviceLimits): Constants {
  if (!limits.laneGathers) return { WG_NAIVE: 64, RM: 4, RN: 4 };
  const side = (n: number) => (n >= 16 ? 16 : n >= 8 ? 8 : 4);
  return M >= 128 ? { WG_NAIVE: 8, RM: 32, RN: side(N) } : { WG_NAIVE: 16, RM: side(M), RN: side(N) };
}

function vec4Aligned(
  M: number, N: number, K: number,
  aStrideM: number, aStrideK: number, bStrideK: number, bStrideN: number,
  batchStrides: number[][],
): boolean {
  const m4 = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  const aOk = (aStrideK === 1 && m4(K, aStrideM)) || (aStrideM === 1 && m4(M, aStrideK));
  const bOk = (bStrideN === 1 && m4(N, bStrideK)) || (bStrideK === 1 && m4(K, bStrideN));
  return aOk && bOk && batchStrides.every((s) => m4(...s));
}

function checkThreads(x: number, y: number, limits: DeviceLimits, constants: object): void {
  if (x * y > limits.maxComputeInvocationsPerWorkgroup || x > limits.maxComputeWorkgroupSizeX || y > limits.maxComputeWorkgroupSizeY) {
    throw new LimitError(
      `matmul: constants ${JSON.stringify(constants)} give a ${x}x${y} workgroup; the device allows ` +
        `${limits.maxComputeInvocationsPerWorkgroup} invocations (x <= ${limits.maxComputeWorkgroupSizeX}, y <= ${limits.maxComputeWorkgroupSizeY})`,
    );
  }
}
