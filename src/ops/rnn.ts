// The recurrent stacks (torch.nn.LSTM, GRU, RNN): the builder with torch's names and shapes, and the
// lowering to shaders/rnn.wgsl (one shader for the three cells). Per layer: the input projection of
// all timesteps as one GEMM (both biases folded in), then the recurrence: one dispatch per timestep
// covering both directions (batch-tiled or per row), or one persistent dispatch (kernels/rnn.ts
// chooses). Layer l+1's GEMM reads layer l's output; every dispatch goes into the executor's one pass.
import { ShapeError, fmtShape } from '../errors';
import type { View } from '../kernels/kernel';
import { ACT, matmulBind, planMatmul } from '../kernels/matmul';
import { planRecurrence, type Recurrence } from '../kernels/rnn';
import { cellOp, checkRnnParamShapes, GATES, rnnParamNames, type Cell, type GraphLike as Graph, type GraphNode, type NodeOf, type Tensor } from '../graph/ir';
import { contiguous, type Bind, type LowerCtx, type Val } from '../graph/lower-ctx';
import { rnn } from '../reference/rnn';
import type { Value } from '../reference/core';
import type { OpTable } from './op';

/**
 * The weights of a recurrent stack under torch's names: `weight_ih_l{k}` [G·H, I] for layer 0 and
 * [G·H, D·H] above it, `weight_hh_l{k}` [G·H, H], `bias_ih_l{k}` and `bias_hh_l{k}` [G·H], with
 * `_reverse` names for the backward direction; G is 4 for LSTM (gates i, f, g, o), 3 for GRU
 * (r, z, n), 1 for RNN. Every name the options imply must be there, and no other.
 */
export type RnnParams = Record<string, Tensor>;

/**
 * torch.nn.LSTM / GRU / RNN's constructor arguments, and the initial states. With D = 2 when
 * bidirectional (else 1), x is [T, B, I] (or [B, T, I] with batchFirst).
 */
