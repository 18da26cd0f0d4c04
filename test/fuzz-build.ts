// Graph builders and error models for the fuzz cases (test/fuzz-cases.ts describes and generates
// them). A case is plain JSON; everything here derives from it, feeds included (from case.seed), so
// the page and Node build the same graph from the same description.
import { Graph, type CompileOptions, type Feeds, type Tensor } from '../src/index';
import { GATES, rnnParamNames } from '../src/graph/ir';
import { numel } from '../src/graph/shapes';
import { rnnTol } from './cases-rnn';
import { randn, rng, type Tolerance } from './parity';
import type { FuzzCase, ChainCase, OpCase } from './fuzz-cases';

export interface Built {
  graph: Graph;
  feeds: Feeds;
  kernel: string;
  options?: CompileOptions;
  /**
   * A function where the error depends on intermediate values (a layer norm divides by its rows'
   * std): it takes the CPU reference's values of the outputs named `probe:*`, which
   * buildCase(c, true) adds to the graph.
   */
  tol: Tolerance | ((probe: Record<string, Float32Array>) => Tolerance);
}

const U = 2 ** -24;

/** Feeds from the case seed: each call takes the next sub-seed, so the order of calls fixes the data. */
class Data {
  private k = 0;
  constructor(private readonly seed: number) {}
  private next(): number {
    return (Math.imul(this.seed, 0x9e3779b1) + 7919 * ++this.k) >>> 0;
  }
  f32(shape: number[], scale: number): Float32Array {
    return randn(numel(shape), this.next(), scale);
  }
  /** Values with |v| in [lo, scale]: denominators kept off zero (NaN/Inf are tested elsewhere). */
  awayFromZero(shape: number[], lo: number, scale: number): Float32Array {
    return this.f32(shape, 1).map((v) => Math.sign(v || 1) * (lo + Math.abs(v) * (scale - lo)));
  }
  ints(n: number, hi: number): Int32Array {
    const r = rng(this.next());
    return Int32Array.from({ length: n }, () => Math.floor(r() * hi));
  }
  bools(n: number, p: number): Uint8Array {
    const r = rng(this.next());
    return Uint8Array.from({ length: n }, () => (r() < p ? 1 : 0));
  }
}

const variantOf = (family: string, v: string): CompileOptions | undefined =>
  v === 'auto' ? undefined : { variants: { [family]: v } };
const swapLast = (s: number[]) => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];
function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** An input stored with its last two dims swapped and viewed back through g.transpose. */
function input(g: Graph, feeds: Feeds, name: string, shape: number[], data: (s: number[]) => Float32Array, transposed = false): Tensor {
  if (!transposed || shape.length < 2) {
    feeds[name] = data(shape);
    return g.input(name, shape);
  }
  const stored = swapLast(shape);
  feeds[name] = data(stored);
  return g.transpose(g.input(name, stored), -1, -2);
}

// Error models; each says why. matmul: f32 sums of K products, each add rounding by u relative to the
// running sum: between sqrt(K) u and K u times the sum of |products|, as test/cases-matmul.ts.
const gemmAtol = (k: number, prod: number) => 4e-7 * Math.max(k, 1) * prod + 1e-7;
const exactTol: Tolerance = { atol: 0, rtol: 2.5e-7, why: 'one correctly rounded f32 op (div: 2.5 ulp)' };
const copyTol: Tolerance = { atol: 0, rtol: 0, why: 'copies and gathers move 32-bit words unchanged' };
const transcTol: Tolerance = { atol: 1e-6, rtol: 1e-5, why: 'tanh/sigmoid through exp: a few ulp' };
const geluTol: Tolerance = { atol: 1e-6, rtol: 1e-5, why: 'A&S 7.1.26 erf (1.5e-7 abs), tanh form via exp' };
const softmaxTol: Tolerance = { atol: 1e-6, rtol: 1e-4, why: 'WGSL exp is 3 + 2|x| ulp; positive sums' };
/** Layer norm's own error: f32 mean and variance over N (random signs: sqrt(N) u), divided by the row's std. */
const lnOwn = (n: number, xMax: number, std: number) => 8 * U * Math.sqrt(n) * (xMax + 1) / std + 2e-5;

