// CPU reference of matmul (batch dims broadcast) and linear, summing in float64.
import { broadcastShapes, broadcastStrides, contiguousStrides, numel } from '../graph/shapes';
import { forEachIndex, type Value } from './core';

export function matmul(a: Value, b: Value): Value {
  const [m, k] = a.shape.slice(-2), n = b.shape[b.shape.length - 1];
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const sa = broadcastStrides(a.shape.slice(0, -2), contiguousStrides(a.shape.slice(0, -2)), batch);
  const sb = broadcastStrides(b.shape.slice(0, -2), contiguousStrides(b.shape.slice(0, -2)), batch);
  const out = new Float64Array(numel(batch) * m * n);
  forEachIndex(batch, [sa, sb], (bi, [oa, ob]) => {
    const a0 = oa * m * k, b0 = ob * k * n, o0 = bi * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += a.data[a0 + i * k + p] * b.data[b0 + p * n + j];
        out[o0 + i * n + j] = acc;
      }
    }
  });
  return { data: out, shape: [...batch, m, n] };
}

export function linear(x: Value, w: Value, bias?: Value): Value {
  const [nOut, nIn] = w.shape;
  // Counted from the leading dims, not numel / nIn: with nIn = 0 every row is the bias alone.
  const rows = numel(x.shape.slice(0, -1));
  const out = new Float64Array(rows * nOut);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < nOut; o++) {
      let acc = bias ? bias.data[o] : 0;
      for (let p = 0; p < nIn; p++) acc += x.data[r * nIn + p] * w.data[o * nIn + p];
      out[r * nOut + o] = acc;
    }
  }
  return { data: out, shape: [...x.shape.slice(0, -1), nOut] };
}
