// CPU reference of the recurrent stacks (torch.nn.LSTM, GRU, RNN), in float64, written as the torch
// docs state each cell: LSTM gates i, f, g, o; GRU r, z, n with n = tanh(W_in x + b_in + r (W_hn h + b_hn)).
import { GATES, type Cell, type NodeOf } from '../graph/ir';
import type { Value } from './core';

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
