// The elementwise family on shaders/elementwise.wgsl, and what its op modules (math, compare, where,
// cast) are written in: an ElementwiseDef gives an op's operands, its dtype rule (torch.result_type),
// a WGSL expression per compute dtype and a float64 reference of one element. The builder checks
// dtypes and broadcasting from it, the lowering generates the kernel's `apply` from it, and the
// CPU reference maps it. Operands are read through their views, so a transpose or a broadcast costs
// no copy. An activation or residual add straight after a matmul is folded into it by graph/fuse.ts.
//
// This module holds add, sub, mul, div, relu, tanh, sigmoid and gelu.
import { ShapeError, fmtShape } from '../errors';
import { planElementwise } from '../kernels/elementwise';
import { promoteTypes, type DType, type GraphLike, type GraphNode, type Node, type NodeKind, type Tensor } from '../graph/ir';
import type { LowerCtx, Val } from '../graph/lower-ctx';
import { convert, geluOf, mapBroadcast, wrapI32 } from '../reference/elementwise';
import type { OpDef, OpTable, RefEnv } from './op';
import type { Value } from '../reference/core';

/**
 * How an operand reaches the expression: 'T' converted to the op's compute dtype, 'bool' converted
 * to bool (`!= 0`), 'mask' a bool operand that must be bool already (where's condition, a mask).
 */
export type Load = 'T' | 'bool' | 'mask';

export interface ElementwiseDef {
  /** torch's operand names, in order. */
  operands: readonly string[];
  /** Per operand; 'T' for all when absent. */
  loads?: readonly Load[];
  /**
   * The compute dtype T and the result's dtype from the dtypes of the 'T' operands (bool when there
   * are none); `to` is cast's target.
   */
  result(dtypes: DType[], to?: DType): { T: DType; out: DType };
  /** A WGSL expression per compute dtype T the op takes: x, y, z are the operands, s the scalar. */
  wgsl: Partial<Record<DType, string>>;
  /** WGSL functions the expressions call. */
  helpers?: string;
  /** One element in float64, from the operands converted as loaded; an i32 result wraps. */
  ref(v: number[], T: DType, s: number): number;
  /** Why torch refuses these operand dtypes, beyond the compute dtypes `wgsl` lacks. */
  refuse?(dtypes: DType[]): string | undefined;
  /** The module that defines the op, named by compile errors in its expression. */
  source: string;
}

// ---- dtype rules (torch.result_type; bool < i32 < f32) ----

/** The result has the promoted dtype of the operands and is computed in it (add, maximum, where). */
export const promoted = (dts: DType[]) => ({ T: promoteTypes(dts), out: promoteTypes(dts) });
/** Computed and returned as f32 whatever the operands (div, exp, tanh: torch's int-to-float ops). */
export const float = () => ({ T: 'f32' as DType, out: 'f32' as DType });
/** Compared in the promoted dtype, returned as bool (eq, lt). */
export const predicate = (dts: DType[]) => ({ T: promoteTypes(dts), out: 'bool' as DType });
/** Operands as bool, result bool (logicalAnd). */
export const logical = () => ({ T: 'bool' as DType, out: 'bool' as DType });

const describe = (names: readonly string[], ts: Tensor[]) => ts.map((t, i) => `${names[i]} ${t.dtype} ${fmtShape(t.shape)}`).join(', ');

/** torch broadcasting over every operand, naming them all when they do not broadcast. */
function broadcastAll(op: string, names: readonly string[], ts: Tensor[]): number[] {
  const rank = Math.max(0, ...ts.map((t) => t.shape.length));
  const out = new Array<number>(rank).fill(1);
  for (const t of ts) {
    const s = t.shape;
    for (let i = 0; i < s.length; i++) {
      const d = rank - s.length + i;
      if (s[i] === out[d] || s[i] === 1) continue;
      if (out[d] !== 1) throw new ShapeError(`${op}: ${describe(names, ts)} do not broadcast (dim ${d - rank}: ${out[d]} vs ${s[i]})`);
      out[d] = s[i];
    }
  }
  return out;
}

