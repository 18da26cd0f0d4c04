// Parity cases for scaledDotProductAttention (shaders/attention.wgsl): sequence lengths 1, 7, 65, 300;
// head dims 8, 64, 80, 256 (D and Dv apart too); causal with Tq < Tk and Tq > Tk; bool and float masks
// broadcast over batch and heads; long hidden key prefixes; fully masked rows (zeros, by choice); large
// logits; transposed views; both variants and several tile configs forced on awkward shapes; NaN,
// +-inf and overflowing scores, with and without masks, in every variant.
import { Graph, type CompileOptions } from '../src/index';
import { numel } from '../src/graph/shapes';
import { randn, rng, type ParityCase, type Tolerance } from './parity';

// Error model. A score s = scale * q.k sums D products in f32: its rounding error is a few u * S at
// worst, S = scale * D * |q|max * |k|max the bound on the sum of |products| (u = 2^-24 = 6e-8), and
// about u * S / sqrt(D) with random signs. A weight exp(s - max) then carries that error relatively,
// plus exp's own 3 + 2|x| ulp (weights with |x| > 20 are below 2e-9 and hardly count), and the output
// is a convex combination of v rows (|v| <= 1) summed in f32 (Tk * u relative at worst). So
// atol = 2e-6 + 1e-7 * S (about 1.7 u * S: the worst-case score error of a few products' worth),
// rtol 1e-5. Measured on lavapipe and SwiftShader: at most a sixth of that; a wrong index, a lost rescale
// or a misplaced mask is off by O(0.01..1).
function attnTol(D: number, scale: number, qMag: number, kMag: number): Tolerance {
  const S = scale * D * qMag * kMag;
  return {
    atol: 2e-6 + 1e-7 * S, rtol: 1e-5,
    why: `f32 scores of D = ${D} products (S = ${S.toFixed(1)}), exp within 3 + 2|x| ulp, convex mix of |v| <= 1`,
  };
}

type MaskGen = (shape: number[], seed: number) => Uint8Array | Float32Array;

interface AttnSpec {
  /** Batch dims of q (and of k, v unless kvBatch is given), e.g. [B, H]. */
  batch: number[];
  Tq: number;
  Tk: number;
  D: number;
  Dv?: number;
  /** k and v batch dims when they broadcast (e.g. [B, 1] for one shared head). */
  kvBatch?: number[];
  causal?: boolean;
  mask?: { kind: 'bool' | 'float'; shape: number[]; gen: MaskGen };
  /** Magnitude of q and k values (v stays in [-1, 1]). */
  qk?: number;
  scale?: number;
  /** Store q, k, v as [B, T, H, D] and view them as [B, H, T, D] (needs a 2-dim batch). */
  bthd?: boolean;
  /** Store k as [..., D, Tk] and view it transposed. */
  kT?: boolean;
  dispatches?: number;
  /** Writes special values into the feeds after they are drawn. */
  patch?: (feeds: Record<string, Float32Array | Uint8Array>) => void;
}

let seed = 9000;

function attnCase(id: string, spec: AttnSpec, options?: CompileOptions): ParityCase {
  const Dv = spec.Dv ?? spec.D;
  const qk = spec.qk ?? 1;
  const scale = spec.scale ?? 1 / Math.sqrt(spec.D);
  const s0 = (seed += 10);
  return {
    id: `attention ${id}`, kernel: 'attention', options, dispatches: spec.dispatches,
    tol: attnTol(spec.D, scale, qk, qk),
    build: () => {
      const g = new Graph();
      const feeds: Record<string, Float32Array | Uint8Array> = {};
      const operand = (name: string, batch: number[], T: number, Dh: number, mag: number, transposeLast = false) => {
        let stored = [...batch, T, Dh];
        if (spec.bthd) stored = [batch[0], T, batch[1], Dh];
        else if (transposeLast) stored = [...batch, Dh, T];
        feeds[name] = randn(numel(stored), s0 + Object.keys(feeds).length, mag);
        const t = g.input(name, stored);
        if (spec.bthd) return g.transpose(t, 1, 2);
        return transposeLast ? g.transpose(t, -1, -2) : t;
      };
      const kvb = spec.kvBatch ?? spec.batch;
      const q = operand('q', spec.batch, spec.Tq, spec.D, qk);
      const k = operand('k', kvb, spec.Tk, spec.D, qk, spec.kT);
      const v = operand('v', kvb, spec.Tk, Dv, 1);
      let attnMask;
      if (spec.mask) {
        attnMask = g.input('mask', spec.mask.shape, spec.mask.kind === 'bool' ? 'bool' : 'f32');
        feeds.mask = spec.mask.gen(spec.mask.shape, s0 + 7);
      }
      g.output('y', g.scaledDotProductAttention(q, k, v, { attnMask, isCausal: spec.causal, scale: spec.scale }));
      spec.patch?.(feeds);
      return { graph: g, feeds };
    },
  };
}

