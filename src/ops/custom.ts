// Kernels users plug in (rt.kernels.register): a variant of an op this engine has, or a new op built
// with g.custom(name, inputs, attrs). A user kernel is one dispatch over contiguous operands bound by
// name (the op's operands, then `out`); its plan function gives the grid and the uniforms, packed
// by WGSL member name. A new op's shape rule and CPU reference are process-wide (a graph is built
// before any runtime sees it); its kernels belong to the runtime they were registered with.
import { KernelError, LimitError, SeqgpuError, ShapeError, fmtShape } from '../errors';
import type { Bind, LowerCtx, Val } from '../graph/lower-ctx';
import { DTYPES, isHalf, type DType, type GraphLike, type GraphNode, type NodeOf, type Tensor } from '../graph/ir';
import { checkShape, numel } from '../graph/shapes';
import type { KernelPlan } from '../kernels/kernel';
import type { KernelDefinition, UserDispatch, UserKernel } from '../kernels/user';
import { entryLayout } from '../runtime/reflect';
import type { Value } from '../reference/core';
import type { OpTable } from './op';

export type CustomOpDefinition = Required<Pick<KernelDefinition, 'op' | 'operands' | 'shape' | 'reference'>>;

// Process-wide, on a registry symbol: a page or a Node process may hold two copies of seqgpu (the
// engine and seqgpu/testing's), and a graph built by one is compiled by the other.
const KEY = Symbol.for('seqgpu.customOps');
const registry = globalThis as { [KEY]?: Map<string, CustomOpDefinition> };
export const customOps = (): Map<string, CustomOpDefinition> => (registry[KEY] ??= new Map());

/** A user function's failure as an engine error naming the op (its own SeqgpuErrors pass as they are). */
function blame<E extends SeqgpuError>(make: (m: string) => E, what: string, e: unknown): SeqgpuError {
  if (e instanceof SeqgpuError) return e;
  return make(`${what}: ${e instanceof Error ? e.message : String(e)}`);
}

/** g.custom(name, inputs, attrs): a node of a registered new op, shaped by its shape rule. */
export function buildCustom(g: GraphLike, name: string, inputs: Tensor[], attrs: Record<string, unknown> = {}): Tensor {
  const def = customOps().get(name);
  if (!def) {
    const known = [...customOps().keys()];
    throw new ShapeError(`custom: no op '${name}' is registered${known.length ? ` (registered: ${known.join(', ')})` : ''}; register it with rt.kernels.register({ op, operands, shape, reference, ... }) first`);
  }
  if (!Array.isArray(inputs)) throw new ShapeError(`${name}: inputs must be an array of tensors`);
  g.checkOwn(name, ...inputs);
  if (inputs.length !== def.operands.length) {
    throw new ShapeError(`${name}: takes ${def.operands.length} operand(s) (${def.operands.join(', ')}), got ${inputs.length}`);
  }
  const infos = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype }));
  const desc = infos.map((t, i) => `${def.operands[i]} ${t.dtype} ${fmtShape(t.shape)}`).join(', ');
  let r: { shape: number[]; dtype?: DType };
  try {
    r = def.shape(infos, attrs);
  } catch (e) {
    throw blame((m) => new ShapeError(m), `${name} (${desc})`, e);
  }
  const dtype = r?.dtype ?? 'f32';
  checkShape(name, 'the shape rule\'s result', r?.shape);
  if (!DTYPES.includes(dtype)) throw new ShapeError(`${name}: the shape rule gave unknown dtype '${dtype}'`);
  return g.addNode({ op: 'custom', name, attrs: { ...attrs } }, inputs.map((t) => t.id), r.shape.slice(), dtype);
}

const attrsOf = (n: GraphNode): Record<string, unknown> => {
  if (n.node.op === 'custom') return n.node.attrs;
  const { op: _, ...rest } = n.node as unknown as Record<string, unknown>;
  return rest;
};

/**
 * Lowers node n through user kernel k: dense operands bound by `names`, a fresh `out`, the grid and
 * uniforms from k's plan. Bindings that are not the op's operands fail here, naming the kernel.
 */