/** The compute and result dtypes of `def` over operands of `dtypes`, or the ShapeError torch's refusal becomes. */
function typesOf(op: string, def: ElementwiseDef, ts: Tensor[], to?: DType): { T: DType; out: DType } {
  const loads = def.loads ?? def.operands.map(() => 'T' as Load);
  const dtypes = ts.map((t) => t.dtype);
  loads.forEach((l, i) => {
    if (l === 'mask' && dtypes[i] !== 'bool') {
      throw new ShapeError(`${op}: ${def.operands[i]} must be bool, got ${dtypes[i]} ${fmtShape(ts[i].shape)}`);
    }
  });
  const r = def.result(dtypes.filter((_, i) => loads[i] === 'T'), to);
  const why = def.refuse?.(dtypes) ?? (def.wgsl[r.T] === undefined ? `${op} does not take ${r.T}` : undefined);
  if (why) throw new ShapeError(`${op}: ${why} (${describe(def.operands, ts)})`);
  return r;
}

/** Builds op `kind` over `operands` (checked: this graph's, dtypes the op takes, broadcastable). */
export function buildElementwise(g: GraphLike, kind: NodeKind, def: ElementwiseDef, operands: Tensor[], node: Node = { op: kind } as Node, to?: DType): Tensor {
  g.checkOwn(kind, ...operands);
  if (operands.length !== def.operands.length) throw new ShapeError(`${kind}: takes ${def.operands.length} tensor(s) (${def.operands.join(', ')}), got ${operands.length}`);
  const { out } = typesOf(kind, def, operands, to);
  return g.addNode(node, operands.map((t) => t.id), broadcastAll(kind, def.operands, operands), out);
}

/** The kernel's view of node n under `def`: dtypes, loads, result, the expression. */
function mapOpOf(n: GraphNode, def: ElementwiseDef, dtypes: DType[], scalar?: number) {
  const loads = def.loads ?? def.operands.map(() => 'T' as Load);
  const { T, out } = def.result(dtypes.filter((_, i) => loads[i] === 'T'), n.dtype);
  return {
    T, out,
    op: {
      name: n.node.op, source: def.source, expr: def.wgsl[T]!, helpers: def.helpers, dtypes, out, scalar,
      loads: loads.map((l) => (l === 'T' ? T : 'bool')),
    },
  };
}

/** One dispatch over n's shape. */
export function lowerElementwise(ctx: LowerCtx, n: GraphNode, def: ElementwiseDef, scalar?: number): Val {
  const args = n.inputs.map((_, i) => ctx.arg(n, i));
  const dtypes = n.inputs.map((id) => ctx.graph.nodes[id].dtype);
  const { op } = mapOpOf(n, def, dtypes, scalar);
  const bind = Object.fromEntries(args.map((v, i) => ['abc'[i], v.slot]));
  return ctx.emit(n, planElementwise(op, args, n.shape, ctx.overrides, ctx.limits), bind);
}

/** The float64 reference of node n under `def`. */
export function referenceElementwise(n: GraphNode, def: ElementwiseDef, args: Value[], env: RefEnv, scalar = 0): Value {
  const dtypes = n.inputs.map((id) => env.graph.nodes[id].dtype);
  const { T, out, op } = mapOpOf(n, def, dtypes, scalar);
  // A compare or a conversion to an integer sees f32 operands as the kernel does, rounded to f32.
  const round = (x: number, k: number) => (out !== 'f32' && op.loads[k] === 'f32' ? Math.fround(x) : x);
  return mapBroadcast(args, (v) => def.ref(v.map((x, k) => round(convert(x, dtypes[k], op.loads[k]), k)), T, scalar));
}

/**
 * A user kernel's names for the operands: x for one; a, b for two; condition, a, b for where; x,
 * mask for maskedFill.
 */
export function userOperands(def: ElementwiseDef): string[] {
  if (def.operands[0] === 'condition') return ['condition', 'a', 'b'];
  if (def.operands[1] === 'mask') return ['x', 'mask'];
  return def.operands.length === 1 ? ['x'] : ['a', 'b'];
}

/** The op-table entry of an elementwise op defined by `def`. */
export const elementwiseOp = <K extends NodeKind>(def: ElementwiseDef): OpDef<K> => ({
  lower: (ctx, n) => lowerElementwise(ctx, n, def),
  reference: (n, args, env) => referenceElementwise(n, def, args, env),
  operands: () => userOperands(def),
});

/** The op-table entries of a family's definitions, one per key. */
export function elementwiseTable<K extends NodeKind>(defs: Record<K, ElementwiseDef>): OpTable<K> {
  return Object.fromEntries(Object.entries<ElementwiseDef>(defs).map(([k, d]) => [k, elementwiseOp(d)])) as unknown as OpTable<K>;
}

