// The Graph IR and its op builders. Builders infer and check shapes as the graph is built, so a
// shape error surfaces at the line that made it, naming the op and the shapes.
import { ShapeError, fmtShape } from '../errors';
import { DTYPES, Tensor, WEIGHT16_READERS, isHalf, type DType, type GraphLike, type GraphNode, type HalfDType, type Node, type NodeKind } from './ir';
import { checkShape, numel } from './shapes';
import { buildAttention, type AttentionOptions } from '../ops/attention';
import { buildAssign, buildConcat, buildGather, buildSlice, buildState } from '../ops/copy';
import { buildReshape, buildTranspose } from '../ops/core';
import { buildCast } from '../ops/cast';
import { buildCustom } from '../ops/custom';
import { COMPARE } from '../ops/compare';
import { ELEMENTWISE, buildElementwise, buildGelu, type ElementwiseDef } from '../ops/elementwise';
import { MATH } from '../ops/math';
import { WHERE, buildMaskedFill } from '../ops/where';
import { buildEmbedding } from '../ops/embedding';
import { buildLayerNorm } from '../ops/layernorm';
import { buildLinear, buildMatmul } from '../ops/matmul';
import { buildRnn, type RnnOptions, type RnnParams } from '../ops/rnn';
import { buildSoftmax } from '../ops/softmax';
import { buildSampleTokens, type SampleOptions } from '../ops/sample';

export { Tensor, liveNodes } from './ir';
export type { Binary, Cell, DType, GraphNode, Node, NodeOf, RnnNode, Unary } from './ir';

/**
 * A graph of ops under construction. Each builder method (PyTorch semantics, torch.nn.functional
 * names in camelCase) checks its operands' shapes and dtypes at once, throwing a {@link ShapeError}
 * that names the op and the shapes, and returns the result as a new {@link Tensor}. Name the inputs
 * fed at every run with {@link Graph.input} and the results read back with {@link Graph.output},
 * then compile the graph with {@link Runtime.compile}. A graph can be compiled many times, on
 * different runtimes.
 */
export class Graph implements GraphLike {
  /**
   * Every value of the graph, in build order: node `id` is the value of the Tensor with that id. For
   * inspection (shapes, dtypes, how values connect); the op records in `node` are the engine's IR.
   */
  readonly nodes: GraphNode[] = [];
  /** Input names, in declaration order, to the ids of their nodes ({@link Tensor.id}). */
  readonly inputs = new Map<string, number>();
  /** Output names, in declaration order, to the ids of the nodes they read. */
  readonly outputs = new Map<string, number>();
  /** State names ({@link Graph.state}) to the ids of their nodes. */
  readonly states = new Map<string, number>();

  /**
   * A value fed at every run under `name` (a Float32Array, an Int32Array for 'i32', a Uint8Array
   * for 'bool', of exactly the shape's element count). Throws a ShapeError for a bad shape (each dim
   * a non-negative integer), an unknown dtype or a name already used by an input.
   * @param name the feed's name in `exe.run({ [name]: data })`
   * @param shape the dims, e.g. [B, T] for token ids
   * @param dtype 'f32' (default), 'i32' (token ids, indices) or 'bool' (masks)
   */
  input(name: string, shape: number[], dtype: DType = 'f32'): Tensor {
    checkShape('input', `input '${name}'`, shape);
    if (!DTYPES.includes(dtype)) throw new ShapeError(`input: '${name}' has unknown dtype '${dtype}'`);
    if (this.inputs.has(name)) throw new ShapeError(`input: the name '${name}' is already an input`);
    const t = this.addNode({ op: 'input', name }, [], shape, dtype);
    this.inputs.set(name, t.id);
    return t;
  }

