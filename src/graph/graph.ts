// The Graph IR and its op builders. Builders infer and check shapes as the graph is built, so a
// shape error surfaces at the line that made it, naming the op and the shapes.
import { ShapeError, fmtShape } from '../errors';
import { DTYPES, Tensor, type Binary, type DType, type GraphLike, type GraphNode, type Node, type Unary } from './ir';
import { checkShape, numel } from './shapes';
import { buildAttention, type AttentionOptions } from '../ops/attention';
import { buildAssign, buildConcat, buildGather, buildSlice, buildState } from '../ops/copy';
import { buildReshape, buildTranspose } from '../ops/core';
import { buildBinary, buildGelu, buildUnary } from '../ops/elementwise';
import { buildEmbedding } from '../ops/embedding';
import { buildLayerNorm } from '../ops/layernorm';
import { buildLinear, buildMatmul } from '../ops/matmul';
import { buildRnn, type RnnOptions, type RnnParams } from '../ops/rnn';
import { buildSoftmax } from '../ops/softmax';

export { Tensor, liveNodes } from './ir';
export type { Binary, Cell, DType, GraphNode, Node, NodeOf, RnnNode, Unary } from './ir';

export class Graph implements GraphLike {
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
    return buildMatmul(this, a, b);
  }

  /** torch.nn.functional.linear: x [..., in] . weight[out, in]^T + bias[out]. */
  linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
    return buildLinear(this, x, weight, bias);
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
    return buildSoftmax(this, x, dim);
  }

  /** torch.reshape; one dim may be -1. */
  reshape(x: Tensor, shape: number[]): Tensor {
    return buildReshape(this, x, shape);
  }

  /** torch.transpose: swaps dim0 and dim1. */
  transpose(x: Tensor, dim0: number, dim1: number): Tensor {
    return buildTranspose(this, x, dim0, dim1);
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
    return buildGelu(this, x, approximate);
  }

  /** torch.nn.functional.layer_norm over the trailing `normalizedShape` dims. */
  layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
    return buildLayerNorm(this, x, normalizedShape, weight, bias, eps);
  }

  /** torch.nn.functional.embedding: ids (i32, any shape) index rows of weight [num, dim]. */
  embedding(ids: Tensor, weight: Tensor): Tensor {
    return buildEmbedding(this, ids, weight);
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
    return buildBinary(this, op, a, b);
  }

  private unary_(op: Unary, x: Tensor): Tensor {
    return buildUnary(this, op, x);
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
