// The graph IR, at the bottom of the import graph: dtypes, node kinds and their attributes, graph
// values (Tensor), and the recurrent family's vocabulary (cells, gate counts, torch parameter names
// and shapes). Builders, lowerings, the CPU reference, nn modules and tests import these from here.
import { ShapeError, fmtShape } from '../errors';

/**
 * Element types of graph values. Each has a storage size on the GPU; bool is held as one u32 word
 * per element so kernels can index it like the others. f16 and bf16 are storage types of weights
 * only: 16-bit constants, packed two to a u32 word (an odd count padded to whole pairs), that
 * matmul and linear read as B, embedding as its table, and transpose views; every other op refuses
 * them at graph build (WEIGHT16_READERS).
 *
 * @property f32 4 bytes: IEEE single floats (a Float32Array)
 * @property i32 4 bytes: signed 32-bit integers, which wrap (an Int32Array)
 * @property bool 4 bytes: one u32 word per element, 0 or 1 (fed as a Uint8Array)
 * @property f16 2 bytes: IEEE half floats, weights only (a Uint16Array of bit patterns)
 * @property bf16 2 bytes: bfloat16, the top half of an f32, weights only (a Uint16Array of bit patterns)
 */
export const DTYPE_BYTES = { f32: 4, i32: 4, bool: 4, f16: 2, bf16: 2 } as const;
/**
 * A graph value's element type: 'f32', 'i32' or 'bool' for inputs and computed values; 'f16' and
 * 'bf16' for 16-bit weight constants only. On the GPU, f32, i32 and bool take 4 bytes an element
 * (bool one u32 word), f16 and bf16 2 bytes.
 */
export type DType = keyof typeof DTYPE_BYTES;
/** The dtypes of computed values, inputs and casts. */
export const DTYPES: DType[] = ['f32', 'i32', 'bool'];
/** The 16-bit weight dtypes (g.constant(u16, shape, dtype)). */
export type HalfDType = 'f16' | 'bf16';
export const HALF_DTYPES: readonly HalfDType[] = ['f16', 'bf16'];
export const isHalf = (dtype: string): dtype is HalfDType => dtype === 'f16' || dtype === 'bf16';

/** Which operand of which op may be a 16-bit weight: the rest refuse one at graph build. */
export const WEIGHT16_READERS: Readonly<Record<string, number>> = { matmul: 1, linear: 1, embedding: 1, transpose: 0 };

/** torch's promotion order for dtypes of one category chain: bool < i32 < f32 (16-bit weights rank as f32). */
const RANK: Record<DType, number> = { bool: 0, i32: 1, f32: 2, f16: 2, bf16: 2 };

/** torch.result_type of tensor operands: the highest of them (bool < i32 < f32). */
export function promoteTypes(dtypes: readonly DType[]): DType {
  return dtypes.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'bool' as DType);
}

/** The elementwise ops of one or more tensors (src/ops/elementwise.ts and its families). */
export type Unary =
  | 'relu' | 'tanh' | 'sigmoid' | 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'logicalNot' | 'cast';
export type Binary =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'logicalAnd' | 'logicalOr';
/** What a matmul's epilogue may apply (graph/fuse.ts folds these). */
export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'none';

/**
 * matmul and linear carry an epilogue. Builders leave it empty (act 'none', no residual); the fusion
 * pass (graph/fuse.ts) folds a following activation and a residual add into it, the residual being
 * the node's last input.
 */
export interface Epilogue {
  act: Activation;
  residual: boolean;
}

/**
 * @internal The op records of the IR: an op name and its attributes. What a node records may change
 * between versions; the graph builders are the interface.
 */
export type Node =
  | { op: 'input'; name: string }
  /** data: f32 or i32 values, or (dtype f16 / bf16) 16-bit patterns. */
  | { op: 'constant'; data: Float32Array | Int32Array | Uint16Array }
  | ({ op: 'matmul' } & Epilogue)
  | ({ op: 'linear'; hasBias: boolean } & Epilogue)
  | { op: Binary }
  | { op: Unary }
  | { op: 'where' }
  | { op: 'maskedFill'; value: number }
  /** A user-defined op (g.custom), its shape rule and reference registered by name. */
  | { op: 'custom'; name: string; attrs: Record<string, unknown> }
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
  /** One token id per row of logits (src/ops/sample.ts); `greedy`: temperature fixed at 0, no draws. */
  | { op: 'sampleTokens'; greedy: boolean }
  /** Output `index` of a multi-output node (the recurrent ops' hN and cN). */
  | { op: 'select'; index: number };

export type NodeKind = Node['op'];
export type NodeOf<K extends NodeKind> = Extract<Node, { op: K }>;

/** One value of a graph ({@link Graph.nodes}): the op that makes it, what it reads, its shape and dtype. */
export interface GraphNode<N extends Node = Node> {
  /** Its index in the graph's nodes, the {@link Tensor.id} of its value. */
  id: number;
  /** The op and its attributes (the engine's IR record, which may change between versions). */
  node: N;
  /** The ids of the nodes it reads, in operand order. */
  inputs: number[];
  /** The value's shape, as inferred when the node was built. */
  shape: number[];
  /** The value's element type. */
  dtype: DType;
}