// Mask generators; the last dim is the keys, the one before it (when present) the queries.
const lastDims = (shape: number[]) => ({ tk: shape[shape.length - 1], rows: numel(shape) / shape[shape.length - 1] });

/** Random bool mask with a few rows wholly false. */
const boolRandom = (p: number, fullRows = 0): MaskGen => (shape, s) => {
  const r = rng(s), { tk, rows } = lastDims(shape);
  const m = Uint8Array.from({ length: numel(shape) }, () => (r() < p ? 1 : 0));
  for (let i = 0; i < fullRows; i++) m.fill(0, ((i * 3 + 1) % rows) * tk, ((i * 3 + 1) % rows + 1) * tk);
  return m;
};

/** Key padding: row n of the mask (e.g. batch n of [B, 1, 1, Tk]) attends to its first lens[n] keys. */
const boolKeyPadding = (lens: number[]): MaskGen => (shape) => {
  const { tk } = lastDims(shape);
  return Uint8Array.from({ length: numel(shape) }, (_, i) => (i % tk < lens[Math.floor(i / tk) % lens.length] ? 1 : 0));
};

/** Hides keys < prefix from every row (true = attend). */
const boolHidePrefix = (prefix: number): MaskGen => (shape) => {
  const { tk } = lastDims(shape);
  return Uint8Array.from({ length: numel(shape) }, (_, i) => (i % tk >= prefix ? 1 : 0));
};

/** Float mask in [-mag, mag] with a fraction of -inf entries and a few rows wholly -inf. */
const floatRandom = (mag: number, pInf: number, fullRows = 0): MaskGen => (shape, s) => {
  const r = rng(s), { tk, rows } = lastDims(shape);
  const m = Float32Array.from({ length: numel(shape) }, () => (r() < pInf ? -Infinity : (2 * r() - 1) * mag));
  for (let i = 0; i < fullRows; i++) m.fill(-Infinity, ((i * 5 + 2) % rows) * tk, ((i * 5 + 2) % rows + 1) * tk);
  return m;
};

/** Hides keys < prefix with `fill` (-inf, or a large finite negative as many models use). */
const floatHidePrefix = (prefix: number, fill: number): MaskGen => (shape, s) => {
  const r = rng(s), { tk } = lastDims(shape);
  return Float32Array.from({ length: numel(shape) }, (_, i) => (i % tk < prefix ? fill : r() - 0.5));
};

