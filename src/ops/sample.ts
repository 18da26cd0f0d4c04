// sampleTokens: one token id per row of logits, greedy or drawn with a temperature from the top k,
// on shaders/sample.wgsl, choosing as the host's pickToken does (reference/sample.ts). The
// temperature and k are numbers fixed at build, or [1] tensors fed each run; the draws u in [0, 1)
// come from the host (one per row), so a seeded generator gives the same tokens on the GPU and on
// the CPU. Fed settings are range-checked before dispatch.
import { ShapeError, fmtShape } from '../errors';
import { planSample } from '../kernels/sample';
import { Tensor, type GraphLike } from '../graph/ir';
import { numel } from '../graph/shapes';
import { F32_MAX, sampleTokens } from '../reference/sample';
import type { OpTable } from './op';

/** How sampleTokens picks: greedy (temperature 0, the default), or sampled with draws. */
export interface SampleOptions {
  /**
   * 0 (the default): greedy, the first index of the largest logit. Above 0: sampled with weights
   * exp((logit - max) / temperature). A number fixed at build, or an f32 [1] tensor (a graph input
   * or constant) read each run; at most 3.4e38 (f32's largest).
   */
  temperature?: number | Tensor;
  /** Keep the k largest logits (ties by lower index); 0 (the default) keeps all. A number, or an i32 [1] tensor. */
  topK?: number | Tensor;
  /**
   * One u in [0, 1) per row (f32, the logits' shape without its last dim): the draw the walk over
   * the sorted weights stops at. Needed unless the temperature is the number 0.
   */
  draws?: Tensor;
}

const I32_MAX = 2147483647;

/** A setting as a [1] tensor (a number becomes a constant); `make` false only checks it. */
function setting(g: GraphLike, what: 'temperature' | 'topK', v: number | Tensor | undefined, where: string, make = true): Tensor | undefined {
  const dtype = what === 'temperature' ? 'f32' : 'i32';
  if (v instanceof Tensor) {
    g.checkOwn('sampleTokens', v);
    if (v.dtype !== dtype || fmtShape(v.shape) !== '[1]') {
      throw new ShapeError(`sampleTokens: ${what} must be a number or a ${dtype} [1] tensor, got ${v.dtype} ${fmtShape(v.shape)} (${where})`);
    }
    return v;
  }
  const value = v ?? 0;
  const ok = what === 'temperature' ? typeof value === 'number' && value >= 0 && value <= F32_MAX : Number.isInteger(value) && value >= 0 && value <= I32_MAX;
  if (!ok) {
    const want = what === 'temperature' ? 'a number in 0..3.4e38 (0 is greedy)' : 'an integer >= 0 (0 keeps all)';
    throw new ShapeError(`sampleTokens: ${what} must be ${want}, got ${String(value)} (${where})`);
  }
  if (!make) return undefined;
  const data = what === 'temperature' ? new Float32Array([value]) : new Int32Array([value]);
  return g.addNode({ op: 'constant', data }, [], [1], dtype);
}

/** One token id (i32) per row of logits [..., V]: the result has the logits' shape without its last dim. */
export function buildSampleTokens(g: GraphLike, logits: Tensor, opts: SampleOptions = {}): Tensor {
  g.checkF32('sampleTokens', logits);
  const s = logits.shape;
  const where = `logits f32 ${fmtShape(s)}`;
  if (opts === null || typeof opts !== 'object') throw new ShapeError(`sampleTokens: options must be an object, got ${opts === null ? 'null' : typeof opts} (${where})`);
  if (s.length === 0 || s[s.length - 1] === 0) throw new ShapeError(`sampleTokens: logits need a last dim of at least 1, got ${fmtShape(s)}`);
  const rows = s.slice(0, -1);
  if (opts.temperature === undefined || opts.temperature === 0) {
    setting(g, 'topK', opts.topK, where, false); // checked, though greedy reads no k
    return g.addNode({ op: 'sampleTokens', greedy: true }, [logits.id], rows, 'i32');
  }
  const t = setting(g, 'temperature', opts.temperature, where)!;
  const k = setting(g, 'topK', opts.topK, where)!;
  const d = opts.draws;
  if (!(d instanceof Tensor)) throw new ShapeError(`sampleTokens: a temperature other than the number 0 needs draws, an f32 ${fmtShape(rows)} tensor (${where})`);
  g.checkOwn('sampleTokens', d);
  if (d.dtype !== 'f32' || fmtShape(d.shape) !== fmtShape(rows)) {
    throw new ShapeError(`sampleTokens: draws must be f32 ${fmtShape(rows)}, one per row of ${where}; got ${d.dtype} ${fmtShape(d.shape)}`);
  }
  return g.addNode({ op: 'sampleTokens', greedy: false }, [logits.id, d.id, t.id, k.id], rows, 'i32');
}

export const sampleOps: OpTable<'sampleTokens'> = {
  sampleTokens: {
    indices: (n) => (n.node.greedy ? [] : [
      { input: 1, what: 'draws', min: 0, max: 1 },
      { input: 2, what: 'temperature', min: 0, max: F32_MAX },
      { input: 3, what: 'topK', min: 0, max: I32_MAX },
    ]),
    lower(ctx, n) {
      const logits = ctx.dense(n, ctx.arg(n, 0));
      const len = logits.shape[logits.shape.length - 1];
      const plan = planSample(numel(logits.shape) / len, len, n.node.greedy, ctx.overrides, ctx.limits);
      if (n.node.greedy) return ctx.emit(n, plan, { logits: logits.slot }, 'tokens');
      const [draws, t, k] = [1, 2, 3].map((i) => ctx.dense(n, ctx.arg(n, i)).slot);
      return ctx.emit(n, plan, { logits: logits.slot, draws, temperature: t, topk: k }, 'tokens');
    },
    reference: (_, [logits, draws, t, k]) => sampleTokens(logits, draws, t, k),
  },
};