/** What op builders and the engine's passes see of a graph; {@link Graph} is the one implementation. */
export interface GraphLike {
  /** Every value, in build order; a node's index is its id. */
  readonly nodes: GraphNode[];
  /** Input names to node ids, in declaration order. */
  readonly inputs: Map<string, number>;
  /** Output names to node ids, in declaration order. */
  readonly outputs: Map<string, number>;
  /** State names to node ids. */
  readonly states: Map<string, number>;
  /** @internal Appends a node whose inputs and shape the builder has checked. */
  addNode(node: Node, inputs: number[], shape: number[], dtype?: DType): Tensor;
  /** @internal Throws a ShapeError unless every operand is a tensor of this graph. */
  checkOwn(op: string, ...ts: Tensor[]): void;
  /** @internal Throws a ShapeError unless every operand is an f32 tensor of this graph. */
  checkF32(op: string, ...ts: Tensor[]): void;
  /** Checks ownership and that `t` is an f32 or 16-bit weight tensor (`what` names it in the error). */
  checkWeight(op: string, what: string, t: Tensor): void;
}

/** A graph as passes, the planner and the interpreter read it (the fusion pass returns one). */
export type GraphIR = Pick<GraphLike, 'nodes' | 'inputs' | 'outputs' | 'states'>;

/** A value in a graph: what op builders take and return. */
export class Tensor {
  /** Made by the graph's builders (input, constant, and every op); code does not make tensors itself. */
  constructor(
    /** The graph the value belongs to: ops take only tensors of their own graph. */
    readonly graph: GraphLike,
    /** The value's node: its index in the graph's nodes. */
    readonly id: number,
  ) {}
  /** The value's shape (a copy), known as soon as the op is built. */
  get shape(): number[] {
    return this.graph.nodes[this.id].shape.slice();
  }
  /** The value's element type. */
  get dtype(): DType {
    return this.graph.nodes[this.id].dtype;
  }
}

/**
 * The nodes a run must compute: those the outputs depend on, and every assign (a write into state
 * is an effect of its own, read by later runs) with what it depends on.
 */
export function liveNodes(graph: Pick<GraphLike, 'nodes' | 'outputs'>): boolean[] {
  const live = graph.nodes.map((n) => n.node.op === 'assign');
  for (const id of graph.outputs.values()) live[id] = true;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (live[i]) for (const j of graph.nodes[i].inputs) live[j] = true;
  }
  return live;
}

/** The node a value comes from, looking through views. */
export function viewRoot(graph: GraphIR, id: number): GraphNode {
  let n = graph.nodes[id];
  while (n.node.op === 'reshape' || n.node.op === 'transpose') n = graph.nodes[n.inputs[0]];
  return n;
}

/** How many nodes read each node (a node read twice by one node counts twice). */
export function countUses(graph: Pick<GraphIR, 'nodes'>): number[] {
  const uses = new Array<number>(graph.nodes.length).fill(0);
  for (const n of graph.nodes) for (const i of n.inputs) uses[i]++;
  return uses;
}

// ---- the recurrent family (torch.nn.LSTM / GRU / RNN) ----

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

/** Gates per cell, in torch's order: LSTM i, f, g, o; GRU r, z, n; RNN one. */
export const GATES: Record<Cell, number> = { lstm: 4, gru: 3, rnn_tanh: 1, rnn_relu: 1 };

/** The op name a cell is built and reported under. */
export const cellOp = (cell: Cell): 'lstm' | 'gru' | 'rnn' => (cell === 'lstm' || cell === 'gru' ? cell : 'rnn');

/** The torch names a stack needs, in the order the node's inputs carry them. */
export function rnnParamNames(layers: number, directions: number, bias: boolean): string[] {
  const names: string[] = [];
  for (let l = 0; l < layers; l++) {
    for (let d = 0; d < directions; d++) {
      const sfx = rnnSuffix(l, d);
      names.push(`weight_ih${sfx}`, `weight_hh${sfx}`);
      if (bias) names.push(`bias_ih${sfx}`, `bias_hh${sfx}`);
    }
  }
  return names;
}

/** `_l{layer}` and `_reverse` for the backward direction, as torch names them. */
export const rnnSuffix = (layer: number, direction: number): string => `_l${layer}${direction ? '_reverse' : ''}`;

/**
 * The torch shape of parameter `name` of a stack with hidden size H over inputs of size I, D
 * directions: weight_ih [G·H, I] (layer 0) or [G·H, D·H], weight_hh [G·H, H], biases [G·H].
 */
export function rnnParamShape(name: string, cell: Cell, H: number, I: number, D: number): number[] {
  const m = /^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$/.exec(name);
  if (!m) throw new ShapeError(`${cellOp(cell)}: '${name}' is not a torch parameter name`);
  const G = GATES[cell] * H;
  if (m[1] === 'weight_ih') return [G, Number(m[2]) === 0 ? I : D * H];
  if (m[1] === 'weight_hh') return [G, H];
  return [G];
}

/** Checks every parameter's shape at once, naming each that is wrong. */
export function checkRnnParamShapes(cell: Cell, H: number, I: number, D: number, shapes: Record<string, number[]>): void {
  const bad: string[] = [];
  for (const [name, shape] of Object.entries(shapes)) {
    const want = rnnParamShape(name, cell, H, I, D);
    if (fmtShape(shape) !== fmtShape(want)) bad.push(`${name} is ${fmtShape(shape)}, expected ${fmtShape(want)}`);
  }
  if (bad.length) throw new ShapeError(`${cellOp(cell)}: hiddenSize ${H}, input size ${I}, ${GATES[cell]} gate(s): ${bad.join('; ')}`);
}