const SOURCE = 'src/ops/elementwise.ts';
const noBool = (what: string) => (dts: DType[]) => (dts.includes('bool') ? `${what} a bool tensor is not supported (as in torch)` : undefined);
const i32 = (f: (x: number, y: number) => number) => (v: number[], T: DType) => (T === 'i32' ? wrapI32(f(v[0], v[1])) : f(v[0], v[1]));

export const ELEMENTWISE = {
  add: {
    operands: ['input', 'other'], result: promoted, source: SOURCE,
    wgsl: { f32: 'x + y', i32: 'x + y', bool: 'x || y' },
    ref: (v, T) => (T === 'bool' ? Number(v[0] || v[1]) : i32((x, y) => x + y)(v, T)),
  },
  sub: {
    operands: ['input', 'other'], result: promoted, source: SOURCE, refuse: noBool('subtraction with'),
    wgsl: { f32: 'x - y', i32: 'x - y' },
    ref: i32((x, y) => x - y),
  },
  mul: {
    operands: ['input', 'other'], result: promoted, source: SOURCE,
    wgsl: { f32: 'x * y', i32: 'x * y', bool: 'x && y' },
    ref: (v, T) => (T === 'i32' ? Math.imul(v[0], v[1]) : T === 'bool' ? Number(v[0] && v[1]) : v[0] * v[1]),
  },
  /** True division: always f32, as torch.div without rounding_mode. */
  div: { operands: ['input', 'other'], result: float, source: SOURCE, wgsl: { f32: 'x / y' }, ref: (v) => v[0] / v[1] },
  // relu, tanh_safe and sigmoid (common.wgsl) keep NaN.
  relu: {
    operands: ['input'], result: promoted, source: SOURCE,
    wgsl: { f32: 'relu(x)', i32: 'max(x, 0)' },
    ref: ([x]) => (x < 0 ? 0 : x),
  },
  tanh: { operands: ['input'], result: float, source: SOURCE, wgsl: { f32: 'tanh_safe(x)' }, ref: ([x]) => Math.tanh(x) },
  sigmoid: { operands: ['input'], result: float, source: SOURCE, wgsl: { f32: 'sigmoid(x)' }, ref: ([x]) => 1 / (1 + Math.exp(-x)) },
} satisfies Record<string, ElementwiseDef>;

// gelu needs no NaN test of its own: x multiplies the result, so NaN stays NaN and gelu(-inf) =
// -inf * 0 = NaN, as torch; a cube past f32's range saturates the tanh form, as in torch's float32.
// WGSL has no erf: Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7, exact (+-1) once exp(-x^2)
// underflows, so gelu stays within 1.5e-7 * |x| / 2 of the exact form.
const ERF = `fn erf(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}`;

const GELU: Record<'none' | 'tanh', ElementwiseDef> = {
  none: {
    operands: ['input'], result: float, source: SOURCE, helpers: ERF, refuse: (d) => (d[0] !== 'f32' ? 'gelu takes f32 only' : undefined),
    wgsl: { f32: '0.5 * x * (1.0 + erf(x * 0.70710678118654752))' }, ref: ([x]) => geluOf('none')(x),
  },
  tanh: {
    operands: ['input'], result: float, source: SOURCE, refuse: (d) => (d[0] !== 'f32' ? 'gelu takes f32 only' : undefined),
    wgsl: { f32: '0.5 * x * (1.0 + tanh_safe(0.79788456080286536 * (x + 0.044715 * x * x * x)))' }, ref: ([x]) => geluOf('tanh')(x),
  },
};

/** torch.nn.functional.gelu: exact (erf) or the tanh approximation. */
export function buildGelu(g: GraphLike, x: Tensor, approximate: 'none' | 'tanh'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') throw new ShapeError(`gelu: approximate must be 'none' or 'tanh', got '${approximate}'`);
  return buildElementwise(g, 'gelu', GELU[approximate], [x], { op: 'gelu', approximate });
}

export const elementwiseOps: OpTable<keyof typeof ELEMENTWISE | 'gelu'> = {
  ...elementwiseTable(ELEMENTWISE),
  gelu: {
    lower: (ctx, n) => lowerElementwise(ctx, n, GELU[n.node.approximate]),
    reference: (n, args, env) => referenceElementwise(n, GELU[n.node.approximate], args, env),
    operands: () => ['x'],
  },
};