  /**
   * A constant, uploaded once at compile: f32 or i32 values; or, with dtype 'f16' or 'bf16', the
   * 16-bit patterns of a weight (a Uint16Array, e.g. readSafetensors(bytes, { keep16: true })' data),
   * which matmul (as b), linear (as weight) and embedding (as weight) read, accumulating in f32.
   */
  constant(data: Float32Array | Int32Array, shape: number[]): Tensor;
  /** A 16-bit weight constant: `data` holds the f16 or bf16 bit patterns (round f32 values with toHalf). */
  constant(data: Uint16Array, shape: number[], dtype: HalfDType): Tensor;
  constant(data: Float32Array | Int32Array | Uint16Array, shape: number[], dtype?: HalfDType): Tensor {
    checkShape('constant', 'the constant', shape);
    if (dtype !== undefined || data instanceof Uint16Array) {
      if (dtype === undefined || !isHalf(dtype)) {
        throw new ShapeError(`constant: a Uint16Array holds 16-bit weights and needs dtype 'f16' or 'bf16', got ${JSON.stringify(dtype)}`);
      }
      if (!(data instanceof Uint16Array)) {
        throw new ShapeError(`constant: dtype '${dtype}' takes the 16-bit patterns as a Uint16Array, got a ${data?.constructor?.name ?? typeof data}`);
      }
    } else if (!(data instanceof Float32Array) && !(data instanceof Int32Array)) {
      throw new ShapeError('constant: data must be a Float32Array or an Int32Array (or a Uint16Array with dtype f16 / bf16)');
    }
    if (data.length !== numel(shape)) {
      throw new ShapeError(`constant: ${data.length} values do not fill ${dtype ? `${dtype} ` : ''}shape ${fmtShape(shape)} (${numel(shape)})`);
    }
    return this.addNode({ op: 'constant', data }, [], shape, dtype ?? (data instanceof Int32Array ? 'i32' : 'f32'));
  }

  /**
   * Names `t` as a result: `exe.run()` returns its values under `name`, as a Float32Array whatever
   * its dtype (bool as 0 and 1). Throws a ShapeError when `t` is not a tensor of this graph or the
   * name is already an output.
   */
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

  // ---- elementwise: torch semantics on f32, i32 and bool, operands broadcast, dtypes promoted as
  // torch.result_type (bool < i32 < f32) ----

