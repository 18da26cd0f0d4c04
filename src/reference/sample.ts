// CPU reference of sampleTokens, and the host's own token choice (models/sampling.ts's pickToken):
// one definition of which token a row of logits and a draw u give, in float64.
import type { Value } from './core';

/** The largest finite f32: the highest temperature a kernel can be given. */
export const F32_MAX = 3.4028234663852886e38;

/**
 * The index of the largest value of v[start, end), relative to start: the first one on ties, and
 * the first NaN if there is one, as torch.argmax.
 */
export function argmaxRow(v: ArrayLike<number>, start: number, end: number): number {
  let best = start;
  for (let i = start; i < end; i++) {
    if (Number.isNaN(v[i])) return i - start;
    if (v[i] > v[best]) best = i;
  }
  return best - start;
}

/**
 * The token drawn from logits[start, end) with temperature t > 0, the k largest kept (k 0: all) and
 * a draw u in [0, 1): tokens ordered by logit descending, index ascending on ties; weights
 * exp((l - max) / t), 1 for a logit equal to the max (so +inf and an all -inf row are defined);
 * the first token whose running sum of weights passes u * total, or the last kept if rounding
 * leaves u * total past them all. A row holding NaN gives its first NaN (argmaxRow).
 */
export function sampleRow(v: ArrayLike<number>, start: number, end: number, t: number, topK: number, u: number): number {
  const n = end - start;
  const k = topK > 0 ? Math.min(topK, n) : n;
  for (let i = start; i < end; i++) if (Number.isNaN(v[i])) return i - start;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[start + b] - v[start + a] || a - b).slice(0, k);
  const max = v[start + order[0]];
  const w = order.map((i) => (v[start + i] === max ? 1 : Math.exp((v[start + i] - max) / t)));
  const total = w.reduce((a, b) => a + b, 0);
  let r = u * total;
  for (let j = 0; j < k; j++) {
    r -= w[j];
    if (r < 0) return order[j];
  }
  return order[k - 1];
}

/**
 * sampleTokens: one token per row of logits [..., V]; greedy (argmaxRow) where the temperature is
 * 0, else sampleRow with that row's draw.
 */
export function sampleTokens(logits: Value, draws?: Value, temperature?: Value, topK?: Value): Value {
  const V = logits.shape[logits.shape.length - 1];
  const rows = logits.data.length / V;
  const t = temperature?.data[0] ?? 0;
  const k = topK?.data[0] ?? 0;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    out[r] = t === 0 ? argmaxRow(logits.data, r * V, (r + 1) * V) : sampleRow(logits.data, r * V, (r + 1) * V, t, k, draws!.data[r]);
  }
  return { data: out, shape: logits.shape.slice(0, -1) };
}
