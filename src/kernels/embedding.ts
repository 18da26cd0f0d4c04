// Plans shaders/embedding.wgsl: a row gather, one thread per output element; one dispatch per part
// of a table (or of an output) past the binding limit. The table may be a 16-bit weight, read through
// the reader weight16.ts generates.
import code from '../../shaders/embedding.wgsl?raw';
import type { DType } from '../graph/ir';
import { foldGrid, pickConstants, type DeviceLimits, type KernelOverrides, type KernelPlan } from './kernel';
import { weight16Mode, withWeightReader } from './weight16';

/** The shader with an f32 table. */
export const embeddingShader = withWeightReader('shaders/embedding.wgsl', code, 'weight', 2, 'f32', undefined);

/** Which rows of the table this dispatch holds, and which output rows it writes. */
export interface EmbeddingPart {
  /** Table rows [rowStart, rowStart + rows) are bound as `weight`. */
  rowStart: number;
  rows: number;
  /** `y` holds output rows [outRow, outRow + count). */
  outRow: number;
}

/**
 * `count` output rows of `dim` from a table of `num` rows stored as `dtype` (f32, f16 or bf16).
 * `flag`: 0 when the ids were range-checked before dispatch, else the flag an id out of range
 * raises. `part`: default, the whole table and output.
 */
export function planEmbedding(
  count: number, dim: number, num: number, flag: number, overrides: KernelOverrides | undefined, limits: DeviceLimits,
  part: EmbeddingPart = { rowStart: 0, rows: num, outRow: 0 }, dtype: DType = 'f32',
): KernelPlan {
  const constants = pickConstants('embedding', { WG: 256 }, overrides);
  const total = count * dim;
  const mode = weight16Mode('embedding', `weight ${dtype} [${num}, ${dim}]`, dtype, overrides, limits);
  return {
    shader: withWeightReader('shaders/embedding.wgsl', code, 'weight', 2, dtype, mode),
    entry: 'embedding_main', constants, variant: 'gather',
    grid: foldGrid('embedding', Math.ceil(total / Number(constants.WG)), limits),
    uniforms: { total, dim, num, flag, rowStart: part.rowStart, rows: part.rows, outBase: part.outRow * dim },
  };
}
