// Lowers a Graph to a dispatch list once, at compile: views (reshape, transpose) become strides,
// linear's bias and a following activation fold into the matmul epilogue, and intermediates share
// buffers by liveness. Everything here is checked before any GPU object exists.
import { LimitError, fmtShape } from '../errors';
import { planElementwise } from '../kernels/elementwise';
import { isContiguous, type DeviceLimits, type KernelOverrides, type KernelPlan, type View } from '../kernels/kernel';
import { ACT, planMatmul } from '../kernels/matmul';
import { planSoftmax } from '../kernels/softmax';
import type { DType, Graph, GraphNode } from './graph';
import { contiguousStrides, numel } from './shapes';

export type SlotKind = 'input' | 'constant' | 'temp';

export interface Slot {
  id: number;
  kind: SlotKind;
  bytes: number;
  dtype: DType;
  /** The input's name, or the constant's data. */
  name?: string;
  data?: Float32Array | Int32Array;
  /** For temps: the pool buffer it lives in. */
  pool?: number;
}

export interface Step {
  label: string;
  plan: KernelPlan;
  /** Binding index -> slot id; 'dummy' fills a binding the variant does not read (no bias). */
  bind: Record<number, number | 'dummy'>;
  out: number;
  /** Elements written; a step writing none is not dispatched. */
  numel: number;
}

export interface Plan {
  slots: Slot[];
  steps: Step[];
  outputs: Map<string, { slot: number; shape: number[] }>;
  /** Byte size of each pooled intermediate buffer. */
  pool: number[];
  naiveBytes: number;
}

interface Val extends View {
  slot: number;
}

export interface PlanLimits extends DeviceLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export function planGraph(graph: Graph, limits: PlanLimits, overrides?: KernelOverrides): Plan {
  const slots: Slot[] = [];
  const steps: Step[] = [];
  const vals: Val[] = [];
  const producer = new Map<number, Step>(); // slot -> the step that writes it
  const outputIds = new Set(graph.outputs.values());
  const uses = countUses(graph);

  const newSlot = (kind: SlotKind, n: GraphNode, extra: Partial<Slot> = {}): number => {
    const bytes = Math.max(16, Math.ceil((4 * numel(n.shape)) / 16) * 16);
    const max = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    if (bytes > max) {
      throw new LimitError(
        `${n.node.op}: ${n.dtype} ${fmtShape(n.shape)} needs a ${bytes}-byte buffer; the device binds at most ${max} bytes`,
      );
    }
    slots.push({ id: slots.length, kind, bytes, dtype: n.dtype, ...extra });
    return slots.length - 1;
  };
  const contiguous = (slot: number, shape: number[]): Val => ({ slot, shape, strides: contiguousStrides(shape) });
  const emit = (n: GraphNode, plan: KernelPlan, bind: Record<number, number | 'dummy'>, outBinding: number): Val => {
    const out = newSlot('temp', n);
    const step: Step = { label: `${n.node.op}#${n.id} ${fmtShape(n.shape)} (${plan.variant})`, plan, bind: { ...bind, [outBinding]: out }, out, numel: numel(n.shape) };
    steps.push(step);
    producer.set(out, step);
    return contiguous(out, n.shape);
  };
  const copyOf = (n: GraphNode, v: Val): Val =>
    emit(n, planElementwise('copy', [v], v.shape, overrides, limits), { 1: v.slot }, 3);
  const dense = (n: GraphNode, v: Val): Val => (isContiguous(v) ? v : copyOf(n, v));

