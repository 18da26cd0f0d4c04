// Lowers a Graph to a dispatch list once, at compile: the fusion pass (fuse.ts) first rewrites the
// IR, then every live node is lowered by its op module (src/ops, through the OPS table), index
// operands are range-checked or given a kernel flag, and intermediates share buffers by liveness.
// Everything here is checked before any GPU object exists.
import { KernelError, ShapeError } from '../errors';
import { lowerUser } from '../ops/custom';
import type { KernelOverrides } from '../kernels/kernel';
import { OPS } from '../ops/registry';
import type { OpDef } from '../ops/op';
import { checkRange } from './executable';
import { fuse } from './fuse';
import { liveNodes, viewRoot, type GraphIR, type GraphNode, type NodeKind } from './ir';
import { LowerCtx, resolveBindings, type Plan, type PlanLimits, type PlanOutput, type Slot, type Step, type UserKernels, type Val } from './lower-ctx';

export type { Plan, PlanLimits, PlanOutput } from './lower-ctx';

/**
 * A per-node variant choice (tuning, src/runtime/tune.ts): overrides to lay over compile's while node
 * n is lowered, and where they came from, shown in its steps' labels; undefined keeps compile's.
 */
export type NodeChooser = (n: GraphNode, graph: GraphIR) => { overrides?: KernelOverrides; origin: string } | undefined;

/** The graph as the planner lowers it: after the fusion pass, user-forced ops left as built. */
export function fusedGraph(source: GraphIR, overrides?: KernelOverrides): GraphIR {
  const variants = overrides?.variants ?? {};
  return fuse(source, (kind) => String(variants[kind] ?? '').startsWith('user:'));
}

export function planGraph(source: GraphIR, limits: PlanLimits, overrides?: KernelOverrides, user?: UserKernels, choose?: NodeChooser): Plan {
  // The engine's kernels see compile's variants without the user ones (linear's matmul kernel must
  // not meet `variants.matmul = 'user:...'`); user variants are taken here, node by node.
  const variants = overrides?.variants ?? {};
  const builtin = Object.fromEntries(Object.entries(variants).filter(([, v]) => !String(v).startsWith('user:')));
  const graph = fusedGraph(source, overrides);
  const ctx = new LowerCtx(graph, limits, overrides && { ...overrides, variants: builtin }, user, variants);
  const base = ctx.overrides;
  const needed = liveNodes(graph);
  for (const n of graph.nodes) {
    if (!needed[n.id]) continue;
    const op = OPS[n.node.op] as OpDef<NodeKind>;
    for (const c of op.indices?.(n, graph) ?? []) checkIndex(ctx, n, c);
    const chosen = choose?.(n, graph);
    if (chosen) {
      const o = chosen.overrides;
      ctx.overrides = o ? { variants: { ...base?.variants, ...o.variants }, constants: { ...base?.constants, ...o.constants } } : base;
      ctx.origin = chosen.origin;
    }
    let val: Val | Val[];
    try {
      val = lowerNode(ctx, n, op);
    } finally {
      ctx.overrides = base;
      ctx.origin = undefined;
    }
    if (Array.isArray(val)) ctx.tuples.set(n.id, val);
    ctx.vals[n.id] = Array.isArray(val) ? val[0] : val;
  }

  const outputs = new Map<string, PlanOutput>();
  for (const [name, id] of graph.outputs) {
    const n = graph.nodes[id];
    const v = ctx.vals[id];
    // An output past the binding limit is read back from its parts and joined on the host.
    if (v.big) outputs.set(name, { slot: -1, shape: n.shape, dtype: n.dtype, split: ctx.outputSplit(name, v) });
    else outputs.set(name, { slot: ctx.dense(n, v).slot, shape: n.shape, dtype: n.dtype });
  }
  for (const s of ctx.steps) if (s.numel > 0) resolveBindings(s);
  const outputSlots = [...outputs.values()].flatMap((o) => (o.split ? o.split.parts.map((p) => p.slot) : [o.slot]));
  const { pool, naiveBytes } = assignPool(ctx.slots, ctx.steps, new Set(outputSlots));
  return { slots: ctx.slots, flags: ctx.flags, steps: ctx.steps, outputs, pool, naiveBytes, rangeChecks: ctx.rangeChecks };
}

/** Node n through its op module, or through the user variant compile forced for its op. */
function lowerNode(ctx: LowerCtx, n: GraphNode, op: OpDef<NodeKind>): Val | Val[] {
  const kind = n.node.op;
  const forced = kind === 'custom' ? undefined : ctx.userVariant(kind);
  if (forced === undefined) return op.lower(ctx, n);
  const k = ctx.userKernel(kind, forced);
  if (!k) {
    const known = ctx.user.of(kind).map((u) => u.def.name);
    throw new KernelError(`${kind}: no user variant '${forced}' is registered on this runtime${known.length ? `; ${kind} has ${known.join(', ')}` : ''}`);
  }
  return lowerUser(ctx, n, k, op.operands!(n));
}

/**
 * An index operand fed at run gets a CPU check before dispatch, a constant one is checked now, and
 * one computed in the graph gets a kernel flag where its op allows that (else a ShapeError).
 */
function checkIndex(ctx: LowerCtx, n: GraphNode, c: { input: number; what: string; min: number; max: number; computed?: boolean }): void {
  const src = viewRoot(ctx.graph, n.inputs[c.input]);
  const { op } = n.node;
  if (src.node.op === 'input') ctx.rangeChecks.push({ input: src.node.name, op, what: c.what, min: c.min, max: c.max });
  else if (src.node.op === 'constant') checkRange(op, c.what, src.node.data, src.shape, c.min, c.max);
  else if (c.computed) {
    const shape = ctx.graph.nodes[n.inputs[c.input]].shape;
    ctx.indexFlags.set(`${n.id}:${c.input}`, ctx.flag({ op, what: c.what, shape, min: c.min, max: c.max }));
  } else throw new ShapeError(`${op}: ${c.what} must come from an input or a constant, got ${src.node.op}`);
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
