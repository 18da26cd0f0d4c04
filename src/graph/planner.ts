// Lowers a Graph to a dispatch list once, at compile: views (reshape, transpose) become strides,
// linear's bias and a following activation fold into the matmul epilogue, and intermediates share
// buffers by liveness. Everything here is checked before any GPU object exists. Op families with
// kernels of their own lower in lower-*.ts through the LowerCtx below.
import { LimitError, fmtShape } from '../errors';
import { planElementwise } from '../kernels/elementwise';
import { isContiguous, type DeviceLimits, type KernelOverrides, type KernelPlan, type View } from '../kernels/kernel';
import { ACT, matmulBind, planMatmul } from '../kernels/matmul';
import { planSoftmax } from '../kernels/softmax';
import { liveNodes, type DType, type Graph, type GraphNode } from './graph';
import { lowerAttention } from './lower-attention';
import { lowerAssign, lowerConcat, lowerGather, lowerSlice, lowerState } from './lower-data';
import { lowerEmbedding, lowerGelu, lowerLayerNorm } from './lower-norm';
import { lowerRnn } from './lower-rnn';
import { contiguousStrides, numel } from './shapes';

export type SlotKind = 'input' | 'constant' | 'temp' | 'state' | 'flags';

export interface Slot {
  id: number;
  kind: SlotKind;
  bytes: number;
  dtype: DType;
  /** The input's or state's name, or the constant's data. */
  name?: string;
  data?: Float32Array | Int32Array;
  /** For temps: the pool buffer it lives in. */
  pool?: number;
}

export interface Step {
  label: string;
  plan: KernelPlan;
  /** Binding index -> slot id; 'dummy' fills a binding the variant does not read. */
  bind: Record<number, number | 'dummy'>;
  /** The slots this step writes (the rest of `bind` is read). */
  writes: number[];
  /** Elements written; a step writing none is not dispatched. */
  numel: number;
}

/** A fed input whose values index something (ids, positions): checked on the CPU before dispatch. */
export interface RangeCheck {
  input: string;
  op: string;
  what: string;
  min: number;
  max: number;
}

/**
 * An index computed in the graph, so not checkable before dispatch: the kernel reads zeros for an
 * index out of range and raises flag `flag` (1-based) in the flags slot; the run reads the flags
 * back with the outputs and rejects.
 */
export interface FlagCheck {
  op: string;
  what: string;
  shape: number[];
  min: number;
  max: number;
}

export interface Plan {
  slots: Slot[];
  /** Computed-index checks, flag k at words 2(k-1) (raised) and 2(k-1)+1 (an offending value). */
  flags: FlagCheck[];
  steps: Step[];
  outputs: Map<string, { slot: number; shape: number[]; dtype: DType }>;
  /** Byte size of each pooled intermediate buffer. */
  pool: number[];
  naiveBytes: number;
  rangeChecks: RangeCheck[];
}

/** A value as kernels see it: a view into a slot. */
export interface Val extends View {
  slot: number;
}

export interface PlanLimits extends DeviceLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxStorageBuffersPerShaderStage: number;
}

/** What op lowerings in lower-*.ts use to make slots and steps. */
export class LowerCtx {
  readonly slots: Slot[] = [];
  readonly steps: Step[] = [];
  readonly vals: Val[] = [];
  /** Multi-output nodes: every output's value, in order. */
  readonly tuples = new Map<number, Val[]>();
  readonly rangeChecks: RangeCheck[] = [];
  readonly flags: FlagCheck[] = [];
  private flagSlot = -1;
  private readonly producer = new Map<number, Step>();

  constructor(
    readonly graph: Graph,
    readonly limits: PlanLimits,
    readonly overrides: KernelOverrides | undefined,
  ) {}

  arg(n: GraphNode, i: number): Val {
    return this.vals[n.inputs[i]];
  }

