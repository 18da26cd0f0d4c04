// CPU reference of scaledDotProductAttention in float64: bool masks true = attend, float masks
// added, causal aligned top-left, and a row whose keys are all masked gives zeros.
import type { NodeOf } from '../graph/ir';
import { broadcastShapes, broadcastStrides, contiguousStrides, numel } from '../graph/shapes';
import type { Value } from './core';

/**
 * x where it is within f32's range, else the f32 it rounds to (+-inf): a score past that range is
 * inf on the GPU and in torch's float32, and the float64 sum must not quietly keep it finite.
 */
function f32Overflow(x: number): number {
  const f = Math.fround(x);
  return Number.isFinite(f) ? x : f;
}

export function attention(node: NodeOf<'attention'>, q: Value, k: Value, v: Value, mask?: Value): Value {
  const [Tq, D] = q.shape.slice(-2), Tk = k.shape[k.shape.length - 2], Dv = v.shape[v.shape.length - 1];
  const batch = broadcastShapes('sdpa', broadcastShapes('sdpa', q.shape.slice(0, -2), k.shape.slice(0, -2)), v.shape.slice(0, -2));
  const nb = numel(batch);
  const bIndex = (shape: number[], bi: number) => {
    const s = broadcastStrides(shape, contiguousStrides(shape), batch);
    let rest = bi, off = 0;
    for (let d = batch.length - 1; d >= 0; d--) {
      off += (rest % batch[d]) * s[d];
      rest = Math.floor(rest / batch[d]);
    }
    return off;
  };
  const full = [...batch, Tq, Tk];
  const ms = mask ? broadcastStrides(mask.shape, contiguousStrides(mask.shape), full) : [];
  const out = new Float64Array(nb * Tq * Dv);
  const scores = new Float64Array(Tk);
  const dropped = new Uint8Array(Tk);
  for (let bi = 0; bi < nb; bi++) {
    const q0 = bIndex(q.shape.slice(0, -2), bi) * Tq * D, k0 = bIndex(k.shape.slice(0, -2), bi) * Tk * D;
    const v0 = bIndex(v.shape.slice(0, -2), bi) * Tk * Dv;
    let m0 = 0;
    if (mask) {
      let rest = bi;
      for (let d = batch.length - 1; d >= 0; d--) {
        m0 += (rest % batch[d]) * ms[d];
        rest = Math.floor(rest / batch[d]);
      }
    }
    // A dropped key (causal, bool false, float -inf) takes no part, so NaN in its k or v is never
    // seen. Over the kept keys IEEE does torch's work: a NaN or +inf score makes the row NaN, and so
    // do scores all -inf; NaN or inf in a kept key's v reaches the row even at weight 0 (0 * inf).
    for (let i = 0; i < Tq; i++) {
      let max = -Infinity, kept = 0;
      for (let j = 0; j < Tk; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q.data[q0 + i * D + d] * k.data[k0 + j * D + d];
        s = f32Overflow(s * node.scale);
        let drop = node.isCausal && j > i;
        if (mask) {
          const m = mask.data[m0 + i * ms[full.length - 2] + j * ms[full.length - 1]];
          if (node.mask === 'bool') drop ||= !m;
          else if (m === -Infinity) drop = true;
          else s = f32Overflow(s + m);
        }
        dropped[j] = drop ? 1 : 0;
        if (drop) continue;
        scores[j] = s;
        max = Math.max(max, s);
        kept++;
      }
      const o = out.subarray((bi * Tq + i) * Dv, (bi * Tq + i + 1) * Dv);
      if (!kept) continue; // every key dropped: zeros (documented; torch gives NaN)
      let sum = 0;
      for (let j = 0; j < Tk; j++) if (!dropped[j]) sum += (scores[j] = Math.exp(scores[j] - max));
      for (let j = 0; j < Tk; j++) {
        if (dropped[j]) continue;
        const p = scores[j] / sum;
        for (let d = 0; d < Dv; d++) o[d] += p * v.data[v0 + j * Dv + d];
      }
    }
  }
  return { data: out, shape: [...batch, Tq, Dv] };
}
