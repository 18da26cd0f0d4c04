// Shape helpers shared by the graph builders, the planner and the CPU reference.
import { ShapeError, fmtShape } from '../errors';

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major strides of a contiguous tensor. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** torch broadcasting of two shapes, right-aligned; `op` names the op in the error. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dim ${i - rank}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read `shape` (right-aligned) as if broadcast to `target`: 0 on broadcast dims. */
export function broadcastStrides(
  shape: readonly number[],
  strides: readonly number[],
  target: readonly number[],
): number[] {
  const out = new Array<number>(target.length).fill(0);
  const off = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[off + i] = shape[i] === 1 ? 0 : strides[i];
  return out;
}

/** Normalises a possibly negative dim against `rank`, or throws naming the op. */
export function normDim(op: string, dim: number, rank: number, shape: readonly number[]): number {
  if (!Number.isInteger(dim) || dim < -rank || dim >= rank) {
    throw new ShapeError(`${op}: dim ${dim} is out of range for a tensor of shape ${fmtShape(shape)}`);
  }
  return dim < 0 ? dim + rank : dim;
}

export function checkShape(op: string, what: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${op}: ${what} has an invalid shape ${JSON.stringify(shape)}`);
  }
}
