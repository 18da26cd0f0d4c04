// The graph IR, at the bottom of the import graph: dtypes, node kinds and their attributes, graph
// values (Tensor), and the recurrent family's vocabulary (cells, gate counts, torch parameter names
// and shapes). Builders, lowerings, the CPU reference, nn modules and tests import these from here.
import { ShapeError, fmtShape } from '../errors';

/**
 * Element types of graph values. Each has a storage size on the GPU; bool is held as one u32 word
 * per element so kernels can index it like the others. 16-bit storage types (f16, bf16) are added
 * by giving them an entry here with their size; slot sizes and feeds read this table.
 */
export const DTYPE_BYTES = { f32: 4, i32: 4, bool: 4 } as const;
export type DType = keyof typeof DTYPE_BYTES;
export const DTYPES = Object.keys(DTYPE_BYTES) as DType[];

/** torch's promotion order for dtypes of one category chain: bool < i32 < f32. */
const RANK: Record<DType, number> = { bool: 0, i32: 1, f32: 2 };

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

export type Node =
  | { op: 'input'; name: string }
  | { op: 'constant'; data: Float32Array | Int32Array }
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
  /** Output `index` of a multi-output node (the recurrent ops' hN and cN). */
  | { op: 'select'; index: number };

export type NodeKind = Node['op'];
export type NodeOf<K extends NodeKind> = Extract<Node, { op: K }>;

export interface GraphNode<N extends Node = Node> {
  id: number;
  node: N;
  inputs: number[];
  shape: number[];
  dtype: DType;
}

/** What builders and passes see of a graph (graph.ts's Graph is the one implementation). */
export interface GraphLike {
  readonly nodes: GraphNode[];
  readonly inputs: Map<string, number>;
  readonly outputs: Map<string, number>;
  readonly states: Map<string, number>;
  addNode(node: Node, inputs: number[], shape: number[], dtype?: DType): Tensor;
  checkOwn(op: string, ...ts: Tensor[]): void;
  checkF32(op: string, ...ts: Tensor[]): void;
}

/** A graph as passes, the planner and the interpreter read it (the fusion pass returns one). */
export type GraphIR = Pick<GraphLike, 'nodes' | 'inputs' | 'outputs' | 'states'>;

/** A value in a graph: what op builders take and return. */
export class Tensor {
  constructor(
    readonly graph: GraphLike,
    readonly id: number,
  ) {}
  get shape(): number[] {
    return this.graph.nodes[this.id].shape.slice();
  }
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
