// CPU reference of torch.nn.functional.layer_norm (biased variance), in float64.
import type { Value } from './core';

export function layerNorm(x: Value, n: number, eps: number, weight?: Value, bias?: Value): Value {
  const out = new Float64Array(x.data.length);
  for (let r = 0; r * n < x.data.length; r++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x.data[r * n + i];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x.data[r * n + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / n + eps); // biased variance, as torch
    for (let i = 0; i < n; i++) {
      out[r * n + i] = (x.data[r * n + i] - mean) * inv * (weight ? weight.data[i] : 1) + (bias ? bias.data[i] : 0);
    }
  }
  return { data: out, shape: x.shape };
}
