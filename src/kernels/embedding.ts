// Plans shaders/embedding.wgsl: a row gather, one thread per output element.
import code from '../../shaders/embedding.wgsl?raw';
import { foldGrid, pickConstants, shaderOf, type DeviceLimits, type KernelOverrides, type KernelPlan } from './kernel';

export const embeddingShader = shaderOf('shaders/embedding.wgsl', code);

/** `flag`: 0 when the ids were range-checked before dispatch, else the flag an id out of range raises. */
export function planEmbedding(
  count: number, dim: number, num: number, flag: number, overrides: KernelOverrides | undefined, limits: DeviceLimits,
): KernelPlan {
  const constants = pickConstants('embedding', { WG: 256 }, overrides);
  const total = count * dim;
  return {
    shader: embeddingShader, entry: 'embedding_main', constants, variant: 'gather',
    grid: foldGrid('embedding', Math.ceil(total / Number(constants.WG)), limits),
    uniforms: { total, dim, num, flag },
  };
}