/** Smallest sqrt(var + eps) over the rows of n trailing values (what a layer norm divides by). */
function minStd(x: ArrayLike<number>, n: number, eps: number): number {
  let min = Infinity;
  for (let r = 0; r * n < x.length; r++) {
    let mean = 0, v = 0;
    for (let i = 0; i < n; i++) mean += x[r * n + i];
    mean /= n;
    for (let i = 0; i < n; i++) v += (x[r * n + i] - mean) ** 2;
    min = Math.min(min, Math.sqrt(v / n + eps));
  }
  return min;
}

/** An input error `d` through a layer norm of n values, std >= std: d/std per term, sqrt(n) d/std via the std. */
const throughLn = (d: number, n: number, std: number) => ((2 + Math.sqrt(n)) * d) / std;

export function buildCase(c: FuzzCase, probe = false): Built {
  return c.op.startsWith('chain:') ? buildChain(c as ChainCase, probe) : buildOp(c as OpCase);
}

function buildOp(c: OpCase): Built {
  const g = new Graph();
  const feeds: Feeds = {};
  const d = new Data(c.seed);
  switch (c.op) {
    case 'matmul': {
      const a = input(g, feeds, 'a', c.a, (s) => d.f32(s, 3), c.aT), b = input(g, feeds, 'b', c.b, (s) => d.f32(s, 3), c.bT);
      g.output('y', g.matmul(a, b));
      const k = c.a[c.a.length - 1];
      return { graph: g, feeds, kernel: 'matmul', options: variantOf('matmul', c.variant), tol: { atol: gemmAtol(k, 9), rtol: 1e-5, why: `f32 GEMM over K = ${k}, |a|, |b| <= 3` } };
    }
    case 'linear': {
      const k = c.x[c.x.length - 1];
      const x = input(g, feeds, 'x', c.x, (s) => d.f32(s, 3));
      // wT: the weight stored [in, out] and passed as its transposed view.
      const w = input(g, feeds, 'w', [c.out, k], (s) => d.f32(s, 1), c.wT);
      const b = c.bias ? input(g, feeds, 'b', [c.out], (s) => d.f32(s, 1)) : undefined;
      let y = g.linear(x, w, b);
      if (c.act !== 'none') y = g[c.act](y);
      if (c.residual) y = g.add(input(g, feeds, 'r', [...c.x.slice(0, -1), c.out], (s) => d.f32(s, 3)), y);
      g.output('y', y);
      const lin = gemmAtol(k + 1, 3);
      const atol = lin + (c.act === 'tanh' || c.act === 'sigmoid' ? 1e-6 : 0) + (c.residual ? 2 * U * (3 + 3 * k + 1) : 0);
      return { graph: g, feeds, kernel: 'matmul', options: variantOf('matmul', c.variant), tol: { atol, rtol: 1e-5, why: `f32 GEMM over K = ${k} + bias (|x| <= 3, |w| <= 1), fused epilogue` } };
    }
    case 'add': case 'sub': case 'mul': case 'div': {
      const a = input(g, feeds, 'a', c.a, (s) => d.f32(s, 3), c.aT);
      const b = input(g, feeds, 'b', c.b, (s) => (c.op === 'div' ? d.awayFromZero(s, 0.25, 3) : d.f32(s, 3)));
      g.output('y', g[c.op](a, b));
      return { graph: g, feeds, kernel: 'elementwise', tol: exactTol };
    }
    case 'dtype': {
      // Values from a small grid so comparisons tie; f32 operands also get NaN and +-inf.
      const grid = [-2, -1, -0.5, 0, 0.5, 1, 2, NaN, Infinity, -Infinity];
      const operand = (name: string, shape: number[], int: boolean, transposed: boolean): Tensor => {
        const stored = transposed ? swapLast(shape) : shape;
        const ids = d.ints(numel(stored), int ? 5 : grid.length);
        feeds[name] = int ? ids.map((v) => v - 2) : Float32Array.from(ids, (i) => grid[i]);
        const t = g.input(name, stored, int ? 'i32' : 'f32');
        return transposed ? g.transpose(t, -1, -2) : t;
      };
      const a = operand('a', c.a, c.aInt, c.aT), b = operand('b', c.b, c.bInt, false);
      const m = g[c.cmp](a, b);
      g.output('mask', m);
      g.output('where', g.where(m, a, b));
      g.output('fill', g.maskedFill(b, g.logicalNot(m), c.bInt ? -7 : -Infinity));
      g.output('logic', g.logicalOr(g.logicalAnd(m, g.cast(a, 'bool')), g.cast(g.cast(b, 'i32'), 'bool')));
      return { graph: g, feeds, kernel: 'elementwise', tol: { ...copyTol, why: 'comparisons, selects and casts are exact' } };
    }
    case 'relu': case 'tanh': case 'sigmoid': case 'gelu': case 'gelu-tanh': {
      const x = input(g, feeds, 'x', c.x, (s) => d.f32(s, 3), c.xT);
      g.output('y', c.op === 'gelu' || c.op === 'gelu-tanh' ? g.gelu(x, c.op === 'gelu' ? 'none' : 'tanh') : g[c.op](x));
      const tol = c.op.startsWith('gelu') ? geluTol : c.op === 'relu' ? { ...copyTol, why: 'relu selects x or 0: exact' } : transcTol;
      return { graph: g, feeds, kernel: 'elementwise', tol };
    }
    case 'softmax': {
      g.output('y', g.softmax(input(g, feeds, 'x', c.x, (s) => d.f32(s, 3), c.xT), c.dim));
      return { graph: g, feeds, kernel: 'softmax', options: variantOf('softmax', c.variant), tol: softmaxTol };
    }
    case 'layerNorm': {
      const x = input(g, feeds, 'x', c.x, (s) => d.f32(s, 3));
      const w = c.weight ? input(g, feeds, 'w', c.normalized, (s) => d.f32(s, 2)) : undefined;
      const b = c.bias ? input(g, feeds, 'b', c.normalized, (s) => d.f32(s, 1)) : undefined;
      g.output('y', g.layerNorm(x, c.normalized, w, b, c.eps));
      const n = numel(c.normalized), std = minStd(feeds.x as Float32Array, n, c.eps);
      const atol = lnOwn(n, 3, std) * (w ? 2 : 1);
      return { graph: g, feeds, kernel: 'layernorm', options: variantOf('layernorm', c.variant), tol: { atol, rtol: 1e-4, why: `f32 mean/variance over N = ${n}, rows' std >= ${std.toExponential(2)}` } };
    }
    case 'embedding': {
      feeds.ids = d.ints(numel(c.ids), c.table[0]);
      g.output('y', g.embedding(g.input('ids', c.ids, 'i32'), input(g, feeds, 'w', c.table, (s) => d.f32(s, 3))));
      return { graph: g, feeds, kernel: 'embedding', tol: copyTol };
    }
    case 'attention': {
      const bthd = c.layout === 'bthd';
      const operand = (name: string, shape: number[], scale: number, kT = false) => {
        if (!bthd) return input(g, feeds, name, shape, (s) => d.f32(s, scale), kT);
        const [B, H, T, D] = shape; // stored [B, T, H, D] as a model's projections come out
        feeds[name] = d.f32([B, T, H, D], scale);
        return g.transpose(g.input(name, [B, T, H, D]), 1, 2);
      };
      const q = operand('q', c.q, c.qk), k = operand('k', c.k, c.qk, c.layout === 'kT'), v = operand('v', c.v, 1);
      let attnMask: Tensor | undefined;
      if (c.mask === 'bool') {
        feeds.mask = d.bools(numel(c.maskShape), 0.7);
        attnMask = g.input('mask', c.maskShape, 'bool');
      } else if (c.mask === 'float') {
        const m = d.f32(c.maskShape, 3), hide = d.bools(m.length, 0.2);
        feeds.mask = m.map((x, i) => (hide[i] ? -Infinity : x));
        attnMask = g.input('mask', c.maskShape);
      }
      g.output('y', g.scaledDotProductAttention(q, k, v, { attnMask, isCausal: c.mask === 'causal', scale: c.scale ?? undefined }));
      const D = c.q[c.q.length - 1], scale = c.scale ?? 1 / Math.sqrt(D), S = scale * D * c.qk * c.qk;
      // As test/cases-attention.ts: scores of D products (S bounds their |sum|), a mask value adds one rounding.
      const tol = { atol: 2e-6 + 1e-7 * (S + 3), rtol: 1e-5, why: `f32 scores of D = ${D} products (S = ${S.toFixed(1)}), exp a few ulp, convex mix of |v| <= 1` };
      return { graph: g, feeds, kernel: 'attention', options: variantOf('attention', c.variant), tol };
    }
    case 'rnn':
      return buildRnnCase(c, g, feeds, d);
    case 'slice':
      g.output('y', g.slice(input(g, feeds, 'x', c.x, (s) => d.f32(s, 3), c.xT), c.dim, c.start, c.end));
      return { graph: g, feeds, kernel: 'copy', tol: copyTol };
    case 'concat':
      g.output('y', g.concat(c.parts.map((s, i) => input(g, feeds, `p${i}`, s, (t) => d.f32(t, 3), i === 0 && c.firstT)), c.dim));
      return { graph: g, feeds, kernel: 'copy', tol: copyTol };
    case 'gather': {
      feeds.i = d.ints(numel(c.index), c.x[c.dim]);
      g.output('y', g.gather(input(g, feeds, 'x', c.x, (s) => d.f32(s, 3)), c.dim, g.input('i', c.index, 'i32')));
      return { graph: g, feeds, kernel: 'copy', tol: copyTol };
    }
    case 'assign': {
      const st = g.state('s', c.state);
      const value = input(g, feeds, 'v', c.value, (s) => d.f32(s, 3));
      let offset: number | Tensor = c.offset;
      if (c.fed) {
        feeds.pos = new Int32Array([c.offset]);
        offset = g.input('pos', [1], 'i32');
      }
      const after = g.assign(st, value, { dim: c.dim, offset });
      g.output('state', after);
      g.output('y', g.mul(after, input(g, feeds, 'w', c.state, (s) => d.f32(s, 3))));
      return { graph: g, feeds, kernel: 'copy', tol: exactTol };
    }
  }
}

