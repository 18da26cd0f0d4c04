// The Graph IR and its op builders. Builders infer and check shapes as the graph is built, so a
// shape error surfaces at the line that made it, naming the op and the shapes.
import { ShapeError, fmtShape } from '../errors';
import { broadcastShapes, checkShape, normDim, numel } from './shapes';

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
  | { op: 'transpose'; dim0: number; dim1: number };

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

  input(name: string, shape: number[], dtype: DType = 'f32'): Tensor {
    checkShape('input', `input '${name}'`, shape);
    if (!DTYPES.includes(dtype)) throw new ShapeError(`input: '${name}' has unknown dtype '${dtype}'`);
    if (this.inputs.has(name)) throw new ShapeError(`input: the name '${name}' is already an input`);
    const t = this.add_({ op: 'input', name }, [], shape, dtype);
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
    return this.add_({ op: 'constant', data }, [], shape, data instanceof Int32Array ? 'i32' : 'f32');
  }

  output(name: string, t: Tensor): void {
    this.own_('output', t);
    if (this.outputs.has(name)) throw new ShapeError(`output: the name '${name}' is already an output`);
    this.outputs.set(name, t.id);
  }

  /** torch.matmul for rank >= 2: [..., M, K] x [..., K, N] -> [..., M, N], batch dims broadcast. */
  matmul(a: Tensor, b: Tensor): Tensor {
    this.f32_('matmul', a, b);
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
    return this.add_({ op: 'matmul' }, [a.id, b.id], [...batch, m, n]);
  }

  /** torch.nn.functional.linear: x [..., in] . weight[out, in]^T + bias[out]. */
  linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
    this.f32_('linear', x, weight, ...(bias ? [bias] : []));
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
    return this.add_({ op: 'linear', hasBias: !!bias }, inputs, [...xs.slice(0, -1), ws[0]]);
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
    this.f32_('softmax', x);
    const s = x.shape;
    if (s.length === 0) throw new ShapeError('softmax: needs rank >= 1, got a scalar []');
    const d = normDim('softmax', dim, s.length, s);
    return this.add_({ op: 'softmax', dim: d }, [x.id], s);
  }

  /** torch.reshape; one dim may be -1. */
  reshape(x: Tensor, shape: number[]): Tensor {
    this.own_('reshape', x);
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
    return this.add_({ op: 'reshape' }, [x.id], out, x.dtype);
  }

  /** torch.transpose: swaps dim0 and dim1. */
  transpose(x: Tensor, dim0: number, dim1: number): Tensor {
    this.own_('transpose', x);
    const s = x.shape;
    const d0 = normDim('transpose', dim0, s.length, s);
    const d1 = normDim('transpose', dim1, s.length, s);
    const out = s.slice();
    [out[d0], out[d1]] = [s[d1], s[d0]];
    return this.add_({ op: 'transpose', dim0: d0, dim1: d1 }, [x.id], out, x.dtype);
  }

  private binary_(op: Binary, a: Tensor, b: Tensor): Tensor {
    this.f32_(op, a, b);
    return this.add_({ op }, [a.id, b.id], broadcastShapes(op, a.shape, b.shape));
  }

  private unary_(op: Unary, x: Tensor): Tensor {
    this.f32_(op, x);
    return this.add_({ op }, [x.id], x.shape);
  }

  private own_(op: string, ...ts: Tensor[]): void {
    for (const t of ts) {
      if (!(t instanceof Tensor) || t.graph !== this) {
        throw new ShapeError(`${op}: an operand is not a tensor of this graph`);
      }
    }
  }

  private f32_(op: string, ...ts: Tensor[]): void {
    this.own_(op, ...ts);
    for (const t of ts) {
      if (t.dtype !== 'f32') throw new ShapeError(`${op}: expects f32 operands, got ${t.dtype} ${fmtShape(t.shape)}`);
    }
  }

  private add_(node: Node, inputs: number[], shape: number[], dtype: DType = 'f32'): Tensor {
    const id = this.nodes.length;
    this.nodes.push({ id, node, inputs, shape, dtype });
    return new Tensor(this, id);
  }
}
