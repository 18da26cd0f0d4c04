// torch.nn.MultiheadAttention under its state_dict names, and the mask conversions it needs: torch's
// bool masks here are true = ignore, the opposite of scaledDotProductAttention's, so every bool
// mask becomes an additive f32 mask (0 where attended, MASK_FILL where ignored) before the op.
import { ShapeError, fmtShape } from '../errors';
import type { Graph, Tensor } from '../graph/graph';
import { Linear } from './layers';
import { Module, constantOf, type Parameter } from './module';
import { initFill, initXavier } from './init';

/**
 * What an ignored position adds to the scores. Finite, so a tiled online softmax never meets
 * (-inf) - (-inf); exp(MASK_FILL - s) is 0 in f32 for any real score. A query row whose every key
 * is ignored therefore averages V (torch gives NaN there).
 */
export const MASK_FILL = -1e30;

// A mask is converted once per graph however many layers use it.
const converted = new WeakMap<Graph, Map<string, Tensor>>();

function memo(g: Graph, key: string, make: () => Tensor): Tensor {
  let m = converted.get(g);
  if (!m) converted.set(g, (m = new Map()));
  let t = m.get(key);
  if (!t) m.set(key, (t = make()));
  return t;
}

const FILL = new Float32Array([MASK_FILL]);
const ZERO = new Float32Array(1);

/**
 * A torch-style mask (bool: true = ignore; f32: added to the scores) as an additive f32 mask of the
 * same shape: where(mask, MASK_FILL, 0).
 */
export function ignoreMaskToAdditive(g: Graph, mask: Tensor, op = 'mask'): Tensor {
  if (mask.dtype === 'f32') return mask;
  if (mask.dtype !== 'bool') throw new ShapeError(`${op}: a mask must be bool (true = ignore) or f32 (added), got ${mask.dtype} ${fmtShape(mask.shape)}`);
  return memo(g, `additive|${mask.id}`, () => g.where(mask, constantOf(g, FILL, [1]), constantOf(g, ZERO, [1])));
}

/** torch.nn.Transformer.generate_square_subsequent_mask: f32 [n, n], -inf above the diagonal. */
export function generateSquareSubsequentMask(g: Graph, n: number): Tensor {
  return causalMask(g, n, n, -Infinity);
}

/** An additive [L, S] mask hiding key j > i from query i (torch's top-left causal alignment). */
export function causalMask(g: Graph, L: number, S: number, fill = MASK_FILL): Tensor {
  const data = new Float32Array(L * S);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) data[i * S + j] = fill;
  return g.constant(data, [L, S]);
}

/** torch.nn.MultiheadAttention's keyword arguments (kdim = vdim = embedDim; no dropout, add_bias_kv, add_zero_attn). */
export interface MultiheadAttentionOptions {
  /** Inputs and output as [B, L, E] rather than [L, B, E]; default false. */
  batchFirst?: boolean;
  /** Whether in_proj_bias and out_proj.bias exist; default true. */
  bias?: boolean;
}

/**
 * The masks of one attention call, as torch's MultiheadAttention takes them: bool masks are
 * true = ignore (the opposite of {@link Graph.scaledDotProductAttention}'s), f32 masks are added to
 * the scores. Given together, they are combined into one additive mask.
 */
export interface AttentionMasks {
  /** [B, S] (unbatched: [S]); bool true = padding, ignored; or f32, added. */
  keyPaddingMask?: Tensor;
  /** [L, S] or [B * numHeads, L, S] (unbatched: [numHeads, L, S]); bool true = ignore; or f32, added. */
  attnMask?: Tensor;
  /** Hides key j > i from query i; alone it is the op's isCausal, with other masks it is added to them. */
  isCausal?: boolean;
}

/** MultiheadAttention.forward's options: the masks, and torch's need_weights. */
export interface MhaForwardOptions extends AttentionMasks {
  /** Attention weights are not returned; true is an error. */
  needWeights?: boolean;
}

