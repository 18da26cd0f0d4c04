// The Graph IR and its op builders. Builders infer and check shapes as the graph is built, so a
// shape error surfaces at the line that made it, naming the op and the shapes.
import { ShapeError, fmtShape } from '../errors';
import { broadcastShapes, checkShape, normDim, numel } from './shapes';
import { buildAssign, buildConcat, buildGather, buildSlice, buildState } from './data-ops';
import { buildAttention, buildLayerNorm, buildRnn, type AttentionOptions, type RnnOptions, type RnnParams } from './seq-ops';

export type DType = 'f32' | 'i32' | 'bool';
export type Unary = 'relu' | 'tanh' | 'sigmoid';
export type Binary = 'add' | 'sub' | 'mul' | 'div';

export type Node =
  | { op: 'input'; name: string }
  | { op: 'constant'; data: Float32Array | Int32Array }
  | { op: 'matmul' }
  | { op: 'linear'; hasBias: boolean }
  | { op: Binary }
  | { op: Unary }
  | { op: 'softmax'; dim: number }
  | { op: 'reshape' }
  | { op: 'transpose'; dim0: number; dim1: number }
  | { op: 'gelu'; approximate: 'none' | 'tanh' }
  | { op: 'layerNorm'; normalized: number; eps: number; hasWeight: boolean; hasBias: boolean }
  | { op: 'embedding' }
  | { op: 'attention'; scale: number; isCausal: boolean; mask: 'none' | 'bool' | 'float' }
  | RnnNode
  | { op: 'state'; name: string }
  | { op: 'assign'; dim: number; offset: number; dynamic: boolean }
  | { op: 'slice'; dim: number; start: number }
  | { op: 'concat'; dim: number }
  | { op: 'gather'; dim: number }
  /** Output `index` of a multi-output node (the recurrent ops' hN and cN). */
  | { op: 'select'; index: number };

export type Cell = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';

/** A recurrent layer stack; inputs are [x, ...params in `paramNames` order, h0?, c0?]. */
export interface RnnNode {
  op: 'rnn';
  cell: Cell;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  hasBias: boolean;
  hasH0: boolean;
  hasC0: boolean;
  paramNames: string[];
}

export type NodeOf<K extends Node['op']> = Extract<Node, { op: K }>;

export interface GraphNode<N extends Node = Node> {
  id: number;
  node: N;
  inputs: number[];
  shape: number[];
  dtype: DType;
}

/** A value in a graph: what op builders take and return. */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
  ) {}
  get shape(): number[] {
    return this.graph.nodes[this.id].shape.slice();
  }
  get dtype(): DType {
    return this.graph.nodes[this.id].dtype;
  }
}

const DTYPES: readonly DType[] = ['f32', 'i32', 'bool'];

export class Graph {
  readonly nodes: GraphNode[] = [];
  readonly inputs = new Map<string, number>();
  readonly outputs = new Map<string, number>();
  readonly states = new Map<string, number>();

  input(name: string, shape: number[], dtype: DType = 'f32'): Tensor {
    checkShape('input', `input '${name}'`, shape);
    if (!DTYPES.includes(dtype)) throw new ShapeError(`input: '${name}' has unknown dtype '${dtype}'`);
    if (this.inputs.has(name)) throw new ShapeError(`input: the name '${name}' is already an input`);
    const t = this.addNode({ op: 'input', name }, [], shape, dtype);
    this.inputs.set(name, t.id);
    return t;
  }

  constant(data: Float32Array | Int32Array, shape: number[]): Tensor {
    checkShape('constant', 'the constant', shape);
    if (!(data instanceof Float32Array) && !(data instanceof Int32Array)) {
      throw new ShapeError('constant: data must be a Float32Array or an Int32Array');
    }
    if (data.length !== numel(shape)) {
      throw new ShapeError(`constant: ${data.length} values do not fill shape ${fmtShape(shape)}`);
    }
    return this.addNode({ op: 'constant', data }, [], shape, data instanceof Int32Array ? 'i32' : 'f32');
  }

  output(name: string, t: Tensor): void {
    this.checkOwn('output', t);
    if (this.outputs.has(name)) throw new ShapeError(`output: the name '${name}' is already an output`);
    this.outputs.set(name, t.id);
  }

  /** torch.matmul for rank >= 2: [..., M, K] x [..., K, N] -> [..., M, N], batch dims broadcast. */
  matmul(a: Tensor, b: Tensor): Tensor {
    this.checkF32('matmul', a, b);
    const as = a.shape, bs = b.shape;
    if (as.length < 2 || bs.length < 2) {
      throw new ShapeError(`matmul: both operands need rank >= 2, got ${fmtShape(as)} and ${fmtShape(bs)}`);
    }
    const [m, k] = as.slice(-2), [k2, n] = bs.slice(-2);
    if (k !== k2) {
      throw new ShapeError(
        `matmul: ${fmtShape(as)} x ${fmtShape(bs)}: inner dims differ (a[-1] = ${k}, b[-2] = ${k2})`,
      );
    }
    const batch = broadcastShapes('matmul (batch dims)', as.slice(0, -2), bs.slice(0, -2));
    return this.addNode({ op: 'matmul' }, [a.id, b.id], [...batch, m, n]);
  }

