// Runs a Graph on the CPU with the reference ops: the engine's definition of the right answer.
import { liveNodes, type Graph, type GraphNode } from '../graph/graph';
import { InputError, ShapeError, fmtShape } from '../errors';
import {
  checkFeeds, checkNotDestroyed, checkOutputName, computedIndexError, snapshotFeeds,
  type ExecStats, type Executable, type Feed, type Feeds, type RuntimeLife,
} from '../graph/executable';
import * as ref from './ops';
import * as seq from './seq';
import * as data from './data';

export class CpuExecutable implements Executable {
  readonly stats: ExecStats = { dispatches: 0, submits: 0, bytesAllocated: 0, peakBytes: 0, naiveBytes: 0, gpuMs: null, encodeMs: null, submitMs: null };
  readonly outputNames: string[];
  /** g.state() values, kept between runs as the GPU keeps its state buffers. */
  private readonly states = new Map<string, ref.Value>();
  private destroyed = false;

  constructor(
    private readonly graph: Graph,
    private readonly life: RuntimeLife,
    shareStateWith?: Executable,
  ) {
    this.outputNames = [...graph.outputs.keys()];
    this.zeroStates_();
    if (shareStateWith && !(shareStateWith instanceof CpuExecutable)) {
      throw new InputError('compile: shareStateWith must be an executable of the CPU runtime');
    }
    if (shareStateWith instanceof CpuExecutable) {
      for (const [name, v] of this.states) {
        const other = shareStateWith.states.get(name);
        if (other && other.data.length !== v.data.length) {
          throw new ShapeError(`compile: state '${name}' ${fmtShape(v.shape)} cannot share the other executable's ${fmtShape(other.shape)}`);
        }
        if (other) this.states.set(name, other);
      }
    }
  }

  resetState(): void {
    this.check_('resetState');
    this.zeroStates_();
  }

  private zeroStates_(): void {
    for (const [name, id] of this.graph.states) {
      const shape = this.graph.nodes[id].shape;
      this.states.set(name, { data: new Float64Array(shape.reduce((a, b) => a * b, 1)), shape });
    }
  }

  async readState(name: string): Promise<Float32Array> {
    this.check_('readState');
    const s = this.states.get(name);
    if (!s) throw new InputError(`readState: unknown state '${name}'; the states are ${[...this.states.keys()].join(', ')}`);
    return Float32Array.from(s.data);
  }

  get steps(): string[] {
    const live = liveNodes(this.graph);
    return this.graph.nodes.filter((n) => live[n.id]).map((n) => `${n.node.op}#${n.id} ${fmtShape(n.shape)} (reference)`);
  }

  outputShape(name: string): number[] {
    return this.graph.nodes[checkOutputName(this.graph, name)].shape.slice();
  }

  async run(feeds: Feeds): Promise<Record<string, Float32Array>> {
    this.check_('run');
    checkFeeds(this.graph, feeds);
    const needed = liveNodes(this.graph);
    checkFedIndices(this.graph, feeds, needed);
    feeds = snapshotFeeds(this.graph, feeds);
    const values: ref.Value[] = [];
    const tuples = new Map<number, ref.Value[]>();
    // As on the GPU, an index computed in the graph and out of range reads zeros, the run goes on
    // (state writes included), and the run then rejects naming the first such op.
    let flagged: InputError | undefined;
    const flag = (e: InputError) => (flagged ??= e);
    for (const n of this.graph.nodes) {
      if (!needed[n.id]) continue;
      const r = evalNode(this.graph, n, values, tuples, feeds, this.states, flag);
      if (Array.isArray(r)) {
        tuples.set(n.id, r);
        values[n.id] = r[0];
      } else values[n.id] = r;
    }
    const out: Record<string, Float32Array> = {};
    for (const [name, id] of this.graph.outputs) out[name] = Float32Array.from(values[id].data);
    if (flagged) throw flagged;
    return out;
  }

  destroy(): void {
    this.destroyed = true;
  }

  private check_(what: string): void {
    this.life.check(what);
    checkNotDestroyed(this.destroyed, what);
  }
}

/**
 * Range-checks every fed index (embedding ids, gather indices, assign offsets) before anything runs,
 * as the GPU executor does, so a bad feed leaves the states untouched.
 */
function checkFedIndices(graph: Graph, feeds: Feeds, live: boolean[]): void {
  const fed = (id: number): Feed | undefined => {
    let n = graph.nodes[id];
    while (n.node.op === 'reshape' || n.node.op === 'transpose') n = graph.nodes[n.inputs[0]];
    return n.node.op === 'input' ? feeds[n.node.name] : undefined;
  };
  for (const n of graph.nodes) {
    if (!live[n.id]) continue;
    const shapeOf = (i: number) => graph.nodes[n.inputs[i]].shape;
    const check = (op: string, what: string, i: number, max: number) => {
      const v = fed(n.inputs[i]);
      if (v) data.checkRange(op, what, v, shapeOf(i), 0, max);
    };
    if (n.node.op === 'embedding') check('embedding', 'ids', 0, shapeOf(1)[0] - 1);
    else if (n.node.op === 'gather') check('gather', 'index', 1, shapeOf(0)[n.node.dim] - 1);
    else if (n.node.op === 'assign' && n.node.dynamic) check('assign', 'offset', 2, shapeOf(0)[n.node.dim] - shapeOf(1)[n.node.dim]);
  }
}