function rnnGraph(g: Graph, feeds: Feeds, d: Data, c: Extract<OpCase, { op: 'rnn' }>, x: Tensor): Tensor[] {
  const D = c.bidirectional ? 2 : 1, G = GATES[c.cell] * c.H, I = x.shape[2];
  const params: Record<string, Tensor> = {};
  for (const name of rnnParamNames(c.layers, D, c.bias)) {
    const layer = Number(/_l(\d+)/.exec(name)![1]);
    const shape = name.startsWith('weight_ih') ? [G, layer === 0 ? I : D * c.H] : name.startsWith('weight_hh') ? [G, c.H] : [G];
    // torch's init scale, 1/sqrt(H): the regime rnnTol's error model is for.
    const t = name.startsWith('weight_') && c.wT;
    if (c.constants) {
      const stored = t ? [shape[1], shape[0]] : shape;
      const w = g.constant(d.f32(stored, 1 / Math.sqrt(c.H)), stored);
      params[name] = t ? g.transpose(w, 0, 1) : w;
    } else params[name] = input(g, feeds, name, shape, (s) => d.f32(s, 1 / Math.sqrt(c.H)), t);
  }
  const state = [D * c.layers, c.B, c.H];
  const h0 = c.h0 ? input(g, feeds, 'h0', state, (s) => d.f32(s, 1)) : undefined;
  const c0 = c.c0 && c.cell === 'lstm' ? input(g, feeds, 'c0', state, (s) => d.f32(s, 1)) : undefined;
  const opts = { hiddenSize: c.H, numLayers: c.layers, bidirectional: c.bidirectional, batchFirst: c.batchFirst, bias: c.bias, h0, c0 };
  if (c.cell === 'lstm') {
    const r = g.lstm(x, params, opts);
    return [r.output, r.hN, r.cN];
  }
  const r = c.cell === 'gru' ? g.gru(x, params, opts) : g.rnn(x, params, { ...opts, nonlinearity: c.cell === 'rnn_relu' ? 'relu' : 'tanh' });
  return [r.output, r.hN];
}