const auto: [string, AttnSpec][] = [
  ['T=1 D=8', { batch: [1], Tq: 1, Tk: 1, D: 8 }],
  ['T=7 D=8 [2,3]', { batch: [2, 3], Tq: 7, Tk: 7, D: 8, dispatches: 1 }],
  ['T=65 D=64 [2,2]', { batch: [2, 2], Tq: 65, Tk: 65, D: 64, dispatches: 1 }],
  ['T=300 D=80 [1,2]', { batch: [1, 2], Tq: 300, Tk: 300, D: 80 }],
  ['T=65 D=256 [1,2]', { batch: [1, 2], Tq: 65, Tk: 65, D: 256 }],
  ['Tq=7 Tk=65 D=64 Dv=80', { batch: [3], Tq: 7, Tk: 65, D: 64, Dv: 80 }],
  ['Tq=33 Tk=7 D=8 Dv=256', { batch: [2], Tq: 33, Tk: 7, D: 8, Dv: 256 }],
  ['no batch dims, Tq=5 Tk=9 D=3 Dv=5', { batch: [], Tq: 5, Tk: 9, D: 3, Dv: 5 }],
  ['scale 0.3 T=7 D=64', { batch: [2], Tq: 7, Tk: 7, D: 64, scale: 0.3 }],
  ['Tk=0 (every row masked: zeros)', { batch: [2], Tq: 3, Tk: 0, D: 8 }],
  // causal, top-left as torch
  ['causal T=65 D=64 [2,2]', { batch: [2, 2], Tq: 65, Tk: 65, D: 64, causal: true }],
  ['causal T=300 D=64 [1,1]', { batch: [1, 1], Tq: 300, Tk: 300, D: 64, causal: true }],
  ['causal Tq=7 < Tk=65 D=64', { batch: [2], Tq: 7, Tk: 65, D: 64, causal: true }],
  ['causal Tq=1 < Tk=300 D=64', { batch: [2], Tq: 1, Tk: 300, D: 64, causal: true }],
  ['causal Tq=65 > Tk=7 D=80', { batch: [2], Tq: 65, Tk: 7, D: 80, causal: true }],
  // masks broadcast over batch and heads
  ['bool key padding [3,1,1,65] over heads, one batch all padded', {
    batch: [3, 2], Tq: 65, Tk: 65, D: 64, mask: { kind: 'bool', shape: [3, 1, 1, 65], gen: boolKeyPadding([65, 30, 0]) },
  }],
  ['bool [Tq,Tk] mask over [2,3], some rows all false', {
    batch: [2, 3], Tq: 7, Tk: 65, D: 8, mask: { kind: 'bool', shape: [7, 65], gen: boolRandom(0.5, 2) },
  }],
  ['float [B,1,Tq,Tk] mask with -inf entries and rows', {
    batch: [2, 3], Tq: 65, Tk: 33, D: 64, mask: { kind: 'float', shape: [2, 1, 65, 33], gen: floatRandom(3, 0.3, 3) },
  }],
  ['float [Tk] mask over rows, batch and heads', {
    batch: [2, 2], Tq: 7, Tk: 300, D: 80, mask: { kind: 'float', shape: [300], gen: floatRandom(2, 0.1) },
  }],
  ['bool mask hides a 290-key prefix of 300', {
    batch: [1, 2], Tq: 65, Tk: 300, D: 64, mask: { kind: 'bool', shape: [1, 300], gen: boolHidePrefix(290) },
  }],
  ['float mask hides a 297-key prefix of 300 with -inf, large logits', {
    batch: [2], Tq: 7, Tk: 300, D: 64, qk: 8, mask: { kind: 'float', shape: [7, 300], gen: floatHidePrefix(297, -Infinity) },
  }],
  ['float mask hides a 250-key prefix with -1e9', {
    batch: [2], Tq: 9, Tk: 300, D: 8, mask: { kind: 'float', shape: [300], gen: floatHidePrefix(250, -1e9) },
  }],
  ['float mask of finfo.min everywhere (a real score, not a drop)', {
    batch: [1], Tq: 3, Tk: 5, D: 8, mask: { kind: 'float', shape: [3, 5], gen: (s) => new Float32Array(numel(s)).fill(-3.4028234663852886e38) },
  }],
  // large logits: |scores| reach ~80
  ['large logits T=65 D=64', { batch: [2, 2], Tq: 65, Tk: 65, D: 64, qk: 8 }],
  ['large logits causal T=300 D=80', { batch: [1], Tq: 300, Tk: 300, D: 80, qk: 7, causal: true }],
  ['large logits decode Tq=1 Tk=300 D=256', { batch: [1, 3], Tq: 1, Tk: 300, D: 256, qk: 4 }],
  // views
  ['q, k, v as [B,T,H,D] transposed to [B,H,T,D]', { batch: [2, 3], Tq: 65, Tk: 65, D: 64, bthd: true, dispatches: 1 }],
  ['k stored [..., D, Tk] and transposed, causal', { batch: [2], Tq: 33, Tk: 33, D: 80, kT: true, causal: true, dispatches: 1 }],
  ['[B,T,H,D] views, decode Tq=1 against Tk=65', { batch: [2, 4], Tq: 1, Tk: 65, D: 64, bthd: true }],
  ['k, v shared by heads [2,1] vs q [2,4]', { batch: [2, 4], kvBatch: [2, 1], Tq: 7, Tk: 65, D: 64, dispatches: 1 }],
  ['decode Tq=1 Tk=300 D=64 [1,4], float key padding', {
    batch: [1, 4], Tq: 1, Tk: 300, D: 64, mask: { kind: 'float', shape: [1, 1, 1, 300], gen: floatHidePrefix(123, -Infinity) },
  }],
];

