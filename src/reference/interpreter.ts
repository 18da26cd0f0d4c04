// Runs a Graph on the CPU with the reference ops: the engine's definition of the right answer.
import { InputError, ShapeError, fmtShape } from '../errors';
import {
  checkFeeds, checkNotDestroyed, checkOutputName, checkRange, computedIndexError, snapshotFeeds,
  type ExecStats, type Executable, type Feeds, type RuntimeLife,
} from '../graph/executable';
import { refuseGpu, type RunFeeds, type RunOptions } from '../graph/io-binding';
import { liveNodes, viewRoot, type GraphIR, type GraphNode, type NodeKind } from '../graph/ir';
import type { IndexOperand, OpDef, RefEnv } from '../ops/op';
import { OPS } from '../ops/registry';
import type { Value } from './core';

export class CpuExecutable implements Executable {
  readonly stats: ExecStats = { dispatches: 0, submits: 0, bytesAllocated: 0, peakBytes: 0, naiveBytes: 0, weightBytes: 0, gpuMs: null, stepGpuMs: null, encodeMs: null, submitMs: null, readbackBytes: 0 };
  readonly outputNames: string[];
  /** The CPU has no device to lose: always false. */
  readonly stateLost = false;
  /** g.state() values, kept between runs as the GPU keeps its state buffers. */
  private readonly states = new Map<string, Value>();
  private destroyed = false;

  constructor(
    private readonly graph: GraphIR,
    private readonly life: RuntimeLife,
    shareStateWith?: Executable,
  ) {
    this.outputNames = [...graph.outputs.keys()];
    checkConstantIndices(graph);
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

  async run(given: Feeds | RunFeeds, opts?: RunOptions): Promise<Record<string, Float32Array>> {
    this.check_('run');
    refuseGpu(given, opts);
    let feeds = given as Feeds;
    checkFeeds(this.graph, feeds);
    const needed = liveNodes(this.graph);
    checkFedIndices(this.graph, feeds, needed);
    feeds = snapshotFeeds(this.graph, feeds);
    const values: Value[] = [];
    const env: RefEnv = { graph: this.graph, feeds, states: this.states, tuples: new Map() };
    // As on the GPU, an index computed in the graph and out of range reads zeros, the run goes on
    // (state writes included), and the run then rejects naming the first such op.
    let flagged: InputError | undefined;
    const flag = (e: InputError) => (flagged ??= e);
    for (const n of this.graph.nodes) {
      if (!needed[n.id]) continue;
      const r = evalNode(this.graph, n, values, env, flag);
      if (Array.isArray(r)) {
        env.tuples.set(n.id, r);
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

/** Every index operand of the live nodes, with where its values come from. */
function* indexOperands(graph: GraphIR, live: boolean[]) {
  for (const n of graph.nodes) {
    if (!live[n.id]) continue;
    for (const c of (OPS[n.node.op] as OpDef<NodeKind>).indices?.(n, graph) ?? []) {
      yield { n, c, root: viewRoot(graph, n.inputs[c.input]) };
    }
  }
}

/** Constant indices are checked once, at compile, as the GPU planner does. */
function checkConstantIndices(graph: GraphIR): void {
  for (const { n, c, root } of indexOperands(graph, liveNodes(graph))) {
    if (root.node.op === 'constant') checkRange(n.node.op, c.what, root.node.data, root.shape, c.min, c.max);
    else if (root.node.op !== 'input' && !c.computed) {
      throw new ShapeError(`${n.node.op}: ${c.what} must come from an input or a constant, got ${root.node.op}`);
    }
  }
}

/**
 * Range-checks every fed index (embedding ids, gather indices, assign offsets) before anything runs,
 * as the GPU executor does, so a bad feed leaves the states untouched.
 */
function checkFedIndices(graph: GraphIR, feeds: Feeds, live: boolean[]): void {
  for (const { n, c, root } of indexOperands(graph, live)) {
    if (root.node.op === 'input') checkRange(n.node.op, c.what, feeds[root.node.name], root.shape, c.min, c.max);
  }
}

/**
 * A computed index's values with each one out of range replaced by -1 (which its op reads as a
 * zero), the first of them reported through `flag`, as the GPU kernel's flag does.
 */
function screen(index: Value, c: IndexOperand, op: string, flag: (e: InputError) => void): Value {
  const ok = (v: number) => v >= c.min && v <= c.max;
  const bad = index.data.findIndex((v) => !ok(v));
  if (bad < 0) return index;
  flag(computedIndexError({ op, what: c.what, shape: index.shape, min: c.min, max: c.max }, index.data[bad]));
  return { data: index.data.map((v) => (ok(v) ? v : -1)), shape: index.shape };
}

function evalNode(graph: GraphIR, n: GraphNode, values: Value[], env: RefEnv, flag: (e: InputError) => void): Value | Value[] {
  const op = OPS[n.node.op] as OpDef<NodeKind>;
  const args = n.inputs.map((id) => values[id]);
  for (const c of op.indices?.(n, graph) ?? []) {
    const root = viewRoot(graph, n.inputs[c.input]).node.op;
    if (root !== 'input' && root !== 'constant') args[c.input] = screen(args[c.input], c, n.node.op, flag);
  }
  return op.reference(n, args, env);
}