export function lowerUser(ctx: LowerCtx, n: GraphNode, k: UserKernel, names: string[]): Val {
  const { def, shader } = k;
  const opName = n.node.op === 'custom' ? n.node.name : n.node.op;
  const inputs = n.inputs.map((id) => ({ shape: ctx.graph.nodes[id].shape.slice(), dtype: ctx.graph.nodes[id].dtype }));
  // 16-bit weights are packed pairs in u32 words that only the engine's own kernels unpack: a user
  // kernel would read them as f32 and compute garbage, so it is refused here, before any dispatch.
  const half = inputs.findIndex((t) => isHalf(t.dtype));
  if (half >= 0) {
    throw new KernelError(
      `${opName}: user variant '${def.name}' reads f32, i32 and bool operands; ${names[half] ?? `operand ${half}`} is ${inputs[half].dtype} ` +
        `${fmtShape(inputs[half].shape)} (16-bit weights are read by the engine's own kernels: leave the variant unforced, or use f32 weights)`,
    );
  }
  let d: UserDispatch;
  try {
    d = def.plan({ inputs, out: { shape: n.shape.slice(), dtype: n.dtype }, attrs: attrsOf(n), limits: ctx.limits });
  } catch (e) {
    throw blame((m) => new KernelError(m), `${def.name}: plan failed for ${opName} ${inputs.map((t) => fmtShape(t.shape)).join(', ')}`, e);
  }
  const grid = typeof d?.grid === 'number' ? [d.grid] : d?.grid;
  if (!Array.isArray(grid) || grid.length === 0 || grid.length > 3 || grid.some((x) => x !== undefined && (!Number.isInteger(x) || x < 0))) {
    throw new KernelError(`${def.name}: plan must return { grid: [x, y?, z?] } of workgroup counts, got ${JSON.stringify(d?.grid)}`);
  }
  const g3 = [grid[0] ?? 1, grid[1] ?? 1, grid[2] ?? 1] as [number, number, number];
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (g3.some((x) => x > max)) {
    throw new LimitError(`${def.name}: grid [${g3.join(', ')}] for ${opName} ${fmtShape(n.shape)} passes the device's ${max} workgroups per dimension`);
  }
  const entry = d.entry ?? def.entry ?? 'main';
  const layout = entryLayout(shader, entry); // a WGSL syntax error: GpuError at name:line
  const wanted = new Set([...names, 'out']);
  for (const b of layout.bindings) {
    if (b.type === 'uniform') continue;
    if (!wanted.has(b.name.split('_')[0])) {
      throw new KernelError(`${def.name}: binding '${b.name}' is not an operand of ${opName} (operands: ${names.join(', ') || 'none'}; result: out)`);
    }
  }
  const bound = new Set(layout.bindings.map((b) => b.name.split('_')[0]));
  if (!bound.has('out')) throw new KernelError(`${def.name}: entry '${entry}' does not write its result: it has no binding 'out'`);
  const args = n.inputs.map((_, i) => ctx.dense(n, ctx.arg(n, i)));
  const plan: KernelPlan = { shader, entry, constants: { ...(def.constants ?? {}) }, uniforms: d.uniforms ?? {}, grid: g3, variant: def.name };
  const bind: Bind = Object.fromEntries(args.map((v, i) => [names[i], bound.has(names[i]) ? v.slot : ('dummy' as const)]));
  return ctx.emit(n, plan, bind);
}

export const customOpTable: OpTable<'custom'> = {
  custom: {
    lower(ctx, n) {
      const def = customOps().get(n.node.name);
      const k = ctx.userKernel(n.node.name);
      if (!def || !k) {
        throw new KernelError(`${n.node.name}: no kernel for this op is registered on this runtime (rt.kernels.register({ op: '${n.node.name}', ... }))`);
      }
      return lowerUser(ctx, n, k, def.operands);
    },
    reference(n: GraphNode<NodeOf<'custom'>>, args: Value[]): Value {
      const def = customOps().get(n.node.name);
      if (!def) throw new ShapeError(`${n.node.name}: no op of this name is registered`);
      let out: ArrayLike<number>;
      try {
        out = def.reference(args.map((a) => ({ data: a.data, shape: a.shape.slice() })), n.node.attrs);
      } catch (e) {
        throw blame((m) => new KernelError(m), `${n.node.name}: reference failed`, e);
      }
      if (!out || out.length !== numel(n.shape)) {
        throw new KernelError(`${n.node.name}: the reference returned ${out?.length ?? 'no'} values for a result of shape ${fmtShape(n.shape)} (${numel(n.shape)})`);
      }
      return { data: Float64Array.from(out), shape: n.shape.slice() };
    },
  },
};
