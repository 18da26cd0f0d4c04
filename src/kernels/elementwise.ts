// Plans shaders/elementwise.wgsl: one op over up to three strided, broadcast operands of any dtype,
// and the strided copy that makes a view contiguous. The shader's `apply` is generated here from the
// op's expression (an op module's), so each op is its own small shader; the caches key it by content.
import type { DType } from '../graph/ir';
import { broadcastStrides, contiguousStrides, numel } from '../graph/shapes';
import code from '../../shaders/elementwise.wgsl?raw';
import { LimitError, fmtShape } from '../errors';
import { collapseDims, foldGrid, pickConstants, shaderOf, type DeviceLimits, type KernelOverrides, type KernelPlan, type Shader, type View } from './kernel';

const FILE = 'shaders/elementwise.wgsl';
const MAX_RANK = 8;
const OPERANDS = ['a', 'b', 'c'] as const;
const VARS = ['x', 'y', 'z'] as const;
// 16-bit weights never reach elementwise ops (the graph refuses them there).
const DT_CODE: Partial<Record<DType, string>> = { f32: 'DT_F32', i32: 'DT_I32', bool: 'DT_BOOL' };

/** One elementwise op, as the kernel sees it. */
export interface MapOp {
  /** The op's name, for labels and errors. */
  name: string;
  /** Where `expr` and `helpers` are written, named by compile errors. */
  source: string;
  /**
   * A WGSL expression of type `out` in x, y, z (the operands, converted to `loads`) and s (the
   * scalar, of type `out`); or null for a bit-exact copy of operand a.
   */
  expr: string | null;
  /** WGSL functions the expression calls. */
  helpers?: string;
  /** Each operand's stored dtype. */
  dtypes: DType[];
  /** The type each operand is converted to before `expr` sees it. */
  loads: DType[];
  out: DType;
  /** The scalar `s` as a number of dtype `out`. */
  scalar?: number;
}

/** The word of `v` as dtype `dt` stores it. */
function wordOf(v: number, dt: DType): number {
  if (dt === 'f32') return new Uint32Array(Float32Array.of(v).buffer)[0];
  if (dt === 'i32') return v >>> 0;
  return v ? 1 : 0;
}

/** The shader text for op `m`: the template, then its generated apply (and helpers), each named. */
function shaderFor(m: MapOp): Shader {
  if (m.expr === null) return shaderOf(FILE, code, [{ file: `${FILE} (copy)`, code: 'fn apply(o: vec3<u32>) -> u32 { return a[o.x]; }' }]);
  const lets = m.loads.map((to, k) => `  let ${VARS[k]} = to_${to}(${OPERANDS[k]}[o.${'xyz'[k]}], ${DT_CODE[m.dtypes[k]]});`);
  if (m.scalar !== undefined) lets.push(`  let s = to_${m.out}(p.scalar, ${DT_CODE[m.out]});`);
  const apply = [`fn apply(o: vec3<u32>) -> u32 {`, ...lets, `  return of_${m.out}(${m.expr});`, '}'].join('\n');
  return shaderOf(FILE, code, [{ file: `${m.source} (${m.name})`, code: `${m.helpers ?? ''}${m.helpers ? '\n' : ''}${apply}` }]);
}

const shaders = new Map<string, Shader>();

/** out (contiguous, `outShape`) = op(inputs...), each input read through its view, broadcast to outShape. */
export function planElementwise(
  op: MapOp,
  inputs: View[],
  outShape: number[],
  overrides: KernelOverrides | undefined,
  limits: DeviceLimits,
): KernelPlan {
  const outStrides = contiguousStrides(outShape);
  const strideSets = inputs.map((v) => broadcastStrides(v.shape, v.strides, outShape));
  const strided = strideSets.some((s) => s.some((x, i) => outShape[i] !== 1 && x !== outStrides[i]));
  const c = collapseDims(outShape, [outStrides, ...strideSets]);
  if (c.shape.length > MAX_RANK) {
    throw new LimitError(`${op.name}: output ${fmtShape(outShape)} needs ${c.shape.length} index dims; the kernel indexes ${MAX_RANK}`);
  }
  const padTo8 = (v: number[] = []) => [...v, ...new Array(MAX_RANK - v.length).fill(0)];
  const constants = pickConstants('elementwise', { WG: 256 }, overrides);
  constants.STRIDED = strided;
  const key = JSON.stringify({ ...op, scalar: op.scalar !== undefined });
  let shader = shaders.get(key);
  if (!shader) shaders.set(key, (shader = shaderFor(op)));
  const n = numel(outShape);
  return {
    shader,
    entry: 'main',
    constants,
    variant: strided ? 'strided' : 'contiguous',
    grid: foldGrid(op.name, Math.ceil(n / Number(constants.WG)), limits),
    uniforms: {
      numel: n,
      rank: c.shape.length,
      scalar: op.scalar === undefined ? 0 : wordOf(op.scalar, op.out),
      shape: padTo8(c.shape),
      strideA: padTo8(c.strides[1]),
      strideB: padTo8(c.strides[2]),
      strideC: padTo8(c.strides[3]),
    },
  };
}

/** The copy that makes a view contiguous, for any dtype. */
export const COPY: MapOp = { name: 'copy', source: FILE, expr: null, dtypes: ['f32'], loads: ['f32'], out: 'f32' };
