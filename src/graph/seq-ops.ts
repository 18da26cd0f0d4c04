// Builders of the sequence ops (recurrent stacks, attention, layer norm): the torch-name and shape
// checks that make a wrong parameter a ShapeError at build time, naming the op and the shapes.
import { ShapeError, fmtShape } from '../errors';
import { checkRnnParamShapes, rnnParamNames, type Cell, type GraphLike as Graph, type Tensor } from './ir';
import { broadcastShapes, numel } from './shapes';

export type RnnParams = Record<string, Tensor>;

export interface RnnOptions {
  hiddenSize: number;
  numLayers?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
  /** torch's `bias`: false means the stack has no bias_* parameters. */
  bias?: boolean;
  /** [D * numLayers, B, H], whatever batchFirst says. */
  h0?: Tensor;
  c0?: Tensor;
}

export interface AttentionOptions {
  /** bool: true = attend; f32: added to the scores. Broadcasts to [..., Tq, Tk]. */
  attnMask?: Tensor;
  isCausal?: boolean;
  scale?: number;
}

export function buildRnn(g: Graph, cell: Cell, x: Tensor, params: RnnParams, opts: RnnOptions): Tensor[] {
  const op = cell.startsWith('rnn') ? 'rnn' : cell;
  g.checkF32(op, x);
  if (params === null || typeof params !== 'object') {
    throw new ShapeError(`${op}: params must be an object from torch names (weight_ih_l0, ...) to tensors, got ${params === null ? 'null' : typeof params}`);
  }
  if (opts === null || typeof opts !== 'object') {
    throw new ShapeError(`${op}: options must be an object with at least { hiddenSize }, got ${opts === null ? 'null' : typeof opts}`);
  }
  const H = opts.hiddenSize;
  const L = opts.numLayers ?? 1;
  const D = opts.bidirectional ? 2 : 1;
  const bias = opts.bias ?? true;
  if (!Number.isInteger(H) || H <= 0) throw new ShapeError(`${op}: hiddenSize must be a positive integer, got ${H}`);
  if (!Number.isInteger(L) || L <= 0) throw new ShapeError(`${op}: numLayers must be a positive integer, got ${L}`);
  const xs = x.shape;
  if (xs.length !== 3) throw new ShapeError(`${op}: x must be ${opts.batchFirst ? '[B, T, I]' : '[T, B, I]'}, got ${fmtShape(xs)}`);
  const [T, B] = opts.batchFirst ? [xs[1], xs[0]] : [xs[0], xs[1]];
  const I = xs[2];
  // torch raises on an empty sequence rather than return h0 unchanged.
  if (T === 0) throw new ShapeError(`${op}: x ${fmtShape(xs)} has sequence length 0; torch needs at least one step`);

  const names = rnnParamNames(L, D, bias);
  const given = Object.keys(params ?? {});
  const missing = names.filter((n) => !Object.prototype.hasOwnProperty.call(params, n));
  const unexpected = given.filter((n) => !names.includes(n));
  if (missing.length || unexpected.length) {
    const parts = [];
    if (missing.length) parts.push(`missing ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.join(', ')}`);
    const hint = !bias && missing.length === 0 ? '' : bias && missing.some((n) => n.startsWith('bias')) ? " (pass bias: false for a stack without biases)" : '';
    throw new ShapeError(`${op}: parameters for ${L} layer(s), ${D} direction(s): ${parts.join('; ')}${hint}`);
  }
  for (const name of names) g.checkF32(`${op} (${name})`, params[name]);
  checkRnnParamShapes(cell, H, I, D, Object.fromEntries(names.map((n) => [n, params[n].shape])));
  const state = [D * L, B, H];
  for (const [name, t] of [['h0', opts.h0], ['c0', opts.c0]] as const) {
    if (!t) continue;
    if (name === 'c0' && cell !== 'lstm') throw new ShapeError(`${op}: c0 is for LSTM only`);
    g.checkF32(`${op} (${name})`, t);
    if (fmtShape(t.shape) !== fmtShape(state)) {
      throw new ShapeError(`${op}: ${name} is ${fmtShape(t.shape)}, expected [D * numLayers, B, H] = ${fmtShape(state)}`);
    }
  }
  const inputs = [x.id, ...names.map((n) => params[n].id)];
  if (opts.h0) inputs.push(opts.h0.id);
  if (opts.c0) inputs.push(opts.c0.id);
  const outShape = opts.batchFirst ? [B, T, D * H] : [T, B, D * H];
  const node = g.addNode(
    {
      op: 'rnn', cell, hiddenSize: H, numLayers: L, bidirectional: D === 2, batchFirst: !!opts.batchFirst,
      hasBias: bias, hasH0: !!opts.h0, hasC0: !!opts.c0, paramNames: names,
    },
    inputs,
    outShape,
  );
  const outs = [node, g.addNode({ op: 'select', index: 1 }, [node.id], state)];
  if (cell === 'lstm') outs.push(g.addNode({ op: 'select', index: 2 }, [node.id], state));
  return outs;
}

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

export function buildLayerNorm(g: Graph, x: Tensor, normalizedShape: number[], weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  const op = 'layerNorm';
  g.checkF32(op, x, ...(weight ? [weight] : []), ...(bias ? [bias] : []));
  const xs = x.shape, ns = normalizedShape;
  if (!Array.isArray(ns) || ns.length === 0 || ns.length > xs.length || fmtShape(xs.slice(-ns.length)) !== fmtShape(ns)) {
    throw new ShapeError(`${op}: normalizedShape ${JSON.stringify(ns)} is not the trailing dims of x ${fmtShape(xs)}`);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && fmtShape(t.shape) !== fmtShape(ns)) throw new ShapeError(`${op}: ${name} ${fmtShape(t.shape)} must be ${fmtShape(ns)}`);
  }
  if (!(eps >= 0)) throw new ShapeError(`${op}: eps must be >= 0, got ${eps}`);
  const inputs = [x.id, ...(weight ? [weight.id] : []), ...(bias ? [bias.id] : [])];
  return g.addNode({ op: 'layerNorm', normalized: numel(ns), eps, hasWeight: !!weight, hasBias: !!bias }, inputs, xs);
}

// Older import sites; the recurrent vocabulary lives in ir.ts.
export { GATES, rnnParamNames } from './ir';
