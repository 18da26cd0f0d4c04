// CPU reference of torch.nn.functional.embedding.
import { checkRange } from '../graph/executable';
import type { Value } from './core';

/** Throws InputError (before any dispatch, on the GPU too) for an id outside [0, num). */
export function checkIds(ids: ArrayLike<number>, num: number, idsShape: number[]): void {
  checkRange('embedding', 'ids', ids, idsShape, 0, num - 1);
}

/** `screened`: the ids were range-screened already, and an id of -1 reads a zero row. */
export function embedding(ids: Value, w: Value, screened = false): Value {
  const [num, dim] = w.shape;
  if (!screened) checkIds(ids.data, num, ids.shape);
  const out = new Float64Array(ids.data.length * dim);
  ids.data.forEach((id, i) => id >= 0 && out.set(w.data.subarray(id * dim, id * dim + dim), i * dim));
  return { data: out, shape: [...ids.shape, dim] };
}
