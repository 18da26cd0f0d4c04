// Plans shaders/layernorm.wgsl: a workgroup per row (GPUs) or a thread per row (CPU-emulated adapters).
import { LimitError, ShapeError } from '../errors';
import code from '../../shaders/layernorm.wgsl?raw';
import { foldGrid, nextPow2, pickConstants, shaderOf, type DeviceLimits, type KernelOverrides, type KernelPlan } from './kernel';

export const layernormShader = shaderOf('shaders/layernorm.wgsl', code);

export const LAYERNORM_VARIANTS = ['workgroup', 'row'] as const;
type Variant = (typeof LAYERNORM_VARIANTS)[number];

export function planLayerNorm(
  rows: number, n: number, eps: number, hasWeight: boolean, hasBias: boolean,
  overrides: KernelOverrides | undefined, limits: DeviceLimits,
): KernelPlan {
  const requested = overrides?.variants?.layernorm as Variant | undefined;
  if (requested !== undefined && !LAYERNORM_VARIANTS.includes(requested)) {
    throw new ShapeError(`layerNorm: unknown variant '${requested}'; the variants are ${LAYERNORM_VARIANTS.join(', ')}`);
  }
  // As softmax: a thread per row wins on CPU-emulated adapters, a workgroup per row on a GPU.
  const variant: Variant = requested ?? (limits.emulated ? 'row' : 'workgroup');
  if (variant === 'row') {
    const constants = pickConstants('layernorm', { WG: 8 }, overrides);
    const wg = Number(constants.WG);
    if (!(wg >= 1 && wg <= limits.maxComputeInvocationsPerWorkgroup)) {
      throw new LimitError(`layerNorm: WG must be 1..${limits.maxComputeInvocationsPerWorkgroup}, got ${wg}`);
    }
    Object.assign(constants, { HAS_WEIGHT: hasWeight, HAS_BIAS: hasBias });
    return {
      shader: layernormShader, entry: 'layernorm_row', constants, variant: `row, wg${wg}`,
      grid: foldGrid('layerNorm', Math.ceil(rows / wg), limits), uniforms: { rows, n, eps },
    };
  }
  const constants = pickConstants('layernorm', { WG: Math.min(256, Math.max(32, nextPow2(n))) }, overrides);
  const wg = Number(constants.WG);
  if (wg !== nextPow2(wg) || wg > 256 || wg > limits.maxComputeInvocationsPerWorkgroup) {
    throw new LimitError(`layerNorm: WG must be a power of two <= min(256, ${limits.maxComputeInvocationsPerWorkgroup}), got ${wg}`);
  }
  Object.assign(constants, { HAS_WEIGHT: hasWeight, HAS_BIAS: hasBias });
  return {
    shader: layernormShader, entry: 'layernorm_main', constants, variant: `wg${wg}`,
    grid: foldGrid('layerNorm', rows, limits), uniforms: { rows, n, eps },
  };
}