/**
 * torch.nn.MultiheadAttention (kdim = vdim = embedDim, no add_bias_kv / add_zero_attn):
 * `in_proj_weight` [3E, E] (query, key, value blocks), `in_proj_bias` [3E], `out_proj.weight`,
 * `out_proj.bias`. forward returns the attention output only (torch's first tuple element).
 */
export class MultiheadAttention extends Module {
  /** embedDim / numHeads, the size of each head. */
  readonly headDim: number;
  /** Whether inputs and output are [B, L, E]. */
  readonly batchFirst: boolean;
  /** `in_proj_weight`: [3E, E], the query, key and value projections stacked (Xavier-uniform until loaded). */
  readonly inProjWeight: Parameter;
  /** `in_proj_bias`: [3E] (zeros until loaded); absent with bias false. */
  readonly inProjBias?: Parameter;
  /** `out_proj`: the output projection, E → E. */
  readonly outProj: Linear;

  /**
   * in_proj_weight Xavier-uniform, biases zeros, as torch. Throws a ShapeError unless embedDim is a
   * positive multiple of numHeads.
   * @param opts batchFirst, bias
   */
  constructor(
    /** E, the model's feature size; a positive multiple of numHeads. */
    readonly embedDim: number,
    /** The number of heads. */
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(embedDim) || !Number.isInteger(numHeads) || embedDim <= 0 || numHeads <= 0 || embedDim % numHeads) {
      throw new ShapeError(`MultiheadAttention: embedDim ${embedDim} must be a positive multiple of numHeads ${numHeads}`);
    }
    this.headDim = embedDim / numHeads;
    this.batchFirst = opts.batchFirst ?? false;
    const bias = opts.bias ?? true;
    this.inProjWeight = this.addParameter('in_proj_weight', [3 * embedDim, embedDim], initXavier(3 * embedDim, embedDim));
    if (bias) this.inProjBias = this.addParameter('in_proj_bias', [3 * embedDim], initFill(3 * embedDim, 0));
    this.outProj = this.addModule('out_proj', new Linear(embedDim, embedDim, bias));
    if (this.outProj.bias) this.outProj.bias.data.fill(0);
  }

  /**
   * query [L, B, E], key and value [S, B, E] ([B, L, E] ... with batchFirst; [L, E] unbatched) →
   * the attention output, shaped as query.
   */
  forward(g: Graph, query: Tensor, key: Tensor, value: Tensor, opts: MhaForwardOptions = {}): Tensor {
    const op = 'MultiheadAttention';
    if (opts.needWeights) throw new ShapeError(`${op}: needWeights is not supported (the weights are never formed); pass needWeights: false`);
    const E = this.embedDim, qs = query.shape, ks = key.shape, vs = value.shape;
    const rank = qs.length;
    if ((rank !== 2 && rank !== 3) || ks.length !== rank || vs.length !== rank) {
      throw new ShapeError(`${op}: query, key, value must all be rank 3 (batched) or 2 (unbatched), got ${fmtShape(qs)}, ${fmtShape(ks)}, ${fmtShape(vs)}`);
    }
    for (const [n, s] of [['query', qs], ['key', ks], ['value', vs]] as const) {
      if (s[rank - 1] !== E) throw new ShapeError(`${op}: ${n} ${fmtShape(s)} must end in embedDim ${E} (kdim and vdim other than embedDim are not supported)`);
    }
    const toBatchFirst = (x: Tensor) => (rank === 2 ? g.reshape(x, [1, ...x.shape]) : this.batchFirst ? x : g.transpose(x, 0, 1));
    const [q, k, v] = [query, key, value].map(toBatchFirst);
    const [B, L] = q.shape, S = k.shape[1];
    if (k.shape[0] !== B || v.shape[0] !== B || v.shape[1] !== S) {
      throw new ShapeError(`${op}: query ${fmtShape(qs)}, key ${fmtShape(ks)} and value ${fmtShape(vs)} disagree in batch or key length`);
    }
    const mask = this.combineMasks(g, B, L, S, rank === 2, opts);
    const out = this.attendHeads(g, this.heads(g, q, 'q'), this.heads(g, k, 'k'), this.heads(g, v, 'v'), mask);
    return rank === 2 ? g.reshape(out, [L, E]) : this.batchFirst ? out : g.transpose(out, 0, 1);
  }

  /** x [B, T, E] (batch first) projected by the query, key or value block → [B, numHeads, T, headDim]. */
  heads(g: Graph, x: Tensor, which: 'q' | 'k' | 'v'): Tensor {
    const E = this.embedDim, i = { q: 0, k: 1, v: 2 }[which];
    const w = this.rows(g, this.inProjWeight, i * E, (i + 1) * E);
    const b = this.inProjBias && this.rows(g, this.inProjBias, i * E, (i + 1) * E);
    const [B, T] = x.shape;
    return g.transpose(g.reshape(g.linear(x, w, b), [B, T, this.numHeads, this.headDim]), 1, 2);
  }

  /** Heads [B, h, L, d] attended (mask: an additive f32 mask or { isCausal }) and projected → [B, L, E]. */
  attendHeads(g: Graph, q: Tensor, k: Tensor, v: Tensor, mask: { attnMask?: Tensor; isCausal?: boolean } = {}): Tensor {
    const [B, , L] = q.shape;
    const ctx = g.scaledDotProductAttention(q, k, v, mask);
    return this.outProj.forward(g, g.reshape(g.transpose(ctx, 1, 2), [B, L, this.embedDim]));
  }

  /** The masks as one additive mask broadcasting to [B, h, L, S], or the op's isCausal alone. */
  combineMasks(g: Graph, B: number, L: number, S: number, unbatched: boolean, m: AttentionMasks): {
    /** The combined additive f32 mask, broadcasting to [B, numHeads, L, S]. */
    attnMask?: Tensor;
    /** Set when there is no other mask: the call's isCausal, which the attention op applies itself. */
    isCausal?: boolean;
  } {
    const op = 'MultiheadAttention', h = this.numHeads;
    const parts: Tensor[] = [];
    const keys: number[] = [];
    if (m.keyPaddingMask) {
      const kpm = m.keyPaddingMask, want = unbatched ? [S] : [B, S];
      if (fmtShape(kpm.shape) !== fmtShape(want)) throw new ShapeError(`${op}: keyPaddingMask ${fmtShape(kpm.shape)} must be ${fmtShape(want)}`);
      parts.push(g.reshape(ignoreMaskToAdditive(g, kpm, `${op} keyPaddingMask`), [B, 1, 1, S]));
      keys.push(kpm.id);
    }
    if (m.attnMask) {
      const am = m.attnMask, s = am.shape;
      const want3 = [unbatched ? h : B * h, L, S];
      if (fmtShape(s) !== fmtShape([L, S]) && fmtShape(s) !== fmtShape(want3)) {
        throw new ShapeError(`${op}: attnMask ${fmtShape(s)} must be ${fmtShape([L, S])} or ${fmtShape(want3)}`);
      }
      const add = ignoreMaskToAdditive(g, am, `${op} attnMask`);
      parts.push(s.length === 3 ? g.reshape(add, [B, h, L, S]) : add);
      keys.push(am.id);
    }
    if (!parts.length) return { isCausal: !!m.isCausal };
    if (m.isCausal) parts.push(memo(g, `causal|${L}|${S}`, () => causalMask(g, L, S)));
    if (parts.length === 1) return { attnMask: parts[0] };
    return { attnMask: memo(g, `sum|${keys.join('|')}|${!!m.isCausal}|${B}|${h}|${L}|${S}`, () => parts.reduce((a, b) => g.add(a, b))) };
  }
}
