// Plans shaders/embedding.wgsl: a row gather, one thread per output element; one dispatch per part
// of a table (or of an output) past the binding limit.
import code from '../../shaders/embedding.wgsl?raw';
import { foldGrid, pickConstants, shaderOf, type DeviceLimits, type KernelOverrides, type KernelPlan } from './kernel';

export const embeddingShader = shaderOf('shaders/embedding.wgsl', code);

/** Which rows of the table this dispatch holds, and which output rows it writes. */
export interface EmbeddingPart {
  /** Table rows [rowStart, rowStart + rows) are bound as `weight`. */
  rowStart: number;
  rows: number;
  /** `y` holds output rows [outRow, outRow + count). */
  outRow: number;
}

/**
 * `count` output rows of `dim` from a table of `num` rows. `flag`: 0 when the ids were range-checked
 * before dispatch, else the flag an id out of range raises. `part`: default, the whole table and output.
 */
export function planEmbedding(
  count: number, dim: number, num: number, flag: number, overrides: KernelOverrides | undefined, limits: DeviceLimits,
  part: EmbeddingPart = { rowStart: 0, rows: num, outRow: 0 },
): KernelPlan {
  const constants = pickConstants('embedding', { WG: 256 }, overrides);
  const total = count * dim;
  return {
    shader: embeddingShader, entry: 'embedding_main', constants, variant: 'gather',
    grid: foldGrid('embedding', Math.ceil(total / Number(constants.WG)), limits),
    uniforms: { total, dim, num, flag, rowStart: part.rowStart, rows: part.rows, outBase: part.outRow * dim },
  };
}
