// Plans shaders/softmax.wgsl: one workgroup per row of a contiguous [outer, len, inner] view.
import { numel } from '../graph/shapes';
import code from '../../shaders/softmax.wgsl?raw';
import { LimitError, ShapeError } from '../errors';
import { foldGrid, nextPow2, pickConstants, shaderOf, type DeviceLimits, type KernelOverrides, type KernelPlan } from './kernel';

export const softmaxShader = shaderOf('shaders/softmax.wgsl', code);
export const SOFTMAX_VARIANTS = ['workgroup', 'row'] as const;
type Variant = (typeof SOFTMAX_VARIANTS)[number];

/** `shape` is the contiguous input's shape, `dim` already normalised. */
export function planSoftmax(shape: number[], dim: number, overrides: KernelOverrides | undefined, limits: DeviceLimits): KernelPlan {
  const len = shape[dim];
  const inner = numel(shape.slice(dim + 1));
  const rows = numel(shape.slice(0, dim)) * inner;
  const requested = overrides?.variants?.softmax as Variant | undefined;
  if (requested !== undefined && !SOFTMAX_VARIANTS.includes(requested)) {
    throw new ShapeError(`softmax: unknown variant '${requested}'; the variants are ${SOFTMAX_VARIANTS.join(', ')}`);
  }
  // On CPU-emulated adapters a thread per row wins by ~20x (measured on SwiftShader at 64x1024):
  // the tree reduction's barriers cost more there than the row's loads. A GPU wants a workgroup
  // per row for coalesced loads, unless rows are short and plenty.
  const variant: Variant = requested ?? (limits.emulated || (len <= 32 && rows >= 4096) ? 'row' : 'workgroup');
  if (variant === 'row') {
    const constants = pickConstants('softmax', { WG: limits.emulated ? 8 : 64 }, overrides);
    const wg = Number(constants.WG);
    if (!(wg >= 1 && wg <= limits.maxComputeInvocationsPerWorkgroup)) {
      throw new LimitError(`softmax: WG must be 1..${limits.maxComputeInvocationsPerWorkgroup}, got ${wg}`);
    }
    return {
      shader: softmaxShader, entry: 'softmax_row', constants, variant: `row, wg${wg}`,
      grid: foldGrid('softmax', Math.ceil(rows / wg), limits), uniforms: { rows, len, inner },
    };
  }
  // Short rows get a small workgroup, so threads are not left idle through the tree reduction.
  const constants = pickConstants('softmax', { WG: Math.min(256, Math.max(32, nextPow2(len))) }, overrides);
  const wg = Number(constants.WG);
  if (wg !== nextPow2(wg) || wg > 256 || wg > limits.maxComputeInvocationsPerWorkgroup) {
    throw new LimitError(`softmax: WG must be a power of two <= min(256, ${limits.maxComputeInvocationsPerWorkgroup}), got ${wg}`);
  }
  return {
    shader: softmaxShader,
    entry: 'softmax_main',
    constants,
    variant: `wg${wg}`,
    grid: foldGrid('softmax', rows, limits),
    uniforms: { rows, len, inner },
  };
}