function buildRnnCase(c: Extract<OpCase, { op: 'rnn' }>, g: Graph, feeds: Feeds, d: Data): Built {
  const x = input(g, feeds, 'x', c.batchFirst ? [c.B, c.T, c.I] : [c.T, c.B, c.I], (s) => d.f32(s, 1));
  const [output, hN, cN] = rnnGraph(g, feeds, d, c, x);
  g.output('output', output);
  g.output('hN', hN);
  if (cN) g.output('cN', cN);
  const family = c.cell.startsWith('rnn') ? 'rnn' : c.cell;
  return { graph: g, feeds, kernel: family, options: variantOf(family, c.variant), tol: rnnTol({ cell: c.cell, T: c.T, B: c.B, I: c.I, H: c.H, layers: c.layers }) };
}

function buildChain(c: ChainCase, probe: boolean): Built {
  const g = new Graph();
  const feeds: Feeds = {};
  const d = new Data(c.seed);
  const p = (name: string, t: Tensor) => probe && g.output(`probe:${name}`, t);
  switch (c.op) {
    case 'chain:mlp': {
      const K = c.x[2], N = c.hidden;
      const pre = g.linear(input(g, feeds, 'x', c.x, (s) => d.f32(s, 3)), input(g, feeds, 'w', [N, K], (s) => d.f32(s, 1 / Math.sqrt(K))), input(g, feeds, 'b', [N], (s) => d.f32(s, 1)));
      const h = g.gelu(pre, c.approximate);
      const w = input(g, feeds, 'lnw', [N], (s) => d.f32(s, 2));
      g.output('y', g.softmax(g.layerNorm(h, [N], w, undefined, c.eps), c.softmaxDim));
      p('pre', pre);
      p('h', h);
      const tolFrom = (o: Record<string, Float32Array>): Tolerance => {
        const lin = gemmAtol(K + 1, 3 / Math.sqrt(K));
        const gel = 1.13 * lin + 1e-6 + 1e-5 * maxAbs(o['probe:pre']);
        const std = minStd(o['probe:h'], N, c.eps);
        const ln = 2 * (throughLn(gel, N, std) + lnOwn(N, maxAbs(o['probe:h']), std));
        return { atol: 0.5 * ln + 1e-6, rtol: 1e-4, why: `linear (K = ${K}) -> gelu -> layerNorm (rows' std >= ${std.toExponential(2)}, |w| <= 2) -> softmax (Lipschitz 1/2)` };
      };
      return { graph: g, feeds, kernel: 'chain', tol: tolFrom };
    }
    case 'chain:block':
      return buildBlock(c, g, feeds, d, p);
    case 'chain:classifier': {
      const ids = g.input('ids', [c.B, c.T], 'i32');
      feeds.ids = d.ints(c.B * c.T, c.vocab);
      const e = g.embedding(ids, input(g, feeds, 'emb', [c.vocab, c.E], (s) => d.f32(s, 1)));
      const rc = { op: 'rnn', cell: c.cell, T: c.T, B: c.B, I: c.E, H: c.H, layers: 1, bidirectional: false, batchFirst: true, bias: true, h0: false, c0: false, constants: true, wT: false, variant: 'auto', seed: c.seed } as const;
      const [out] = rnnGraph(g, feeds, d, rc, e);
      // The last valid step of each sequence: torch.gather along time with an index [B, 1, H].
      feeds.last = Int32Array.from({ length: c.B * c.H }, (_, i) => c.lengths[Math.floor(i / c.H)] - 1);
      const last = g.reshape(g.gather(out, 1, g.input('last', [c.B, 1, c.H], 'i32')), [c.B, c.H]);
      const fc = g.linear(last, input(g, feeds, 'fcw', [c.classes, c.H], (s) => d.f32(s, 1 / Math.sqrt(c.H))), input(g, feeds, 'fcb', [c.classes], (s) => d.f32(s, 1)));
      g.output('y', g.softmax(fc, -1));
      const r = rnnTol({ cell: c.cell, T: c.T, B: c.B, I: c.E, H: c.H });
      const lin = Math.sqrt(c.H) * (r.atol + r.rtol) + gemmAtol(c.H + 1, 1 / Math.sqrt(c.H));
      return { graph: g, feeds, kernel: 'chain', tol: { atol: 0.5 * lin + 1e-6, rtol: 1e-4, why: `${c.cell} (rnnTol, |h| <= 1) -> gather -> linear (H = ${c.H}) -> softmax` } };
    }
    case 'chain:ew': {
      let y = input(g, feeds, 'x', c.x, (s) => d.f32(s, 3), c.xT);
      // Error bound carried step by step: |value| <= bound, |error| <= err.
      let bound = 3, err = 0;
      c.steps.forEach((s, i) => {
        if (s.fn === 'add' || s.fn === 'sub' || s.fn === 'mul') {
          const o = input(g, feeds, `o${i}`, s.operand, (t) => d.f32(t, 3));
          y = s.fn === 'mul' ? g.mul(y, o) : g[s.fn](y, o);
          bound = s.fn === 'mul' ? bound * 3 : bound + 3;
          err = (s.fn === 'mul' ? 3 * err : err) + U * bound;
        } else if (s.fn === 'gelu') {
          y = g.gelu(y);
          err = 1.13 * err + 1e-6 + 1e-5 * bound;
        } else {
          y = g[s.fn](y);
          err = (s.fn === 'relu' ? err : err + 1e-6 + 1e-5);
          if (s.fn !== 'relu') bound = 1;
        }
      });
      g.output('y', y);
      return { graph: g, feeds, kernel: 'chain', tol: { atol: 2 * err + 1e-7, rtol: 1e-5, why: 'elementwise chain: each op rounds by u times its bound; exp-based ops a few ulp; errors carried through (derivatives <= 3)' } };
    }
  }
}

