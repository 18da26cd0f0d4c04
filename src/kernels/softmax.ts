// Plans shaders/softmax.wgsl: one workgroup per row of a contiguous [outer, len, inner] view.
import { numel } from '../graph/shapes';
import code from '../../shaders/softmax.wgsl?raw';
import { LimitError } from '../errors';
import { foldGrid, nextPow2, pickConstants, type DeviceLimits, type KernelOverrides, type KernelPlan } from './kernel';

export const softmaxShader = { file: 'shaders/softmax.wgsl', code };

/** `shape` is the contiguous input's shape, `dim` already normalised. */
export function planSoftmax(shape: number[], dim: number, overrides: KernelOverrides | undefined, limits: DeviceLimits): KernelPlan {
  const len = shape[dim];
  const inner = numel(shape.slice(dim + 1));
  const rows = numel(shape.slice(0, dim)) * inner;
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
