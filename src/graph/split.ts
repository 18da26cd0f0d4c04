// Tensors past the binding limit (maxStorageBufferBindingSize, or the cap given to Runtime.create):
// such a value is held as several buffers, each a run of whole slices along one dim. Here are the
// layouts and the host-side copies: which slices go in which part, a part cut out of a constant or
// a fed input, and a part of an output put back in its place. LowerCtx (lower-ctx.ts) makes the
// slots; the ops that take split operands (embedding, gather, matmul, linear) dispatch per part.
import { contiguousStrides, numel } from './shapes';
import type { DType } from './ir';

/**
 * A contiguous tensor seen as [outer, len, inner], cut along `len`: part k holds slices
 * [start, end) as its own contiguous [outer, end - start, inner] buffer.
 */
export interface SplitDims {
  outer: number;
  len: number;
  inner: number;
}

export interface SplitPart {
  start: number;
  end: number;
  slot: number;
}

export interface Split extends SplitDims {
  parts: SplitPart[];
}

/** One part of a split tensor, for the host copies in and out of it. */
export interface PartRange extends SplitDims {
  start: number;
  end: number;
}

/**
 * A value too large for one binding. Its view (Val.shape, Val.strides) indexes `storage`, a
 * contiguous layout, through `perm` (view dim d is storage dim perm[d]). It is a constant or input
 * not yet cut (`source`, the node: cut on demand, once per layout), or a result already split.
 */
export interface Big {
  storage: number[];
  perm: number[];
  dtype: DType;
  source?: number;
  split?: Split;
}

/** The layout of `storage` cut along dim `axis`. */
export function splitDims(storage: readonly number[], axis: number): SplitDims {
  return { outer: numel(storage.slice(0, axis)), len: storage[axis], inner: numel(storage.slice(axis + 1)) };
}

/**
 * Whole slices per part: as many as fit in `max` bytes, rounded down to a multiple of 4 when there
 * are at least 4 (so column offsets keep the matmul's vec4 loads aligned). 0 when one slice is too big.
 */
export function slicesPerPart(sliceBytes: number, max: number): number {
  const n = Math.floor(max / sliceBytes);
  return n >= 4 ? n - (n % 4) : n;
}

/** [start, end) of each part of `len` slices, `per` to a part (the last may hold fewer). */
export function partRanges(len: number, per: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < len; s += per) out.push([s, Math.min(len, s + per)]);
  return out;
}

/**
 * The layout of a result too big for one buffer that is written in row order (a gather or an
 * embedding): the innermost dims that fit a buffer make a row, everything before them is `len`.
 */
export function rowDims(shape: readonly number[], elemBytes: number, max: number): SplitDims | null {
  for (let a = 0; a < shape.length; a++) {
    const inner = numel(shape.slice(a + 1));
    if (inner * elemBytes <= max) return { outer: 1, len: numel(shape.slice(0, a + 1)), inner };
  }
  return null;
}

type Typed = Float32Array | Int32Array | Uint32Array | Uint16Array;

/** Part `r` of a contiguous array: a subarray (no copy) when outer is 1, else a packed copy. */
export function extractPart<T extends Typed>(data: T, r: PartRange): T {
  const w = r.end - r.start;
  if (r.outer === 1) return data.subarray(r.start * r.inner, r.end * r.inner) as T;
  const out = new (data.constructor as new (n: number) => T)(r.outer * w * r.inner);
  for (let o = 0; o < r.outer; o++) {
    const from = (o * r.len + r.start) * r.inner;
    out.set(data.subarray(from, from + w * r.inner), o * w * r.inner);
  }
  return out;
}

/** Writes part `r` (packed [outer, end - start, inner]) into its place in `dst`. */
export function scatterPart(dst: Float32Array, part: Float32Array, r: PartRange): void {
  const w = r.end - r.start;
  for (let o = 0; o < r.outer; o++) {
    dst.set(part.subarray(o * w * r.inner, (o + 1) * w * r.inner), (o * r.len + r.start) * r.inner);
  }
}

// Parts copied out of a constant, kept per array: executables compiled from the same weights (a
// prefill and a decode-step graph) get the same arrays, so GpuContext uploads each part once.
const copiedParts = new WeakMap<object, Map<string, Typed>>();

/**
 * Part `r` of a constant's data, the same array for the same data and range. A 16-bit weight's part
 * is its own buffer, so it is packed in pairs from its own first element whatever its start.
 */
export function constantPart<T extends Float32Array | Int32Array | Uint16Array>(data: T, r: PartRange): T {
  if (r.outer === 1) return extractPart(data, r);
  let byRange = copiedParts.get(data);
  if (!byRange) copiedParts.set(data, (byRange = new Map()));
  const key = `${r.outer}|${r.len}|${r.inner}|${r.start}|${r.end}`;
  let part = byRange.get(key);
  if (!part) byRange.set(key, (part = extractPart(data, r)));
  return part as T;
}

/** The view of a part through a Big's perm: its storage is `storage` with `axis` cut to `width`. */
export function partView(big: Big, axis: number, width: number): { shape: number[]; strides: number[] } {
  const storage = big.storage.slice();
  storage[axis] = width;
  const cs = contiguousStrides(storage);
  return { shape: big.perm.map((a) => storage[a]), strides: big.perm.map((a) => cs[a]) };
}

export const sameDims = (a: SplitDims, b: SplitDims): boolean => a.outer === b.outer && a.len === b.len && a.inner === b.inner;
