// CPU reference of the data-movement ops: slice, concat, gather and assign (into a state's data).
import { contiguousStrides, numel } from '../graph/shapes';
import type { Value } from './core';

/** Copies src (shape `shape`) into dst at `offset` along `dim`; dst has shape `dstShape`. */
function place(dst: Float64Array, dstShape: number[], src: Value, dim: number, offset: number): void {
  const outer = numel(dstShape.slice(0, dim)), inner = numel(dstShape.slice(dim + 1));
  const n = src.shape[dim], N = dstShape[dim];
  for (let o = 0; o < outer; o++) {
    dst.set(src.data.subarray(o * n * inner, (o + 1) * n * inner), (o * N + offset) * inner);
  }
}

export function slice(x: Value, dim: number, start: number, outShape: number[]): Value {
  const outer = numel(x.shape.slice(0, dim)), inner = numel(x.shape.slice(dim + 1));
  const n = outShape[dim], N = x.shape[dim];
  const out = new Float64Array(numel(outShape));
  for (let o = 0; o < outer; o++) {
    out.set(x.data.subarray((o * N + start) * inner, (o * N + start + n) * inner), o * n * inner);
  }
  return { data: out, shape: outShape };
}

export function concat(xs: Value[], dim: number, outShape: number[]): Value {
  const out = new Float64Array(numel(outShape));
  let at = 0;
  for (const x of xs) {
    place(out, outShape, x, dim, at);
    at += x.shape[dim];
  }
  return { data: out, shape: outShape };
}

export function gather(x: Value, dim: number, index: Value): Value {
  const is = index.shape, xsStr = contiguousStrides(x.shape), isStr = contiguousStrides(is);
  const out = new Float64Array(numel(is));
  for (let i = 0; i < out.length; i++) {
    let off = 0;
    for (let d = 0; d < is.length; d++) {
      const c = Math.floor(i / isStr[d]) % is[d];
      off += (d === dim ? index.data[i] : c) * xsStr[d];
    }
    // An index of -1 was screened out of range (a computed index): it reads 0, as on the GPU.
    out[i] = index.data[i] < 0 ? 0 : x.data[off];
  }
  return { data: out, shape: is };
}

/** Writes value into the state's data in place; the state Value itself is the result. */
export function assign(state: Value, value: Value, dim: number, offset: number): Value {
  place(state.data, state.shape, value, dim, offset);
  return state;
}

