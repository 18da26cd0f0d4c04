// Float64 references for the nn module tests, written from the torch / Hugging Face formulas with
// plain loops (per head, per row), independent of the engine's own CPU reference. Tensors are flat
// row-major arrays; activations are batch first, [B, T, E].
import type { Parameter } from '../src/nn/module';

export type Arr = ArrayLike<number>;
export type Params = Record<string, Arr>;

/** Flattened state dict of a module: name → values. */
export const paramsOf = (named: [string, Parameter][]): Params => Object.fromEntries(named.map(([n, p]) => [n, p.data]));

/** x [R, I] · W[O, I]ᵀ + b → [R, O]. */
export function linear(x: Arr, R: number, I: number, W: Arr, O: number, b?: Arr): Float64Array {
  const out = new Float64Array(R * O);
  for (let r = 0; r < R; r++) {
    for (let o = 0; o < O; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < I; i++) s += x[r * I + i] * W[o * I + i];
      out[r * O + o] = s;
    }
  }
  return out;
}

/** x [R, I] · W[I, O] + b (Hugging Face's Conv1D) → [R, O]. */
export function conv1d(x: Arr, R: number, I: number, W: Arr, O: number, b: Arr): Float64Array {
  const out = new Float64Array(R * O);
  for (let r = 0; r < R; r++) {
    for (let o = 0; o < O; o++) {
      let s = b[o];
      for (let i = 0; i < I; i++) s += x[r * I + i] * W[i * O + o];
      out[r * O + o] = s;
    }
  }
  return out;
}

export function layerNorm(x: Arr, R: number, N: number, w: Arr, b: Arr, eps = 1e-5): Float64Array {
  const out = new Float64Array(R * N);
  for (let r = 0; r < R; r++) {
    let mean = 0, v = 0;
    for (let i = 0; i < N; i++) mean += x[r * N + i] / N;
    for (let i = 0; i < N; i++) v += (x[r * N + i] - mean) ** 2 / N;
    for (let i = 0; i < N; i++) out[r * N + i] = ((x[r * N + i] - mean) / Math.sqrt(v + eps)) * w[i] + b[i];
  }
  return out;
}

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}

export const geluErf = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
export const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
export const relu = (v: number) => Math.max(v, 0);

export const addArr = (a: Arr, b: Arr): Float64Array => Float64Array.from(a, (v, i) => v + b[i]);

/**
 * Multi-head attention on batch-first q [B, L, E], k and v [B, S, E] already projected:
 * per batch, per head, per query, softmax over the keys not ignored. `ignore(b, h, i, j)` says
 * whether key j is hidden from query i; `add(b, h, i, j)` is a float mask term.
 */
export function attendHeads(
  q: Arr, k: Arr, v: Arr, B: number, L: number, S: number, E: number, H: number,
  ignore: (b: number, h: number, i: number, j: number) => boolean = () => false,
  add: (b: number, h: number, i: number, j: number) => number = () => 0,
): Float64Array {
  const D = E / H, out = new Float64Array(B * L * E);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < L; i++) {
        const s = new Float64Array(S);
        let max = -Infinity;
        for (let j = 0; j < S; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[(b * L + i) * E + h * D + d] * k[(b * S + j) * E + h * D + d];
          s[j] = ignore(b, h, i, j) ? -Infinity : dot / Math.sqrt(D) + add(b, h, i, j);
          max = Math.max(max, s[j]);
        }
        let sum = 0;
        for (let j = 0; j < S; j++) sum += (s[j] = Math.exp(s[j] - max));
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j < S; j++) acc += (s[j] / sum) * v[(b * S + j) * E + h * D + d];
          out[(b * L + i) * E + h * D + d] = acc;
        }
      }
    }
  }
  return out;
}

/** torch MultiheadAttention under prefix `p` (in_proj_weight blocks q, k, v; out_proj). */
export function mha(
  P: Params, p: string, q: Arr, kv: Arr, B: number, L: number, S: number, E: number, H: number,
  ignore?: (b: number, h: number, i: number, j: number) => boolean,
  add?: (b: number, h: number, i: number, j: number) => number,
): Float64Array {
  const W = P[`${p}in_proj_weight`], bias = P[`${p}in_proj_bias`];
  const block = (i: number) => [Array.from({ length: E * E }, (_, n) => W[i * E * E + n]), Array.from({ length: E }, (_, n) => bias[i * E + n])];
  const [wq, bq] = block(0), [wk, bk] = block(1), [wv, bv] = block(2);
  const ctx = attendHeads(linear(q, B * L, E, wq, E, bq), linear(kv, B * S, E, wk, E, bk), linear(kv, B * S, E, wv, E, bv), B, L, S, E, H, ignore, add);
  return linear(ctx, B * L, E, P[`${p}out_proj.weight`], E, P[`${p}out_proj.bias`]);
}

