// CPU reference of the sequence ops (layer norm, GELU, embedding, attention, the recurrent stacks),
// in float64, written as the torch docs state each formula.
import type { Cell, NodeOf } from '../graph/ir';
import { broadcastShapes, broadcastStrides, contiguousStrides, numel } from '../graph/shapes';
import { GATES } from '../graph/ir';
import type { Value } from './ops';
import { checkRange } from './data';

/** erf to about 1e-13: the Maclaurin series below 3, a continued fraction for erfc above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax < 3) {
    let term = x, sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = ax; // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function gelu(x: Value, approximate: 'none' | 'tanh'): Value {
  const f = approximate === 'tanh'
    ? (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))
    : (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
  return { data: x.data.map(f), shape: x.shape };
}

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

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** torch.nn.LSTM / GRU / RNN over all layers and directions; returns [output, hN, cN?]. */
export function rnn(node: NodeOf<'rnn'>, x: Value, params: Record<string, Value>, h0?: Value, c0?: Value): Value[] {
  const { cell, hiddenSize: H, numLayers: L, batchFirst } = node;
  const D = node.bidirectional ? 2 : 1;
  const [T, B] = batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const G = GATES[cell as Cell];
  const hN = new Float64Array(D * L * B * H), cN = new Float64Array(D * L * B * H);
  // Layer input as [T][B][features], whatever batchFirst says.
  let inp: Float64Array[][] = [];
  for (let t = 0; t < T; t++) {
    inp.push([]);
    for (let b = 0; b < B; b++) {
      const off = batchFirst ? (b * T + t) * x.shape[2] : (t * B + b) * x.shape[2];
      inp[t].push(x.data.subarray(off, off + x.shape[2]));
    }
  }
  for (let l = 0; l < L; l++) {
    const next = Array.from({ length: T }, () => Array.from({ length: B }, () => new Float64Array(D * H)));
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      const wi = params[`weight_ih${sfx}`], wh = params[`weight_hh${sfx}`];
      const bi = params[`bias_ih${sfx}`], bh = params[`bias_hh${sfx}`];
      const I = wi.shape[1];
      const s0 = (l * D + d) * B * H;
      for (let b = 0; b < B; b++) {
        const h = h0 ? Float64Array.from(h0.data.subarray(s0 + b * H, s0 + b * H + H)) : new Float64Array(H);
        const c = c0 ? Float64Array.from(c0.data.subarray(s0 + b * H, s0 + b * H + H)) : new Float64Array(H);
        for (let s = 0; s < T; s++) {
          const t = d ? T - 1 - s : s;
          const xi = new Float64Array(G * H), hh = new Float64Array(G * H);
          for (let r = 0; r < G * H; r++) {
            let a = bi ? bi.data[r] : 0, e = bh ? bh.data[r] : 0;
            for (let k = 0; k < I; k++) a += wi.data[r * I + k] * inp[t][b][k];
            for (let k = 0; k < H; k++) e += wh.data[r * H + k] * h[k];
            xi[r] = a;
            hh[r] = e;
          }
          for (let j = 0; j < H; j++) {
            if (cell === 'lstm') {
              const ig = sig(xi[j] + hh[j]), fg = sig(xi[H + j] + hh[H + j]);
              const gg = Math.tanh(xi[2 * H + j] + hh[2 * H + j]), og = sig(xi[3 * H + j] + hh[3 * H + j]);
              c[j] = fg * c[j] + ig * gg;
              h[j] = og * Math.tanh(c[j]);
            } else if (cell === 'gru') {
              const r = sig(xi[j] + hh[j]), z = sig(xi[H + j] + hh[H + j]);
              const n = Math.tanh(xi[2 * H + j] + r * hh[2 * H + j]);
              h[j] = (1 - z) * n + z * h[j];
            } else {
              const a = xi[j] + hh[j];
              h[j] = cell === 'rnn_tanh' ? Math.tanh(a) : Math.max(a, 0);
            }
          }
          next[t][b].set(h, d * H);
        }
        hN.set(h, s0 + b * H);
        cN.set(c, s0 + b * H);
      }
    }
    inp = next;
  }
  const out = new Float64Array(T * B * D * H);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) out.set(inp[t][b], (batchFirst ? b * T + t : t * B + b) * D * H);
  }
  const state = [D * L, B, H];
  const outs = [{ data: out, shape: batchFirst ? [B, T, D * H] : [T, B, D * H] }, { data: hN, shape: state }];
  if (cell === 'lstm') outs.push({ data: cN, shape: state });
  return outs;
}