  /** torch.add: a + b (bool + bool is logical or). */
  add(a: Tensor, b: Tensor): Tensor {
    return this.ew_('add', ELEMENTWISE.add, a, b);
  }
  /** torch.sub: a - b (no bool operands, as torch). */
  sub(a: Tensor, b: Tensor): Tensor {
    return this.ew_('sub', ELEMENTWISE.sub, a, b);
  }
  /** torch.mul: a * b (bool * bool is logical and). */
  mul(a: Tensor, b: Tensor): Tensor {
    return this.ew_('mul', ELEMENTWISE.mul, a, b);
  }
  /** torch.div: true division, always f32. */
  div(a: Tensor, b: Tensor): Tensor {
    return this.ew_('div', ELEMENTWISE.div, a, b);
  }
  /** torch.pow: input ** exponent; i32 ** negative gives 0 (but for bases 1 and -1), as torch. */
  pow(input: Tensor, exponent: Tensor): Tensor {
    return this.ew_('pow', MATH.pow, input, exponent);
  }
  /** torch.maximum: NaN if either is NaN. */
  maximum(a: Tensor, b: Tensor): Tensor {
    return this.ew_('maximum', MATH.maximum, a, b);
  }
  /** torch.minimum: NaN if either is NaN. */
  minimum(a: Tensor, b: Tensor): Tensor {
    return this.ew_('minimum', MATH.minimum, a, b);
  }
  /** torch.relu (f32 or i32). */
  relu(x: Tensor): Tensor {
    return this.ew_('relu', ELEMENTWISE.relu, x);
  }
  /** torch.tanh (f32 result). */
  tanh(x: Tensor): Tensor {
    return this.ew_('tanh', ELEMENTWISE.tanh, x);
  }
  /** torch.sigmoid (f32 result). */
  sigmoid(x: Tensor): Tensor {
    return this.ew_('sigmoid', ELEMENTWISE.sigmoid, x);
  }
  /** torch.neg (f32 or i32; i32 wraps). */
  neg(x: Tensor): Tensor {
    return this.ew_('neg', MATH.neg, x);
  }
  /** torch.abs (f32 or i32; i32 wraps). */
  abs(x: Tensor): Tensor {
    return this.ew_('abs', MATH.abs, x);
  }
  /** torch.exp (f32 result). */
  exp(x: Tensor): Tensor {
    return this.ew_('exp', MATH.exp, x);
  }
  /** torch.log (f32 result; NaN below 0, -inf at 0). */
  log(x: Tensor): Tensor {
    return this.ew_('log', MATH.log, x);
  }
  /** torch.sqrt (f32 result; NaN below 0). */
  sqrt(x: Tensor): Tensor {
    return this.ew_('sqrt', MATH.sqrt, x);
  }
  /** torch.rsqrt: 1 / sqrt(x) (f32 result). */
  rsqrt(x: Tensor): Tensor {
    return this.ew_('rsqrt', MATH.rsqrt, x);
  }
  /** torch.eq: a == b, bool (NaN equals nothing). */
  eq(a: Tensor, b: Tensor): Tensor {
    return this.ew_('eq', COMPARE.eq, a, b);
  }
  /** torch.ne: a != b, bool (NaN differs from everything). */
  ne(a: Tensor, b: Tensor): Tensor {
    return this.ew_('ne', COMPARE.ne, a, b);
  }
  /** torch.lt: a < b, bool. */
  lt(a: Tensor, b: Tensor): Tensor {
    return this.ew_('lt', COMPARE.lt, a, b);
  }
  /** torch.le: a <= b, bool. */
  le(a: Tensor, b: Tensor): Tensor {
    return this.ew_('le', COMPARE.le, a, b);
  }
  /** torch.gt: a > b, bool. */
  gt(a: Tensor, b: Tensor): Tensor {
    return this.ew_('gt', COMPARE.gt, a, b);
  }
  /** torch.ge: a >= b, bool. */
  ge(a: Tensor, b: Tensor): Tensor {
    return this.ew_('ge', COMPARE.ge, a, b);
  }
  /** torch.logical_and: any dtypes, non-zero is true; bool result. */
  logicalAnd(a: Tensor, b: Tensor): Tensor {
    return this.ew_('logicalAnd', COMPARE.logicalAnd, a, b);
  }
  /** torch.logical_or: any dtypes, non-zero is true; bool result. */
  logicalOr(a: Tensor, b: Tensor): Tensor {
    return this.ew_('logicalOr', COMPARE.logicalOr, a, b);
  }
  /** torch.logical_not: any dtype, bool result. */
  logicalNot(x: Tensor): Tensor {
    return this.ew_('logicalNot', COMPARE.logicalNot, x);
  }
  /** torch.where(condition, input, other): condition bool; the result has input's and other's promoted dtype. */
  where(condition: Tensor, input: Tensor, other: Tensor): Tensor {
    return this.ew_('where', WHERE, condition, input, other);
  }
  /** Tensor.masked_fill: value where mask (bool) is true; keeps input's dtype (value cast to it). */
  maskedFill(input: Tensor, mask: Tensor, value: number): Tensor {
    return buildMaskedFill(this, input, mask, value);
  }
  /**
   * Tensor.to(dtype): f32 -> i32 truncates toward zero, NaN gives 0 and out-of-range values saturate;
   * to bool is != 0 (NaN is true); from bool gives 0 or 1.
   */
  cast(x: Tensor, dtype: DType): Tensor {
    return buildCast(this, x, dtype);
  }

  /** Stable softmax along `dim` (default the last). */
  softmax(x: Tensor, dim = -1): Tensor {
    return buildSoftmax(this, x, dim);
  }