/** linear2(act(linear1(x))) under prefix `p`. */
export function feedForward(P: Params, p: string, x: Arr, R: number, E: number, F: number, act: (v: number) => number): Float64Array {
  const h = linear(x, R, E, P[`${p}linear1.weight`], F, P[`${p}linear1.bias`]).map(act);
  return linear(h, R, F, P[`${p}linear2.weight`], E, P[`${p}linear2.bias`]);
}

export interface LayerCfg { E: number; H: number; F: number; normFirst: boolean; act: (v: number) => number }

/** torch TransformerEncoderLayer, batch first; `ignore` masks self-attention. */
export function encoderLayer(P: Params, p: string, x: Arr, B: number, T: number, c: LayerCfg, ignore?: (b: number, h: number, i: number, j: number) => boolean): Float64Array {
  const R = B * T, ln = (n: string, v: Arr) => layerNorm(v, R, c.E, P[`${p}${n}.weight`], P[`${p}${n}.bias`]);
  const sa = (v: Arr) => mha(P, `${p}self_attn.`, v, v, B, T, T, c.E, c.H, ignore);
  const ff = (v: Arr) => feedForward(P, p, v, R, c.E, c.F, c.act);
  if (c.normFirst) {
    const h = addArr(x, sa(ln('norm1', x)));
    return addArr(h, ff(ln('norm2', h)));
  }
  const h = ln('norm1', addArr(x, sa(x)));
  return ln('norm2', addArr(h, ff(h)));
}

/** torch TransformerDecoderLayer, batch first, causal self-attention; `memIgnore` masks cross-attention. */
export function decoderLayer(
  P: Params, p: string, x: Arr, mem: Arr, B: number, T: number, S: number, c: LayerCfg,
  memIgnore?: (b: number, h: number, i: number, j: number) => boolean,
): Float64Array {
  const R = B * T, ln = (n: string, v: Arr) => layerNorm(v, R, c.E, P[`${p}${n}.weight`], P[`${p}${n}.bias`]);
  const sa = (v: Arr) => mha(P, `${p}self_attn.`, v, v, B, T, T, c.E, c.H, (_b, _h, i, j) => j > i);
  const ca = (v: Arr) => mha(P, `${p}multihead_attn.`, v, mem, B, T, S, c.E, c.H, memIgnore);
  const ff = (v: Arr) => feedForward(P, p, v, R, c.E, c.F, c.act);
  if (c.normFirst) {
    let h = addArr(x, sa(ln('norm1', x)));
    h = addArr(h, ca(ln('norm2', h)));
    return addArr(h, ff(ln('norm3', h)));
  }
  let h = ln('norm1', addArr(x, sa(x)));
  h = ln('norm2', addArr(h, ca(h)));
  return ln('norm3', addArr(h, ff(h)));
}

/** Hugging Face GPT2Block under prefix `p` (e.g. 'transformer.h.0.'), causal, batch first. */
export function gpt2Block(P: Params, p: string, x: Arr, B: number, T: number, E: number, H: number, eps = 1e-5): Float64Array {
  const R = B * T;
  const a = layerNorm(x, R, E, P[`${p}ln_1.weight`], P[`${p}ln_1.bias`], eps);
  const qkv = conv1d(a, R, E, P[`${p}attn.c_attn.weight`], 3 * E, P[`${p}attn.c_attn.bias`]);
  const part = (o: number) => Float64Array.from({ length: R * E }, (_, n) => qkv[Math.floor(n / E) * 3 * E + o * E + (n % E)]);
  const ctx = attendHeads(part(0), part(1), part(2), B, T, T, E, H, (_b, _h, i, j) => j > i);
  const h = addArr(x, conv1d(ctx, R, E, P[`${p}attn.c_proj.weight`], E, P[`${p}attn.c_proj.bias`]));
  const m = layerNorm(h, R, E, P[`${p}ln_2.weight`], P[`${p}ln_2.bias`], eps);
  const f = conv1d(m, R, E, P[`${p}mlp.c_fc.weight`], 4 * E, P[`${p}mlp.c_fc.bias`]).map(geluTanh);
  return addArr(h, conv1d(f, R, 4 * E, P[`${p}mlp.c_proj.weight`], E, P[`${p}mlp.c_proj.bias`]));
}

/** [T, B, E] ↔ [B, T, E] (the same swap both ways when the two leading sizes are given in order). */
export function swap01(x: Arr, A: number, Bn: number, E: number): Float64Array {
  const out = new Float64Array(A * Bn * E);
  for (let a = 0; a < A; a++) for (let b = 0; b < Bn; b++) for (let e = 0; e < E; e++) out[(b * A + a) * E + e] = x[(a * Bn + b) * E + e];
  return out;
}

/** max |got - want| (NaN if any is NaN); throws on a length mismatch. */
export function maxErr(got: Arr, want: Arr): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} vs ${want.length}`);
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (Number.isNaN(e)) return NaN;
    m = Math.max(m, e);
  }
  return m;
}
