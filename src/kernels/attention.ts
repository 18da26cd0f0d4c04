// Plans shaders/attention.wgsl: picks the variant (flash for many query rows, split for few, rows on
// CPU-emulated adapters), sizes the tiles to the head dims and the device, and folds views and
// broadcasts into strides.
import { LimitError, ShapeError, fmtShape } from '../errors';
import { broadcastStrides, numel } from '../graph/shapes';
import code from '../../shaders/attention.wgsl?raw';
import {
  collapseDims,
  foldGrid,
  nextPow2,
  shaderOf,
  type Constants,
  type DeviceLimits,
  type KernelOverrides,
  type KernelPlan,
  type View,
} from './kernel';

export const attentionShader = shaderOf('shaders/attention.wgsl', code);
export const ATTENTION_VARIANTS = ['flash', 'split', 'rows'] as const;
export type AttentionVariant = (typeof ATTENTION_VARIANTS)[number];

/** The largest head dim (D and Dv) the kernel holds: 4 vec4 accumulators per row in each of <= 16 threads. */
export const ATTENTION_MAX_HEAD_DIM = 256;
/** Query rows up to which the split (decode) variant is the default. */
const SPLIT_MAX_ROWS = 4;
const MASK_CODE = { none: 0, bool: 1, float: 2 } as const;

export interface AttentionArgs {
  /** [..., Tq, D] */
  q: View;
  /** [..., Tk, D] */
  k: View;
  /** [..., Tk, Dv] */
  v: View;
  /** Broadcastable to [...batch, Tq, Tk]. */
  mask?: View;
  maskKind: 'none' | 'bool' | 'float';
  isCausal: boolean;
  scale: number;
  /** The broadcast batch dims of q, k, v. */
  batch: number[];
}

export function planAttention(args: AttentionArgs, overrides: KernelOverrides | undefined, limits: DeviceLimits): KernelPlan {
  const { q, k, v, mask, batch } = args;
  const op = 'scaledDotProductAttention';
  const [Tq, D] = q.shape.slice(-2), Tk = k.shape[k.shape.length - 2], Dv = v.shape[v.shape.length - 1];
  if (D > ATTENTION_MAX_HEAD_DIM || Dv > ATTENTION_MAX_HEAD_DIM) {
    throw new LimitError(
      `${op}: q ${fmtShape(q.shape)}, v ${fmtShape(v.shape)}: head dims ${D} and ${Dv}; the kernel supports up to ${ATTENTION_MAX_HEAD_DIM}`,
    );
  }
  const requested = overrides?.variants?.attention as AttentionVariant | undefined;
  if (requested !== undefined && !ATTENTION_VARIANTS.includes(requested)) {
    throw new ShapeError(`${op}: unknown variant '${requested}'; the variants are ${ATTENTION_VARIANTS.join(', ')}`);
  }
  // CPU-emulated adapters pay more for barriers and workgroup memory than for the loads they save,
  // so the barrier-free 'rows' kernel wins there (as matmul's 'register' does).
  const variant: AttentionVariant = requested ?? (limits.emulated ? 'rows' : Tq <= SPLIT_MAX_ROWS ? 'split' : 'flash');

  const scores = [...batch, Tq, Tk];
  const nb = batch.length;
  const batchStrides = (x: View) => broadcastStrides(x.shape.slice(0, -2), x.strides.slice(0, -2), batch);
  const ms = mask ? broadcastStrides(mask.shape, mask.strides, scores) : new Array<number>(scores.length).fill(0);
  const collapsed = collapseDims(batch, [batchStrides(q), batchStrides(k), batchStrides(v), ms.slice(0, nb)]);
  if (collapsed.shape.length > 4) {
    throw new LimitError(
      `${op}: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} have ${collapsed.shape.length} ` +
        'batch dims that cannot be merged; the kernel indexes 4',
    );
  }
  const pad = (x: number[], fill: number) => [...new Array(4 - x.length).fill(fill), ...x];

  let constants: Constants;
  if (variant === 'rows') constants = rowsConstants(batch, Tq, overrides, limits);
  else {
    constants = variant === 'flash' ? flashConstants(Tq, D, Dv, overrides, limits) : splitConstants(Tq, Tk, Dv, overrides);
    checkConstants(variant, constants, D, Dv, limits);
    // The rows kernel runs to uniform head dims instead, so one of its pipelines serves every D, Dv.
    Object.assign(constants, { HEAD_D: D, HEAD_DV: Dv });
  }
  Object.assign(constants, { MASK: MASK_CODE[args.maskKind], CAUSAL: args.isCausal });
  // Query rows per workgroup (flash, split) or per thread (rows).
  const rows = variant === 'flash' ? Number(constants.RG) * Number(constants.RQ) : variant === 'split' ? Number(constants.RQ) : 4;
  const qBlocks = Math.ceil(Tq / rows);
  const nbatch = numel(batch);
  const groups = variant === 'rows' ? Math.ceil((nbatch * qBlocks) / Number(constants.WG_ROWS)) : nbatch * qBlocks;
  return {
    shader: attentionShader,
    entry: `attention_${variant}`,
    constants,
    variant,
    grid: foldGrid(`${op} (attention_${variant})`, groups, limits),
    uniforms: {
      Tq, Tk, batch: nbatch, qBlocks, scale: args.scale,
      nD: D, nDV: Dv, nBK: Number(constants.BK ?? 0), nKG: variant === 'split' ? Number(constants.KG) : 1,
      qStrideT: q.strides[q.strides.length - 2], qStrideD: q.strides[q.strides.length - 1],
      kStrideT: k.strides[k.strides.length - 2], kStrideD: k.strides[k.strides.length - 1],
      vStrideT: v.strides[v.strides.length - 2], vStrideD: v.strides[v.strides.length - 1],
      mStrideQ: ms[nb], mStrideK: ms[nb + 1],
      batchShape: pad(collapsed.shape, 1),
      qBatchStride: pad(collapsed.strides[0], 0),
      kBatchStride: pad(collapsed.strides[1], 0),
      vBatchStride: pad(collapsed.strides[2], 0),
      mBatchStride: pad(collapsed.strides[3], 0),
    },
  };
}