/** An index operand computed in the graph, rather than fed or constant (through views). */
function computed(graph: Graph, id: number): boolean {
  let n = graph.nodes[id];
  while (n.node.op === 'reshape' || n.node.op === 'transpose') n = graph.nodes[n.inputs[0]];
  return n.node.op !== 'input' && n.node.op !== 'constant';
}

/**
 * Out-of-range entries of a computed index: each is replaced by -1 (which the op reads as a zero)
 * and the first one is reported through `flag`.
 */
function screen(index: ref.Value, max: number, c: { op: string; what: string }, flag: (e: InputError) => void): ref.Value {
  const bad = index.data.findIndex((v) => !(v >= 0 && v <= max));
  if (bad < 0) return index;
  flag(computedIndexError({ ...c, shape: index.shape, min: 0, max }, index.data[bad]));
  return { data: index.data.map((v) => (v >= 0 && v <= max ? v : -1)), shape: index.shape };
}

function evalNode(
  graph: Graph, n: GraphNode, values: ref.Value[], tuples: Map<number, ref.Value[]>, feeds: Feeds, states: Map<string, ref.Value>,
  flag: (e: InputError) => void,
): ref.Value | ref.Value[] {
  const arg = (i: number) => values[n.inputs[i]];
  const node = n.node;
  switch (node.op) {
    case 'input':
      return { data: Float64Array.from(feeds[node.name]), shape: n.shape };
    case 'constant':
      return { data: Float64Array.from(node.data), shape: n.shape };
    case 'matmul':
      return ref.matmul(arg(0), arg(1));
    case 'linear':
      return ref.linear(arg(0), arg(1), node.hasBias ? arg(2) : undefined);
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      return ref.binary(node.op, arg(0), arg(1));
    case 'relu':
    case 'tanh':
    case 'sigmoid':
      return ref.unary(node.op, arg(0));
    case 'softmax':
      return ref.softmax(arg(0), node.dim);
    case 'reshape':
      return { data: arg(0).data, shape: n.shape };
    case 'transpose':
      return ref.transpose(arg(0), node.dim0, node.dim1);
    case 'gelu':
      return seq.gelu(arg(0), node.approximate);
    case 'layerNorm': {
      const w = node.hasWeight ? arg(1) : undefined;
      return seq.layerNorm(arg(0), node.normalized, node.eps, w, node.hasBias ? arg(node.hasWeight ? 2 : 1) : undefined);
    }
    case 'embedding': {
      const ids = arg(0), num = arg(1).shape[0];
      if (!computed(graph, n.inputs[0])) return seq.embedding(ids, arg(1));
      return seq.embedding(screen(ids, num - 1, { op: 'embedding', what: 'ids' }, flag), arg(1), true);
    }
    case 'attention':
      return seq.attention(node, arg(0), arg(1), arg(2), node.mask !== 'none' ? arg(3) : undefined);
    case 'rnn': {
      const params: Record<string, ref.Value> = {};
      node.paramNames.forEach((name, i) => (params[name] = arg(1 + i)));
      const rest = 1 + node.paramNames.length;
      return seq.rnn(node, arg(0), params, node.hasH0 ? arg(rest) : undefined, node.hasC0 ? arg(rest + (node.hasH0 ? 1 : 0)) : undefined);
    }
    case 'select':
      return tuples.get(n.inputs[0])![node.index];
    case 'state':
      return states.get(node.name)!;
    case 'assign': {
      const offset = node.dynamic ? arg(2).data[0] : node.offset;
      const s = arg(0), v = arg(1);
      data.checkRange('assign', 'offset', [offset], [1], 0, s.shape[node.dim] - v.shape[node.dim]);
      return data.assign(s, v, node.dim, offset);
    }
    case 'slice':
      return data.slice(arg(0), node.dim, node.start, n.shape);
    case 'concat':
      return data.concat(n.inputs.map((_, i) => arg(i)), node.dim, n.shape);
    case 'gather': {
      const max = arg(0).shape[node.dim] - 1;
      if (!computed(graph, n.inputs[1])) {
        data.checkRange('gather', 'index', arg(1).data, arg(1).shape, 0, max);
        return data.gather(arg(0), node.dim, arg(1));
      }
      return data.gather(arg(0), node.dim, screen(arg(1), max, { op: 'gather', what: 'index' }, flag));
    }
  }
}