function buildBlock(c: Extract<ChainCase, { op: 'chain:block' }>, g: Graph, feeds: Feeds, d: Data, p: (n: string, t: Tensor) => void): Built {
  const { B, T, heads: H, headDim: Dh } = c;
  const E = H * Dh, sw = 1 / Math.sqrt(E);
  const x = input(g, feeds, 'x', [B, T, E], (s) => d.f32(s, 1));
  const proj = (name: string) => g.linear(x, input(g, feeds, name, [E, E], (s) => d.f32(s, sw)));
  // [B, T, E] -> [B, T, H, Dh] -> [B, H, T, Dh]: the heads as views, as a transformer has them.
  const heads = (t: Tensor) => g.transpose(g.reshape(t, [B, T, H, Dh]), 1, 2);
  const q = proj('wq'), k = proj('wk'), v = proj('wv');
  let attnMask: Tensor | undefined;
  if (c.mask === 'padding') {
    feeds.mask = Uint8Array.from({ length: B * T }, (_, i) => (i % T < c.lengths[Math.floor(i / T)] ? 1 : 0));
    attnMask = g.input('mask', [B, 1, 1, T], 'bool');
  }
  const a = g.scaledDotProductAttention(heads(q), heads(k), heads(v), { attnMask, isCausal: c.mask === 'causal' });
  const merged = g.reshape(g.transpose(a, 1, 2), [B, T, E]);
  const o = g.linear(merged, input(g, feeds, 'wo', [E, E], (s) => d.f32(s, sw)), input(g, feeds, 'bo', [E], (s) => d.f32(s, sw)));
  const r = g.add(x, o);
  g.output('y', g.layerNorm(r, [E], input(g, feeds, 'lnw', [E], (s) => d.f32(s, 1)), input(g, feeds, 'lnb', [E], (s) => d.f32(s, 1))));
  for (const [n, t] of [['q', q], ['k', k], ['v', v], ['a', merged], ['r', r]] as const) p(n, t);
  const tolFrom = (pr: Record<string, Float32Array>): Tolerance => {
    const [mq, mk, mv, ma, mr] = ['q', 'k', 'v', 'a', 'r'].map((n) => maxAbs(pr[`probe:${n}`]));
    const dqkv = gemmAtol(E, sw); // |x| <= 1, |w| <= 1/sqrt(E)
    const scale = 1 / Math.sqrt(Dh), S = scale * Dh * mq * mk;
    const dScore = scale * Dh * (mq + mk) * dqkv;
    // A score error ds moves the softmax weights by at most 2 ds in sum; own error as test/cases-attention.ts.
    const dA = 2 * mv * dScore + dqkv + (2e-6 + 1e-7 * S) * Math.max(1, mv);
    const dO = Math.sqrt(E) * dA + gemmAtol(E + 1, ma * sw);
    const dR = dO + 2 * U * (1 + mr);
    const std = minStd(pr['probe:r'], E, 1e-5);
    return { atol: throughLn(dR, E, std) + lnOwn(E, mr, std) + 1e-6, rtol: 1e-4, why: `q/k/v GEMMs (K = ${E}) -> attention over ${H} heads of ${Dh} (S = ${S.toFixed(1)}) -> GEMM -> residual -> layerNorm (std >= ${std.toExponential(2)})` };
  };
  return { graph: g, feeds, kernel: 'chain', options: variantOf('attention', c.variant), tol: tolFrom };
}