/** rows: a thread per four query rows; small problems get small workgroups, so an emulator spreads them over its cores. */
function rowsConstants(batch: number[], Tq: number, overrides: KernelOverrides | undefined, limits: DeviceLimits): Constants {
  const threads = numel(batch) * Math.ceil(Tq / 4);
  const c = { WG_ROWS: Math.min(64, Math.max(4, nextPow2(Math.ceil(threads / 8)))), ...(overrides?.constants?.attention ?? {}) };
  const wg = Number(c.WG_ROWS), max = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  if (!Number.isInteger(wg) || wg < 1 || wg > max) {
    throw new LimitError(`scaledDotProductAttention (rows): WG_ROWS must be 1..${max}, got ${c.WG_ROWS}`);
  }
  return c;
}

/** Threads per row group: enough that each holds at most 16 columns of Dv (4 vec4 accumulators). */
const threadsPerRow = (Dv: number) => Math.min(16, nextPow2(Math.ceil(Dv / 16)));

// Defaults fill what the caller's constants leave out, so a forced BK still gets a KB that divides it.
function flashConstants(Tq: number, D: number, Dv: number, overrides: KernelOverrides | undefined, limits: DeviceLimits): Constants {
  const user = overrides?.constants?.attention ?? {};
  const TPR = Number(user.TPR ?? threadsPerRow(Dv));
  const RQ = Number(user.RQ ?? Math.min(4, Math.max(Tq, 1)));
  let RG = Number(user.RG ?? Math.max(1, Math.min(Math.floor(64 / TPR), Math.ceil(Tq / RQ))));
  let BK = Number(user.BK ?? 32);
  // Shrink the key tile to 8, then the row block, then the key tile again until the tiles fit the
  // device's workgroup memory: rows per block are what K/V reuse depends on.
  const budget = limits.maxComputeWorkgroupStorageSize;
  while (flashBytes(RG * RQ, BK, D, Dv, TPR) > budget && BK * RG > 1) {
    if (user.BK === undefined && (BK > 8 || RG === 1 || user.RG !== undefined)) BK = Math.max(1, BK >> 1);
    else if (user.RG === undefined && RG > 1) RG >>= 1;
    else break;
  }
  const slots = Math.ceil(BK / TPR);
  const KB = Number(user.KB ?? [4, 2, 1].find((kb) => slots % kb === 0));
  return { ...user, RQ, RG, TPR, BK, KB };
}