  /** torch.nn.functional.linear: x [..., in] . weight[out, in]^T + bias[out]. */
  linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
    this.checkF32('linear', x, weight, ...(bias ? [bias] : []));
    const xs = x.shape, ws = weight.shape;
    if (xs.length < 1 || ws.length !== 2) {
      throw new ShapeError(`linear: x ${fmtShape(xs)} needs rank >= 1 and weight ${fmtShape(ws)} rank 2`);
    }
    if (xs[xs.length - 1] !== ws[1]) {
      throw new ShapeError(
        `linear: x ${fmtShape(xs)} has ${xs[xs.length - 1]} features but weight ${fmtShape(ws)} expects ${ws[1]}`,
      );
    }
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== ws[0])) {
      throw new ShapeError(`linear: bias ${fmtShape(bias.shape)} must be [${ws[0]}] for weight ${fmtShape(ws)}`);
    }
    const inputs = bias ? [x.id, weight.id, bias.id] : [x.id, weight.id];
    return this.addNode({ op: 'linear', hasBias: !!bias }, inputs, [...xs.slice(0, -1), ws[0]]);
  }

  add(a: Tensor, b: Tensor): Tensor {
    return this.binary_('add', a, b);
  }
  sub(a: Tensor, b: Tensor): Tensor {
    return this.binary_('sub', a, b);
  }
  mul(a: Tensor, b: Tensor): Tensor {
    return this.binary_('mul', a, b);
  }
  div(a: Tensor, b: Tensor): Tensor {
    return this.binary_('div', a, b);
  }
  relu(x: Tensor): Tensor {
    return this.unary_('relu', x);
  }
  tanh(x: Tensor): Tensor {
    return this.unary_('tanh', x);
  }
  sigmoid(x: Tensor): Tensor {
    return this.unary_('sigmoid', x);
  }

  /** Stable softmax along `dim` (default the last). */
  softmax(x: Tensor, dim = -1): Tensor {
    this.checkF32('softmax', x);
    const s = x.shape;
    if (s.length === 0) throw new ShapeError('softmax: needs rank >= 1, got a scalar []');
    const d = normDim('softmax', dim, s.length, s);
    return this.addNode({ op: 'softmax', dim: d }, [x.id], s);
  }

  /** torch.reshape; one dim may be -1. */
  reshape(x: Tensor, shape: number[]): Tensor {
    this.checkOwn('reshape', x);
    const n = numel(x.shape);
    const free = shape.filter((d) => d === -1).length;
    if (free > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) {
      throw new ShapeError(`reshape: invalid target shape ${fmtShape(shape)} for ${fmtShape(x.shape)}`);
    }
    const known = numel(shape.filter((d) => d !== -1));
    let out = shape.slice();
    if (free) {
      if (known === 0 || n % known !== 0) {
        throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${n} elements) to ${fmtShape(shape)}`);
      }
      out = shape.map((d) => (d === -1 ? n / known : d));
    }
    if (numel(out) !== n) {
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${n} elements) to ${fmtShape(shape)}`);
    }
    return this.addNode({ op: 'reshape' }, [x.id], out, x.dtype);
  }

  /** torch.transpose: swaps dim0 and dim1. */
  transpose(x: Tensor, dim0: number, dim1: number): Tensor {
    this.checkOwn('transpose', x);
    const s = x.shape;
    const d0 = normDim('transpose', dim0, s.length, s);
    const d1 = normDim('transpose', dim1, s.length, s);
    const out = s.slice();
    [out[d0], out[d1]] = [s[d1], s[d0]];
    return this.addNode({ op: 'transpose', dim0: d0, dim1: d1 }, [x.id], out, x.dtype);
  }

  /**
   * A tensor kept on the GPU between runs of a compiled graph (zeros at compile; exe.resetState()
   * zeroes it again), e.g. a KV cache. Written with assign; executables can share it.
   */
  state(name: string, shape: number[]): Tensor {
    return buildState(this, name, shape);
  }

  /** state[..., offset : offset + n, ...] = value along dim; returns the state after the write. */
  assign(state: Tensor, value: Tensor, opts: { dim: number; offset: number | Tensor }): Tensor {
    if (opts === null || typeof opts !== 'object') throw new ShapeError(`assign: options must be { dim, offset }, got ${opts === null ? 'null' : typeof opts}`);
    return buildAssign(this, state, value, opts.dim, opts.offset);
  }

  /** x[..., start:end, ...] along dim. */
  slice(x: Tensor, dim: number, start: number, end: number): Tensor {
    return buildSlice(this, x, dim, start, end);
  }

  /** torch.cat(tensors, dim). */
  concat(tensors: Tensor[], dim: number): Tensor {
    return buildConcat(this, tensors, dim);
  }

  /** torch.gather(x, dim, index). */
  gather(x: Tensor, dim: number, index: Tensor): Tensor {
    return buildGather(this, x, dim, index);
  }

  /** torch.nn.functional.gelu: exact (erf) or the tanh approximation. */
  gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
    this.checkF32('gelu', x);
    if (approximate !== 'none' && approximate !== 'tanh') throw new ShapeError(`gelu: approximate must be 'none' or 'tanh', got '${approximate}'`);
    return this.addNode({ op: 'gelu', approximate }, [x.id], x.shape);
  }

  /** torch.nn.functional.layer_norm over the trailing `normalizedShape` dims. */
  layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
    return buildLayerNorm(this, x, normalizedShape, weight, bias, eps);
  }

  /** torch.nn.functional.embedding: ids (i32, any shape) index rows of weight [num, dim]. */
  embedding(ids: Tensor, weight: Tensor): Tensor {
    this.checkOwn('embedding', ids, weight);
    if (ids.dtype !== 'i32') throw new ShapeError(`embedding: ids must be i32, got ${ids.dtype} ${fmtShape(ids.shape)}`);
    if (weight.dtype !== 'f32' || weight.shape.length !== 2) {
      throw new ShapeError(`embedding: weight must be f32 [num, dim], got ${weight.dtype} ${fmtShape(weight.shape)}`);
    }
    return this.addNode({ op: 'embedding' }, [ids.id, weight.id], [...ids.shape, weight.shape[1]]);
  }

  /**
   * torch.nn.functional.scaled_dot_product_attention: q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv].
   * A bool mask is true = attend; a float mask is added to the scores; isCausal is aligned top-left.
   * A query row with every key masked gives zeros (torch gives NaN).
   */
  scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
    return buildAttention(this, q, k, v, opts);
  }

  /** torch.nn.LSTM (gates i, f, g, o); params under torch names. */
  lstm(x: Tensor, params: RnnParams, opts: RnnOptions): { output: Tensor; hN: Tensor; cN: Tensor } {
    const r = buildRnn(this, 'lstm', x, params, opts);
    return { output: r[0], hN: r[1], cN: r[2] };
  }

  /** torch.nn.GRU (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))). */
  gru(x: Tensor, params: RnnParams, opts: RnnOptions): { output: Tensor; hN: Tensor } {
    const r = buildRnn(this, 'gru', x, params, opts);
    return { output: r[0], hN: r[1] };
  }

  /** torch.nn.RNN (Elman), nonlinearity 'tanh' (default) or 'relu'. */
  rnn(x: Tensor, params: RnnParams, opts: RnnOptions & { nonlinearity?: 'tanh' | 'relu' }): { output: Tensor; hN: Tensor } {
    const nl = opts?.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new ShapeError(`rnn: nonlinearity must be 'tanh' or 'relu', got '${nl}'`);
    const r = buildRnn(this, nl === 'tanh' ? 'rnn_tanh' : 'rnn_relu', x, params, opts);
    return { output: r[0], hN: r[1] };
  }

  private binary_(op: Binary, a: Tensor, b: Tensor): Tensor {
    this.checkF32(op, a, b);
    return this.addNode({ op }, [a.id, b.id], broadcastShapes(op, a.shape, b.shape));
  }

  private unary_(op: Unary, x: Tensor): Tensor {
    this.checkF32(op, x);
    return this.addNode({ op }, [x.id], x.shape);
  }

  /** @internal Checks that every operand is a tensor of this graph. */
  checkOwn(op: string, ...ts: Tensor[]): void {
    for (const t of ts) {
      if (!(t instanceof Tensor) || t.graph !== this) {
        throw new ShapeError(`${op}: an operand is not a tensor of this graph`);
      }
    }
  }

  /** @internal Checks ownership and the f32 dtype. */
  checkF32(op: string, ...ts: Tensor[]): void {
    this.checkOwn(op, ...ts);
    for (const t of ts) {
      if (t.dtype !== 'f32') throw new ShapeError(`${op}: expects f32 operands, got ${t.dtype} ${fmtShape(t.shape)}`);
    }
  }

  /** @internal Appends a node; builders have checked its inputs and shape. */
  addNode(node: Node, inputs: number[], shape: number[], dtype: DType = 'f32'): Tensor {
    const id = this.nodes.length;
    this.nodes.push({ id, node, inputs, shape, dtype });
    return new Tensor(this, id);
  }
}

/**
 * The nodes a run must compute: those the outputs depend on, and every assign (a write into state
 * is an effect of its own, read by later runs) with what it depends on.
 */
export function liveNodes(graph: Graph): boolean[] {
  const live = graph.nodes.map((n) => n.node.op === 'assign');
  for (const id of graph.outputs.values()) live[id] = true;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (live[i]) for (const j of graph.nodes[i].inputs) live[j] = true;
  }
  return live;
}