  const needed = neededNodes(graph);
  for (const n of graph.nodes) {
    if (!needed[n.id]) continue;
    const arg = (i: number) => vals[n.inputs[i]];
    const node = n.node;
    switch (node.op) {
      case 'input':
        vals[n.id] = contiguous(newSlot('input', n, { name: node.name }), n.shape);
        break;
      case 'constant':
        vals[n.id] = contiguous(newSlot('constant', n, { data: node.data }), n.shape);
        break;
      case 'matmul': {
        const plan = planMatmul({ a: arg(0), b: arg(1), hasBias: false, act: ACT.none }, overrides, limits);
        vals[n.id] = emit(n, plan, { 1: arg(0).slot, 2: arg(1).slot, 3: 'dummy' }, 4);
        break;
      }
      case 'linear': {
        const x = arg(0), w = arg(1);
        const k = w.shape[1];
        // A contiguous x folds all leading dims into M, so tiles span the whole batch.
        const a: View = isContiguous(x) || x.shape.length === 1
          ? { shape: [numel(x.shape.slice(0, -1)), k], strides: [k, 1] }
          : x;
        const b: View = { shape: [k, w.shape[0]], strides: [w.strides[1], w.strides[0]] };
        const plan = planMatmul({ a, b, hasBias: node.hasBias, act: ACT.none }, overrides, limits);
        vals[n.id] = emit(n, plan, { 1: x.slot, 2: w.slot, 3: node.hasBias ? arg(2).slot : 'dummy' }, 4);
        break;
      }
      case 'relu':
      case 'tanh':
      case 'sigmoid': {
        const src = arg(0);
        const prod = producer.get(src.slot);
        const srcId = n.inputs[0];
        const fusable =
          prod && prod.plan.shader.file.endsWith('matmul.wgsl') && prod.plan.constants.ACT === ACT.none &&
          uses[srcId] === 1 && !outputIds.has(srcId) && graph.nodes[srcId].node.op !== 'reshape' &&
          graph.nodes[srcId].node.op !== 'transpose';
        if (fusable) {
          prod.plan.constants.ACT = ACT[node.op];
          prod.label = prod.label.replace(/\)$/, ` +${node.op})`);
          vals[n.id] = src;
        } else {
          vals[n.id] = emit(n, planElementwise(node.op, [src], n.shape, overrides, limits), { 1: src.slot }, 3);
        }
        break;
      }
      case 'add':
      case 'sub':
      case 'mul':
      case 'div':
        vals[n.id] = emit(n, planElementwise(node.op, [arg(0), arg(1)], n.shape, overrides, limits), { 1: arg(0).slot, 2: arg(1).slot }, 3);
        break;
      case 'softmax': {
        const x = dense(n, arg(0));
        vals[n.id] = emit(n, planSoftmax(n.shape, node.dim, overrides, limits), { 1: x.slot }, 2);
        break;
      }
      case 'reshape': {
        const x = dense(n, arg(0));
        vals[n.id] = contiguous(x.slot, n.shape);
        break;
      }
      case 'transpose': {
        const x = arg(0);
        const shape = x.shape.slice(), strides = x.strides.slice();
        [shape[node.dim0], shape[node.dim1]] = [shape[node.dim1], shape[node.dim0]];
        [strides[node.dim0], strides[node.dim1]] = [strides[node.dim1], strides[node.dim0]];
        vals[n.id] = { slot: x.slot, shape, strides };
        break;
      }
    }
  }

  const outputs = new Map<string, { slot: number; shape: number[] }>();
  for (const [name, id] of graph.outputs) {
    const v = dense(graph.nodes[id], vals[id]);
    outputs.set(name, { slot: v.slot, shape: graph.nodes[id].shape });
  }
  const { pool, naiveBytes } = assignPool(slots, steps, new Set([...outputs.values()].map((o) => o.slot)));
  return { slots, steps, outputs, pool, naiveBytes };
}

/** Gives each temp slot a pool buffer: a buffer is reused once the last step reading it has run. */
function assignPool(slots: Slot[], steps: Step[], outputSlots: Set<number>): { pool: number[]; naiveBytes: number } {
  const lastUse = new Map<number, number>();
  steps.forEach((s, i) => {
    for (const v of Object.values(s.bind)) if (v !== 'dummy' && v !== s.out) lastUse.set(v, i);
  });
  const pool: number[] = [];
  const free: number[] = [];
  let naiveBytes = 0;
  steps.forEach((s, i) => {
    const slot = slots[s.out];
    naiveBytes += slot.bytes;
    // Best fit: the smallest free buffer that holds the slot, else a new one.
    let best = -1;
    for (const b of free) if (pool[b] >= slot.bytes && (best < 0 || pool[b] < pool[best])) best = b;
    if (best >= 0) free.splice(free.indexOf(best), 1);
    else best = pool.push(slot.bytes) - 1;
    slot.pool = best;
    for (const [sid, last] of lastUse) {
      if (last === i && slots[sid].kind === 'temp' && !outputSlots.has(sid)) free.push(slots[sid].pool!);
    }
  });
  return { pool, naiveBytes };
}

function countUses(graph: Graph): number[] {
  const uses = new Array<number>(graph.nodes.length).fill(0);
  for (const n of graph.nodes) for (const i of n.inputs) uses[i]++;
  return uses;
}

function neededNodes(graph: Graph): boolean[] {
  const needed = new Array<boolean>(graph.nodes.length).fill(false);
  for (const id of graph.outputs.values()) needed[id] = true;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (needed[i]) for (const j of graph.nodes[i].inputs) needed[j] = true;
  }
  return needed;
}