export interface RnnOptions {
  /** H, the features of each hidden state: a positive integer. */
  hiddenSize: number;
  /** Stacked layers (default 1); layer k+1 reads layer k's output. */
  numLayers?: number;
  /** Also run each layer backward over the sequence and concatenate both directions' h (default false). */
  bidirectional?: boolean;
  /** x and output are [B, T, ...] rather than [T, B, ...] (default false); h0, c0, hN and cN are not affected. */
  batchFirst?: boolean;
  /** torch's `bias`: false means the stack has no bias_* parameters. */
  bias?: boolean;
  /** [D * numLayers, B, H], whatever batchFirst says. */
  h0?: Tensor;
  /** The LSTM's initial cell state, [D * numLayers, B, H] (default zeros); LSTM only. */
  c0?: Tensor;
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

type RnnGraphNode = GraphNode<NodeOf<'rnn'>>;

function lowerRnn(ctx: LowerCtx, n: RnnGraphNode): Val[] {
  const { cell, hiddenSize: H, numLayers: L, batchFirst, hasBias, hasH0, hasC0 } = n.node;
  const D = n.node.bidirectional ? 2 : 1;
  const xs = ctx.graph.nodes[n.inputs[0]].shape;
  const [T, B] = batchFirst ? [xs[1], xs[0]] : [xs[0], xs[1]];
  const name = `${cellOp(cell)}#${n.id}`;
  const rows = T * B;
  const [tStride, bStride] = batchFirst ? [1, T] : [B, 1];

  let next = 1 + n.node.paramNames.length;
  const h0 = hasH0 ? ctx.dense(n, ctx.arg(n, next++)).slot : 'dummy';
  const c0 = hasC0 ? ctx.dense(n, ctx.arg(n, next++)).slot : 'dummy';
  const state = [D * L, B, H];
  const hN = ctx.slot('temp', name, state, 'f32');
  const cN = cell === 'lstm' ? ctx.slot('temp', name, state, 'f32') : undefined;
  // The tiled variants' second h buffer, taking turns with hN (made when a layer first needs it).
  let hOther: number | undefined;

  let input = ctx.dense(n, ctx.arg(n, 0));
  for (let l = 0; l < L; l++) {
    const param = (p: string, d: number) => ctx.arg(n, 1 + n.node.paramNames.indexOf(`${p}_l${l}${d ? '_reverse' : ''}`));
    const { whh, strides } = recurrentWeights(ctx, n, [param('weight_hh', 0), param('weight_hh', D - 1)]);
    const rec = planRecurrence({ cell, T, B, H, D, hasBias, hasH0, hasC0, wStrides: strides }, ctx.overrides, ctx.limits);
    const xproj = ctx.slot('temp', name, [rows, D * GATES[cell] * H], 'f32');
    project(ctx, n, l, input, xproj);
    const out = ctx.slot('temp', name, l === L - 1 ? n.shape : [rows, D * H], 'f32');
    const bhh = hasBias ? [0, D - 1].map((d) => ctx.dense(n, param('bias_hh', d)).slot) : ['dummy' as const, 'dummy' as const];
    const bind = recurrenceBind(rec, xproj, whh, bhh, c0, out, cN);
    const cWrites = cN === undefined ? [] : [cN];
    if (rec.pingPong) hOther ??= ctx.slot('temp', name, state, 'f32');
    // A split recurrence binds each direction's W_hh and b_hh as whh0 and bhh0 in a dispatch of its own.
    const dirs = rec.split ? [0, 1] : [undefined];
    const dirBind = (d: number | undefined): Bind => (d === undefined ? bind
      : { ...bind, whh0: whh[d], whh1: whh[d], ...(bind.bhh0 === 'dummy' ? {} : { bhh0: bhh[d], bhh1: bhh[d] }) });
    for (let s = 0; s < rec.dispatches; s++) {
      for (const d of dirs) {
        const what = rec.variant === 'persistent' ? `all ${T} steps` : `step ${s}`;
        const label = `${name} layer ${l} ${what} [B ${B}, H ${H}, D ${D}]${d === undefined ? '' : ` direction ${d}`}`;
        const count = (rec.dispatches === 1 ? rows * D * H : B * D * H) / dirs.length;
        const plan = rec.plan(s, l, tStride, bStride, d);
        if (rec.pingPong) {
          // Step s writes hN when T - 1 - s is even, so the last step writes hN; it reads what step s - 1 wrote.
          const writesTo = (k: number) => ((T - 1 - k) % 2 === 0 ? hN : hOther!);
          const hprev = s > 0 ? writesTo(s - 1) : h0;
          ctx.step(label, plan, { ...dirBind(d), hprev, hnext: writesTo(s) }, [out, writesTo(s), ...cWrites], count);
        } else {
          ctx.step(label, plan, { ...dirBind(d), h0, hN }, [out, hN, ...cWrites], count);
        }
      }
    }
    input = contiguous(out, l === L - 1 ? n.shape : [rows, D * H]);
  }
  const outs = [input, contiguous(hN, state)];
  if (cN !== undefined) outs.push(contiguous(cN, state));
  return outs;
}

/**
 * W_hh of both directions as the recurrence reads it, with the [row, k] strides they share: views are
 * read through their strides, and copied contiguous only where the two directions' strides differ.
 */
function recurrentWeights(ctx: LowerCtx, n: RnnGraphNode, w: Val[]): { whh: number[]; strides: [number, number] } {
  if (w[0].strides.join() === w[1].strides.join()) return { whh: w.map((v) => v.slot), strides: [w[0].strides[0], w[0].strides[1]] };
  return { whh: w.map((v) => ctx.dense(n, v).slot), strides: [w[0].shape[1], 1] };
}

/**
 * The operands of shaders/rnn.wgsl every step of a layer binds (the caller adds the state: h0 and hN,
 * or hprev and hnext); those the cell lacks (c0 and cN but for LSTM, bhh* but for GRU) are dummies.
 */
function recurrenceBind(rec: Recurrence, xproj: number, whh: number[], bhh: (number | 'dummy')[], c0: number | 'dummy', out: number, cN: number | undefined): Bind {
  const lstm = rec.family === 'lstm', gru = rec.family === 'gru';
  return {
    xproj, whh0: whh[0], whh1: whh[1], out,
    c0: lstm ? c0 : 'dummy', cN: lstm ? cN! : 'dummy',
    bhh0: gru ? bhh[0] : 'dummy', bhh1: gru ? bhh[1] : 'dummy',
  };
}

/**
 * xproj[rows, D*G*H] = input · W_ihᵀ + b_ih + b_hh for every timestep, in x's row order. GRU folds
 * only b_hr and b_hz (its first 2H columns): b_hn sits inside r ⊙ (W_hn·h + b_hn). When both
 * directions' weights and biases are constants, they are packed here into one [2GH, I] weight and one
 * summed bias, so a bidirectional layer still costs one GEMM; otherwise each direction's GEMM writes
 * its column half.
 */
function project(ctx: LowerCtx, n: RnnGraphNode, l: number, input: Val, xproj: number): void {
  const { cell, hiddenSize: H, hasBias } = n.node;
  const D = n.node.bidirectional ? 2 : 1;
  const GH = GATES[cell] * H;
  const I = input.shape[input.shape.length - 1];
  const rows = input.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const arg = (p: string, d: number) => ctx.arg(n, 1 + n.node.paramNames.indexOf(`${p}_l${l}${d ? '_reverse' : ''}`));
  const dirs = D === 2 ? [0, 1] : [0];
  const w = dirs.map((d) => arg('weight_ih', d));
  const bi = hasBias ? dirs.map((d) => arg('bias_ih', d)) : [];
  const bh = hasBias ? dirs.map((d) => arg('bias_hh', d)) : [];
  const hhCols = cell === 'gru' ? 2 * H : GH;
  const a: View = { shape: [rows, I], strides: [I, 1] };
  const label = `${cell === 'lstm' || cell === 'gru' ? cell : 'rnn'}#${n.id} layer ${l} input projection ${fmtShape([rows, I])} x ${fmtShape([I, D * GH])}`;

  if (D === 2 && [...w, ...bi, ...bh].every((v) => isConstant(ctx, v))) {
    const W = new Float32Array(D * GH * I);
    w.forEach((v, d) => W.set(gather(ctx, v), d * GH * I));
    const wSlot = ctx.slot('constant', label, [D * GH, I], 'f32', { data: W });
    let biasSlot: number | undefined;
    if (hasBias) {
      const bias = new Float32Array(D * GH);
      for (const d of dirs) {
        const x = gather(ctx, bi[d]), y = gather(ctx, bh[d]);
        for (let r = 0; r < GH; r++) bias[d * GH + r] = x[r] + (r < hhCols ? y[r] : 0);
      }
      biasSlot = ctx.slot('constant', label, [D * GH], 'f32', { data: bias });
    }
    const plan = planMatmul({ a, b: { shape: [I, D * GH], strides: [1, I] }, hasBias, act: ACT.none }, ctx.overrides, ctx.limits);
    ctx.step(`${label} (packed)`, plan, matmulBind(input.slot, wSlot, xproj, biasSlot), [xproj], rows * D * GH);
    return;
  }
  for (const d of dirs) {
    const plan = planMatmul({
      a, b: { shape: [I, GH], strides: [w[d].strides[1], w[d].strides[0]] }, hasBias, act: ACT.none,
      bias2: hasBias ? { cols: hhCols } : undefined, out: { offset: d * GH, rowStride: D * GH },
    }, ctx.overrides, ctx.limits);
    const bind = matmulBind(input.slot, w[d].slot, xproj, hasBias ? ctx.dense(n, bi[d]).slot : undefined, hasBias ? ctx.dense(n, bh[d]).slot : undefined);
    ctx.step(D === 2 ? `${label} ${d ? 'reverse' : 'forward'}` : label, plan, bind, [xproj], rows * GH);
  }
}

const isConstant = (ctx: LowerCtx, v: Val) => ctx.slots[v.slot].kind === 'constant';

/** A constant's values in row-major order, read through its view's strides. */
function gather(ctx: LowerCtx, v: Val): Float32Array {
  const data = ctx.slots[v.slot].data!;
  const out = new Float32Array(v.shape.reduce((a, b) => a * b, 1));
  if (v.shape.length === 1) {
    for (let i = 0; i < out.length; i++) out[i] = data[i * v.strides[0]];
  } else {
    const [r, c] = v.shape, [s0, s1] = v.strides;
    for (let i = 0; i < r; i++) for (let k = 0; k < c; k++) out[i * c + k] = data[i * s0 + k * s1];
  }
  return out;
}

export const rnnOps: OpTable<'rnn'> = {
  rnn: {
    lower: lowerRnn,
    reference(n, args) {
      const params: Record<string, Value> = {};
      n.node.paramNames.forEach((name, i) => (params[name] = args[1 + i]));
      const rest = 1 + n.node.paramNames.length;
      const { hasH0, hasC0 } = n.node;
      return rnn(n.node, args[0], params, hasH0 ? args[rest] : undefined, hasC0 ? args[rest + (hasH0 ? 1 : 0)] : undefined);
    },
  },
};
