// scaledDotProductAttention: torch's shape and mask rules, one fused dispatch of
// shaders/attention.wgsl reading q, k, v and the mask through their views (kernels/attention.ts
// picks flash, split or rows), and the float64 reference.
import { ShapeError, fmtShape } from '../errors';
import { planAttention } from '../kernels/attention';
import type { GraphLike as Graph, Tensor } from '../graph/ir';
import { broadcastShapes } from '../graph/shapes';
import { attention } from '../reference/attention';
import type { OpTable } from './op';

/** Options of {@link Graph.scaledDotProductAttention}, as torch's `attn_mask`, `is_causal` and `scale`. */
export interface AttentionOptions {
  /** bool: true = attend; f32: added to the scores. Broadcasts to [..., Tq, Tk]. */
  attnMask?: Tensor;
  /**
   * Query i attends to keys 0..i, aligned top-left as torch (so a single query against a cache
   * must not set it). Not together with attnMask (a ShapeError, as torch). Default false.
   */
  isCausal?: boolean;
  /** The factor on q·kᵀ before the softmax; default 1/sqrt(D), D the head dim. Must be finite. */
  scale?: number;
}

/** q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv]; a query row with every key masked gives zeros (torch: NaN). */
export function buildAttention(g: Graph, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): Tensor {
  const op = 'scaledDotProductAttention';
  g.checkF32(op, q, k, v);
  if (opts === null || typeof opts !== 'object') throw new ShapeError(`${op}: options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  const [qs, ks, vs] = [q.shape, k.shape, v.shape];
  if (qs.length < 2 || ks.length < 2 || vs.length < 2) {
    throw new ShapeError(`${op}: q, k, v need rank >= 2, got q ${fmtShape(qs)}, k ${fmtShape(ks)}, v ${fmtShape(vs)}`);
  }
  const [Tq, D] = qs.slice(-2), [Tk, Dk] = ks.slice(-2), [Tv, Dv] = vs.slice(-2);
  if (D !== Dk) throw new ShapeError(`${op}: q ${fmtShape(qs)} and k ${fmtShape(ks)} differ in head dim (${D} vs ${Dk})`);
  if (Tk !== Tv) throw new ShapeError(`${op}: k ${fmtShape(ks)} and v ${fmtShape(vs)} differ in sequence length (${Tk} vs ${Tv})`);
  const batch = broadcastShapes(`${op} (batch dims of q, k, v)`,
    broadcastShapes(`${op} (batch dims of q, k, v)`, qs.slice(0, -2), ks.slice(0, -2)), vs.slice(0, -2));
  const scores = [...batch, Tq, Tk];
  const { attnMask, isCausal = false } = opts;
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  if (!Number.isFinite(scale)) throw new ShapeError(`${op}: scale must be finite, got ${scale}`);
  let mask: 'none' | 'bool' | 'float' = 'none';
  const inputs = [q.id, k.id, v.id];
  if (attnMask) {
    g.checkOwn(op, attnMask);
    if (isCausal) throw new ShapeError(`${op}: pass attnMask or isCausal, not both (as torch)`);
    if (attnMask.dtype === 'i32') throw new ShapeError(`${op}: attnMask must be bool or f32, got i32 ${fmtShape(attnMask.shape)}`);
    const b = broadcastShapes(`${op}: attnMask`, attnMask.shape, scores);
    if (fmtShape(b) !== fmtShape(scores)) {
      throw new ShapeError(`${op}: attnMask ${fmtShape(attnMask.shape)} does not broadcast to the scores ${fmtShape(scores)}`);
    }
    mask = attnMask.dtype === 'bool' ? 'bool' : 'float';
    inputs.push(attnMask.id);
  }
  return g.addNode({ op: 'attention', scale, isCausal, mask }, inputs, [...batch, Tq, Dv]);
}

export const attentionOps: OpTable<'attention'> = {
  attention: {
    lower(ctx, n) {
      const { scale, isCausal, mask: maskKind } = n.node;
      const q = ctx.arg(n, 0), k = ctx.arg(n, 1), v = ctx.arg(n, 2);
      const mask = maskKind !== 'none' ? ctx.arg(n, 3) : undefined;
      const plan = planAttention({ q, k, v, mask, maskKind, isCausal, scale, batch: n.shape.slice(0, -2) }, ctx.overrides, ctx.limits);
      return ctx.emit(n, plan, { q: q.slot, k: k.slot, v: v.slot, mask: mask ? mask.slot : 'dummy' });
    },
    reference: (n, [q, k, v, mask]) => attention(n.node, q, k, v, mask),
    operands: (n) => ['q', 'k', 'v', ...(n.node.mask !== 'none' ? ['mask'] : [])],
  },
};