  /**
   * One token id (i32) per row of logits [..., V], the result shaped [...]: greedy (the first index
   * of the largest logit, as torch.argmax) when the temperature is 0, else drawn as models'
   * pickToken draws: the top k by logit (ties by index), weights exp((l - max) / temperature),
   * the first token whose running weight passes u * total, u being the row's entry of `draws`.
   */
  sampleTokens(logits: Tensor, opts: SampleOptions = {}): Tensor {
    return buildSampleTokens(this, logits, opts);
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

  /**
   * An op registered with rt.kernels.register({ op: name, operands, shape, reference, ... }): its
   * shape rule gives the result's shape and dtype now; a runtime with a kernel for it runs it.
   */
  custom(name: string, inputs: Tensor[], attrs: Record<string, unknown> = {}): Tensor {
    return buildCustom(this, name, inputs, attrs);
  }

  /** torch.nn.LSTM (gates i, f, g, o); params under torch names. */
  lstm(x: Tensor, params: RnnParams, opts: RnnOptions): {
    /** Last layer's h at every step: [T, B, D·H] ([B, T, D·H] with batchFirst). */
    output: Tensor;
    /** Each layer's and direction's last h: [D·numLayers, B, H]. */
    hN: Tensor;
    /** Each layer's and direction's last c: [D·numLayers, B, H]. */
    cN: Tensor;
  } {
    const r = buildRnn(this, 'lstm', x, params, opts);
    return { output: r[0], hN: r[1], cN: r[2] };
  }

  /** torch.nn.GRU (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))). */
  gru(x: Tensor, params: RnnParams, opts: RnnOptions): {
    /** Last layer's h at every step: [T, B, D·H] ([B, T, D·H] with batchFirst). */
    output: Tensor;
    /** Each layer's and direction's last h: [D·numLayers, B, H]. */
    hN: Tensor;
  } {
    const r = buildRnn(this, 'gru', x, params, opts);
    return { output: r[0], hN: r[1] };
  }

  /** torch.nn.RNN (Elman), nonlinearity 'tanh' (default) or 'relu'. */
  rnn(x: Tensor, params: RnnParams, opts: RnnOptions & { nonlinearity?: 'tanh' | 'relu' }): {
    /** Last layer's h at every step: [T, B, D·H] ([B, T, D·H] with batchFirst). */
    output: Tensor;
    /** Each layer's and direction's last h: [D·numLayers, B, H]. */
    hN: Tensor;
  } {
    const nl = opts?.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new ShapeError(`rnn: nonlinearity must be 'tanh' or 'relu', got '${nl}'`);
    const r = buildRnn(this, nl === 'tanh' ? 'rnn_tanh' : 'rnn_relu', x, params, opts);
    return { output: r[0], hN: r[1] };
  }

  private ew_(kind: NodeKind, def: ElementwiseDef, ...operands: Tensor[]): Tensor {
    return buildElementwise(this, kind, def, operands);
  }

  /** @internal Checks that every operand is a tensor of this graph, and none a 16-bit weight (but for transpose). */
  checkOwn(op: string, ...ts: Tensor[]): void {
    ts.forEach((t, i) => {
      if (!(t instanceof Tensor) || t.graph !== this) {
        throw new ShapeError(`${op}: an operand is not a tensor of this graph`);
      }
      if (isHalf(t.dtype) && WEIGHT16_READERS[op] !== i) throw half16Error(op, i, t);
    });
  }

  /** @internal Checks ownership and that weight operand `what` of `op` is f32 or a 16-bit weight. */
  checkWeight(op: string, what: string, t: Tensor): void {
    if (!(t instanceof Tensor) || t.graph !== this) throw new ShapeError(`${op}: ${what} is not a tensor of this graph`);
    if (t.dtype !== 'f32' && !isHalf(t.dtype)) {
      throw new ShapeError(`${op}: ${what} must be f32, f16 or bf16, got ${t.dtype} ${fmtShape(t.shape)}`);
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
    inputs.forEach((j, i) => {
      const t = this.nodes[j];
      if (t && isHalf(t.dtype) && WEIGHT16_READERS[node.op] !== i) throw half16Error(node.op, i, new Tensor(this, j));
    });
    const id = this.nodes.length;
    this.nodes.push({ id, node, inputs, shape, dtype });
    return new Tensor(this, id);
  }
}

/** A 16-bit weight given to an op (or operand) that does not read one. */
function half16Error(op: string, operand: number, t: Tensor): ShapeError {
  return new ShapeError(
    `${op}: operand ${operand} is a 16-bit weight (${t.dtype} ${fmtShape(t.shape)}); 16-bit tensors are read only as ` +
      "matmul's b, linear's weight and embedding's weight (and transposed views of them)",
  );
}