  /** A slot for `shape`; `op` names the op in the limit error. */
  slot(kind: SlotKind, op: string, shape: number[], dtype: DType, extra: Partial<Slot> = {}): number {
    const bytes = Math.max(16, Math.ceil((4 * numel(shape)) / 16) * 16);
    const max = Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
    if (bytes > max) {
      throw new LimitError(`${op}: ${dtype} ${fmtShape(shape)} needs a ${bytes}-byte buffer; the device binds at most ${max} bytes`);
    }
    this.slots.push({ id: this.slots.length, kind, bytes, dtype, ...extra });
    return this.slots.length - 1;
  }

  temp(n: GraphNode, shape = n.shape): Val {
    return contiguous(this.slot('temp', n.node.op, shape, 'f32'), shape);
  }

  /** Appends a dispatch; `writes` are the slots it writes (all of them bound in `bind`). */
  step(label: string, plan: KernelPlan, bind: Record<number, number | 'dummy'>, writes: number[], count: number): Step {
    const s: Step = { label: `${label} (${plan.variant})`, plan, bind, writes, numel: count };
    this.steps.push(s);
    for (const w of writes) this.producer.set(w, s);
    return s;
  }

  /** The usual one-output kernel: a fresh contiguous temp of n's shape bound at `outBinding`. */
  emit(n: GraphNode, plan: KernelPlan, bind: Record<number, number | 'dummy'>, outBinding: number): Val {
    const out = this.temp(n);
    this.step(`${n.node.op}#${n.id} ${fmtShape(n.shape)}`, plan, { ...bind, [outBinding]: out.slot }, [out.slot], numel(n.shape));
    return out;
  }

  emitMatmul(n: GraphNode, plan: KernelPlan, a: number, b: number, bias?: number): Val {
    const out = this.temp(n);
    this.step(`${n.node.op}#${n.id} ${fmtShape(n.shape)}`, plan, matmulBind(a, b, out.slot, bias), [out.slot], numel(n.shape));
    return out;
  }

  /** Registers a computed-index check; returns the flags slot to bind and the kernel's flag number. */
  flag(check: FlagCheck): { slot: number; flag: number } {
    if (this.flagSlot < 0) {
      this.slots.push({ id: this.slots.length, kind: 'flags', bytes: 16, dtype: 'i32' });
      this.flagSlot = this.slots.length - 1;
    }
    this.flags.push(check);
    this.slots[this.flagSlot].bytes = Math.max(16, Math.ceil((8 * this.flags.length) / 16) * 16);
    return { slot: this.flagSlot, flag: this.flags.length };
  }

  producerOf(slot: number): Step | undefined {
    return this.producer.get(slot);
  }

  copyOf(n: GraphNode, v: Val): Val {
    const out = this.temp(n, v.shape);
    const plan = planElementwise('copy', [v], v.shape, this.overrides, this.limits);
    this.step(`copy for ${n.node.op}#${n.id} ${fmtShape(v.shape)}`, plan, { 1: v.slot, 3: out.slot }, [out.slot], numel(v.shape));
    return out;
  }

  /** `v` itself when contiguous, else a contiguous copy. */
  dense(n: GraphNode, v: Val): Val {
    return isContiguous(v) ? v : this.copyOf(n, v);
  }
}

export const contiguous = (slot: number, shape: number[]): Val => ({ slot, shape, strides: contiguousStrides(shape) });

type Lowering = (ctx: LowerCtx, n: GraphNode) => Val;

/** Op families whose lowering lives in lower-*.ts. */
const LOWER = {
  gelu: lowerGelu, layerNorm: lowerLayerNorm, embedding: lowerEmbedding, attention: lowerAttention,
  state: lowerState, assign: lowerAssign, slice: lowerSlice, concat: lowerConcat, gather: lowerGather,
} as const;