function splitConstants(Tq: number, Tk: number, Dv: number, overrides: KernelOverrides | undefined): Constants {
  const user = overrides?.constants?.attention ?? {};
  const TPR = Number(user.TPR ?? threadsPerRow(Dv));
  const RQ = Number(user.RQ ?? Math.min(4, Math.max(Tq, 1)));
  const KG = Number(user.KG ?? Math.max(1, 64 / TPR));
  const BK = Number(user.BK ?? KG * Math.max(1, Math.min(8, Math.ceil(Tk / KG))));
  return { ...user, RQ, TPR, KG, BK, RG: 1 };
}

/** Output columns each thread holds: NCH vec4 accumulators per row. */
const chunks = (Dv: number, TPR: number) => Math.ceil(Dv / (4 * TPR));

function flashBytes(BQ: number, BK: number, D: number, Dv: number, TPR: number): number {
  const dvp = 4 * chunks(Dv, TPR) * TPR;
  return 4 * (BQ * D + D * BK + BK * dvp + 2 * BQ * BK);
}

function splitBytes(RQ: number, BK: number, KG: number, D: number, Dv: number, TPR: number): number {
  const dvp = 4 * chunks(Dv, TPR) * TPR;
  return 4 * (RQ * D + RQ * BK + 2 * KG * RQ + Math.max(KG / 2, 1) * RQ * dvp);
}

function checkConstants(variant: AttentionVariant, c: Constants, D: number, Dv: number, limits: DeviceLimits): void {
  const op = `scaledDotProductAttention (${variant})`;
  const n = (name: string) => Number(c[name]);
  const bad = (why: string) => new LimitError(`${op}: constants ${JSON.stringify(c)}: ${why}`);
  const isPow2 = (x: number) => Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0;
  const RQ = n('RQ'), TPR = n('TPR'), BK = n('BK');
  if (!Number.isInteger(RQ) || RQ < 1 || RQ > 4) throw bad('RQ must be 1..4');
  if (!Number.isInteger(TPR) || TPR < 1) throw bad('TPR must be a positive integer');
  if (chunks(Dv, TPR) > 4) throw bad(`TPR ${TPR} leaves more than 16 of the Dv = ${Dv} columns per thread; use TPR >= ${Math.ceil(Dv / 16)}`);
  if (!Number.isInteger(BK) || BK < 1) throw bad('BK must be a positive integer');
  let threads: number, bytes: number;
  if (variant === 'flash') {
    const RG = n('RG'), KB = n('KB');
    if (!Number.isInteger(RG) || RG < 1) throw bad('RG must be a positive integer');
    if (!Number.isInteger(KB) || KB < 1 || KB > 4 || Math.ceil(BK / TPR) % KB) throw bad('KB must be 1..4 and divide ceil(BK / TPR)');
    threads = RG * TPR;
    bytes = flashBytes(RG * RQ, BK, D, Dv, TPR);
  } else {
    const KG = n('KG');
    if (!isPow2(KG)) throw bad('KG must be a power of two');
    if (BK % KG) throw bad('BK must be a multiple of KG');
    threads = KG * TPR;
    bytes = splitBytes(RQ, BK, KG, D, Dv, TPR);
  }
  if (threads > limits.maxComputeInvocationsPerWorkgroup || threads > limits.maxComputeWorkgroupSizeX) {
    throw bad(`${threads} threads per workgroup; the device allows ${Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX)}`);
  }
  if (bytes > limits.maxComputeWorkgroupStorageSize) {
    throw bad(`the tiles need ${bytes} bytes of workgroup memory; the device allows ${limits.maxComputeWorkgroupStorageSize}`);
  }
}