// Awkward shapes every variant and tile config must handle: odd head dims, rows and keys past a tile.
const awkward: [string, AttnSpec][] = [
  ['T=1 D=1 Dv=3', { batch: [1], Tq: 1, Tk: 1, D: 1, Dv: 3 }],
  ['Tq=7 Tk=13 D=5 Dv=3 causal', { batch: [3], Tq: 7, Tk: 13, D: 5, Dv: 3, causal: true }],
  ['Tq=33 Tk=65 D=80 bool mask', { batch: [2], Tq: 33, Tk: 65, D: 80, mask: { kind: 'bool', shape: [33, 65], gen: boolRandom(0.3, 1) } }],
  ['Tq=5 Tk=300 D=256 Dv=8 float mask, causal-free', { batch: [1], Tq: 5, Tk: 300, D: 256, Dv: 8, mask: { kind: 'float', shape: [5, 300], gen: floatRandom(4, 0.5, 1) } }],
  ['Tq=65 Tk=7 D=64 Dv=256 causal [B,T,H,D]', { batch: [1, 2], Tq: 65, Tk: 7, D: 64, Dv: 256, causal: true, bthd: true }],
];

const forced: CompileOptions[] = [
  { variants: { attention: 'flash' } },
  { variants: { attention: 'split' } },
  { variants: { attention: 'rows' } },
];

// Tile configs; each must still leave <= 4 vec4 chunks of Dv per thread (TPR >= ceil(Dv / 16)).
const sweeps: [string, CompileOptions, AttnSpec][] = [
  ['flash RQ=1 RG=3 TPR=16 BK=16 KB=1', { variants: { attention: 'flash' }, constants: { attention: { RQ: 1, RG: 3, TPR: 16, BK: 16, KB: 1 } } }, awkward[4][1]],
  ['flash RQ=3 RG=2 TPR=1 BK=5 KB=1', { variants: { attention: 'flash' }, constants: { attention: { RQ: 3, RG: 2, TPR: 1, BK: 5, KB: 1 } } }, awkward[1][1]],
  ['flash RQ=2 RG=5 TPR=2 BK=8 KB=2', { variants: { attention: 'flash' }, constants: { attention: { RQ: 2, RG: 5, TPR: 2, BK: 8, KB: 2 } } },
    { batch: [2], Tq: 33, Tk: 65, D: 24, causal: true }],
  ['split RQ=3 KG=2 BK=6 TPR=1', { variants: { attention: 'split' }, constants: { attention: { RQ: 3, KG: 2, BK: 6, TPR: 1 } } }, awkward[1][1]],
  ['split RQ=1 KG=1 BK=7 TPR=16', { variants: { attention: 'split' }, constants: { attention: { RQ: 1, KG: 1, BK: 7, TPR: 16 } } }, awkward[3][1]],
  ['split RQ=4 KG=32 BK=64 TPR=4', { variants: { attention: 'split' }, constants: { attention: { RQ: 4, KG: 32, BK: 64, TPR: 4 } } },
    { batch: [2], Tq: 6, Tk: 300, D: 64, mask: { kind: 'bool', shape: [2, 1, 300], gen: boolKeyPadding([300, 77]) } }],
  ['rows WG_ROWS=1', { variants: { attention: 'rows' }, constants: { attention: { WG_ROWS: 1 } } }, awkward[2][1]],
];