export function planGraph(graph: Graph, limits: PlanLimits, overrides?: KernelOverrides): Plan {
  const ctx = new LowerCtx(graph, limits, overrides);
  const outputIds = new Set(graph.outputs.values());
  const uses = countUses(graph);
  const needed = liveNodes(graph);
  for (const n of graph.nodes) {
    if (!needed[n.id]) continue;
    const arg = (i: number) => ctx.arg(n, i);
    const node = n.node;
    let val: Val;
    switch (node.op) {
      case 'input':
        val = contiguous(ctx.slot('input', 'input', n.shape, n.dtype, { name: node.name }), n.shape);
        break;
      case 'constant':
        val = contiguous(ctx.slot('constant', 'constant', n.shape, n.dtype, { data: node.data }), n.shape);
        break;
      case 'matmul': {
        const plan = planMatmul({ a: arg(0), b: arg(1), hasBias: false, act: ACT.none }, overrides, limits);
        val = ctx.emitMatmul(n, plan, arg(0).slot, arg(1).slot);
        break;
      }
      case 'linear': {
        const x = arg(0), w = arg(1);
        const k = w.shape[1];
        // A contiguous x folds all leading dims into M, so tiles span the whole batch.
        const a: View = isContiguous(x) || x.shape.length === 1 ? { shape: [numel(x.shape.slice(0, -1)), k], strides: [k, 1] } : x;
        const b: View = { shape: [k, w.shape[0]], strides: [w.strides[1], w.strides[0]] };
        const plan = planMatmul({ a, b, hasBias: node.hasBias, act: ACT.none }, overrides, limits);
        val = ctx.emitMatmul(n, plan, x.slot, w.slot, node.hasBias ? arg(2).slot : undefined);
        break;
      }
      case 'relu':
      case 'tanh':
      case 'sigmoid': {
        const src = arg(0);
        const srcId = n.inputs[0];
        const prod = ctx.producerOf(src.slot);
        const srcOp = graph.nodes[srcId].node.op;
        const fusable = prod && prod.plan.shader.file.endsWith('matmul.wgsl') && prod.plan.constants.ACT === ACT.none &&
          uses[srcId] === 1 && !outputIds.has(srcId) && (srcOp === 'matmul' || srcOp === 'linear');
        if (fusable) {
          prod.plan.constants.ACT = ACT[node.op];
          prod.label = prod.label.replace(/ \(/, ` +${node.op} (`);
          val = src;
        } else {
          val = ctx.emit(n, planElementwise(node.op, [src], n.shape, overrides, limits), { 1: src.slot }, 3);
        }
        break;
      }
      case 'add': {
        const fused = fuseResidual(ctx, n, uses, outputIds);
        if (fused) {
          val = fused;
          break;
        }
        val = ctx.emit(n, planElementwise(node.op, [arg(0), arg(1)], n.shape, overrides, limits), { 1: arg(0).slot, 2: arg(1).slot }, 3);
        break;
      }
      case 'sub':
      case 'mul':
      case 'div':
        val = ctx.emit(n, planElementwise(node.op, [arg(0), arg(1)], n.shape, overrides, limits), { 1: arg(0).slot, 2: arg(1).slot }, 3);
        break;
      case 'softmax': {
        const x = ctx.dense(n, arg(0));
        val = ctx.emit(n, planSoftmax(n.shape, node.dim, overrides, limits), { 1: x.slot }, 2);
        break;
      }
      case 'reshape':
        val = contiguous(ctx.dense(n, arg(0)).slot, n.shape);
        break;
      case 'transpose': {
        const x = arg(0);
        const shape = x.shape.slice(), strides = x.strides.slice();
        [shape[node.dim0], shape[node.dim1]] = [shape[node.dim1], shape[node.dim0]];
        [strides[node.dim0], strides[node.dim1]] = [strides[node.dim1], strides[node.dim0]];
        val = { slot: x.slot, shape, strides };
        break;
      }
      case 'rnn': {
        const outs = lowerRnn(ctx, n as GraphNode<typeof node>);
        ctx.tuples.set(n.id, outs);
        val = outs[0];
        break;
      }
      case 'select':
        val = ctx.tuples.get(n.inputs[0])![node.index];
        break;
      default:
        val = (LOWER[node.op] as Lowering)(ctx, n);
    }
    ctx.vals[n.id] = val;
  }

  const outputs = new Map<string, { slot: number; shape: number[]; dtype: DType }>();
  for (const [name, id] of graph.outputs) {
    const n = graph.nodes[id];
    const v = ctx.dense(n, ctx.vals[id]);
    outputs.set(name, { slot: v.slot, shape: n.shape, dtype: n.dtype });
  }
  const { pool, naiveBytes } = assignPool(ctx.slots, ctx.steps, new Set([...outputs.values()].map((o) => o.slot)));
  return { slots: ctx.slots, flags: ctx.flags, steps: ctx.steps, outputs, pool, naiveBytes, rangeChecks: ctx.rangeChecks };
}

/**
 * add(matmul(...), r) or add(r, matmul(...)) folds into the matmul's epilogue as a residual when the
 * matmul result is used once, is not an output, is written contiguously in the add's shape, and r is
 * a contiguous value of that shape that is not the matmul's own output.
 */
function fuseResidual(ctx: LowerCtx, n: GraphNode, uses: number[], outputIds: Set<number>): Val | undefined {
  for (const side of [0, 1]) {
    const id = n.inputs[side], other = ctx.arg(n, 1 - side), mm = ctx.arg(n, side);
    const op = ctx.graph.nodes[id].node.op;
    const prod = ctx.producerOf(mm.slot);
    if (!prod || !(op === 'matmul' || op === 'linear' || op === 'relu' || op === 'tanh' || op === 'sigmoid')) continue;
    if (!prod.plan.shader.file.endsWith('matmul.wgsl') || prod.plan.constants.HAS_RES || prod.writes[0] !== mm.slot) continue;
    if (uses[id] !== 1 || outputIds.has(id) || prod.plan.uniforms.cRowStride !== prod.plan.uniforms.N) continue;
    if (fmtShape(mm.shape) !== fmtShape(n.shape) || fmtShape(other.shape) !== fmtShape(n.shape) || !isContiguous(other)) continue;
    if (!isContiguous(mm) || other.slot === mm.slot) continue;
    // r must be complete before the matmul runs.
    const rProd = ctx.producerOf(other.slot);
    if (rProd && ctx.steps.indexOf(rProd) > ctx.steps.indexOf(prod)) continue;
    prod.plan.constants.HAS_RES = true;
    prod.bind[6] = other.slot;
    prod.label = prod.label.replace(/ \(/, ' +residual (');
    return mm;
  }
  return undefined;
}

/**
 * Gives each temp slot a pool buffer, live from the first step that binds it to the last (to the
 * end for outputs); a buffer is reused, best fit, once its slot is dead.
 */
function assignPool(slots: Slot[], steps: Step[], outputSlots: Set<number>): { pool: number[]; naiveBytes: number } {
  const first = new Map<number, number>(), last = new Map<number, number>();
  steps.forEach((s, i) => {
    for (const v of Object.values(s.bind)) {
      if (v === 'dummy' || slots[v].kind !== 'temp') continue;
      if (!first.has(v)) first.set(v, i);
      last.set(v, i);
    }
  });
  const pool: number[] = [];
  const free: number[] = [];
  let naiveBytes = 0;
  steps.forEach((_, i) => {
    for (const [sid, f] of first) {
      if (f !== i) continue;
      const slot = slots[sid];
      naiveBytes += slot.bytes;
      let best = -1;
      for (const b of free) if (pool[b] >= slot.bytes && (best < 0 || pool[b] < pool[best])) best = b;
      if (best >= 0) free.splice(free.indexOf(best), 1);
      else best = pool.push(slot.bytes) - 1;
      slot.pool = best;
    }
    for (const [sid, l] of last) {
      if (l === i && !outputSlots.has(sid)) free.push(slots[sid].pool!);
    }
  });
  return { pool, naiveBytes };
}

function countUses(graph: Graph): number[] {
  const uses = new Array<number>(graph.nodes.length).fill(0);
  for (const n of graph.nodes) for (const i of n.inputs) uses[i]++;
  return uses;
}