// NaN, +-inf and huge values. Three batches of Tq = 7 against Tk = 9 (7 when causal), D = 8, Dv = 5:
//   b0: NaN in q row 1 (that row NaN); NaN in v of key 2, dv 1 (column 1 NaN wherever key 2 is kept);
//       NaN in v of the last key (the rows variant re-reads it for the keys past Tk, at weight 0).
//   b1: q row 4 of 1e15 (finite scores ~1e15: one-hot weights); q row 6 and k row 5 of 1e20 (q.k
//       overflows: +inf, so row 6 is NaN, and every row with a positive q.k_5 weighs key 5 alone).
//   b2: k[3][0] = -inf (a kept -inf score, weight 0, or +inf and NaN where q[i][0] < 0); q[2][0] = +inf.
// With a mask, keys it drops hold NaN in k and v: a dropped key takes no part, so they never show.
const SD = { batch: [3], Tq: 7, Tk: 9, D: 8, Dv: 5 };
function patchSpecials(causal: boolean, dropped: [number, number][] = []) {
  const Tk = causal ? 7 : 9;
  return (f: Record<string, Float32Array | Uint8Array>) => {
    const at = (b: number, t: number, T: number, d: number, dim: number) => (b * T + t) * dim + d;
    const { q, k, v } = f as Record<string, Float32Array>;
    q[at(0, 1, 7, 0, 8)] = NaN;
    v[at(0, 2, Tk, 1, 5)] = NaN;
    v[at(0, Tk - 1, Tk, 3, 5)] = NaN;
    q.fill(1e15, at(1, 4, 7, 0, 8), at(1, 5, 7, 0, 8));
    q.fill(1e20, at(1, 6, 7, 0, 8), at(1, 7, 7, 0, 8));
    k.fill(1e20, at(1, 5, Tk, 0, 8), at(1, 6, Tk, 0, 8));
    k[at(2, 3, Tk, 0, 8)] = -Infinity;
    q[at(2, 2, 7, 0, 8)] = Infinity;
    for (const [b, j] of dropped) {
      k[at(b, j, Tk, 4, 8)] = NaN;
      v[at(b, j, Tk, 0, 5)] = NaN;
    }
  };
}

// Bool [Tq, Tk]: key 6 dropped for every row, key 7 for rows 0..3, and row 5 wholly (zeros, though its
// keys' k and v hold NaN).
const boolSpecial: MaskGen = (shape) => Uint8Array.from({ length: numel(shape) }, (_, i) => {
  const r = Math.floor(i / 9), j = i % 9;
  return j === 6 || (j === 7 && r < 4) || r === 5 ? 0 : 1;
});
// Float [Tq, Tk]: -inf drops key 6 for every row and row 5 wholly; +inf at (3, 1) and NaN at (4, 0)
// make rows 3 and 4 NaN; -1e30 at key 8 is a real (vanishing) score.
const floatSpecial: MaskGen = (shape) => Float32Array.from({ length: numel(shape) }, (_, i) => {
  const r = Math.floor(i / 9), j = i % 9;
  if (j === 6 || r === 5) return -Infinity;
  if (r === 3 && j === 1) return Infinity;
  if (r === 4 && j === 0) return NaN;
  return j === 8 ? -1e30 : (j % 3) - 1;
});

const specials: [string, AttnSpec][] = [
  ['NaN, +-inf, 1e20 overflow', { ...SD, patch: patchSpecials(false) }],
  ['causal NaN, +-inf, 1e20 overflow', { ...SD, Tk: 7, causal: true, patch: patchSpecials(true) }],
  ['bool mask dropping NaN keys, NaN, +-inf', {
    ...SD, mask: { kind: 'bool', shape: [7, 9], gen: boolSpecial }, patch: patchSpecials(false, [[0, 6], [1, 6], [2, 6], [0, 7]]),
  }],
  ['float mask of -inf (dropping NaN keys), +inf, NaN, -1e30', {
    ...SD, mask: { kind: 'float', shape: [7, 9], gen: floatSpecial }, patch: patchSpecials(false, [[0, 6], [1, 6], [2, 6]]),
  }],
];

export const attentionCases: ParityCase[] = [
  ...[undefined, ...forced].flatMap((o) => specials.map(([n, s]) => attnCase(`${o?.variants!.attention ?? 'auto'} ${n}`, { ...s, dispatches: 1 }, o))),
  attnCase(`flash RQ=2 RG=2 TPR=2 BK=4 KB=2 ${specials[2][0]}`, specials[2][1], { variants: { attention: 'flash' }, constants: { attention: { RQ: 2, RG: 2, TPR: 2, BK: 4, KB: 2 } } }),
  attnCase(`split RQ=3 KG=2 BK=4 TPR=1 ${specials[1][0]}`, specials[1][1], { variants: { attention: 'split' }, constants: { attention: { RQ: 3, KG: 2, BK: 4, TPR: 1 } } }),
  ...auto.map(([n, s]) => attnCase(n, s)),
  ...forced.flatMap((o) => awkward.map(([n, s]) => attnCase(`${o.variants!.attention} ${n}`, { ...s, dispatches: 1 }, o))),
  ...sweeps.map(([n, o, s]) => attnCase(`${n} ${s.Tq}x${s.Tk} D=${s.D}`, s, o)),
];
