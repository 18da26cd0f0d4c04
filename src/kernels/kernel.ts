// The kernel table's shared types: what compiles (shader, entry, override constants) kept apart from
// what runs (grid and uniforms), plus the grid folding and dim collapsing every kernel needs.
import { LimitError } from '../errors';
import prelude from '../../shaders/common.wgsl?raw';

export interface Shader {
  /** Path shown in compile errors, e.g. `shaders/matmul.wgsl`. */
  file: string;
  code: string;
  /** The sources `code` joins, in order, with their line counts, so a compile error names its own. */
  parts?: { file: string; lines: number }[];
}

export const PRELUDE_FILE = 'shaders/common.wgsl';
const PRELUDE = prelude.endsWith('\n') ? prelude : `${prelude}\n`;
const PRELUDE_LINES = PRELUDE.split('\n').length - 1;

const withNewline = (code: string) => (code.endsWith('\n') ? code : `${code}\n`);

/**
 * A kernel's shader: the shared prelude (NaN/inf helpers, activations), then the file's own code,
 * then any generated parts (an elementwise op's expression), each named for compile errors.
 */
export function shaderOf(file: string, code: string, more: { file: string; code: string }[] = []): Shader {
  const own = [{ file, code: withNewline(code) }, ...more.map((m) => ({ file: m.file, code: withNewline(m.code) }))];
  return {
    file,
    code: PRELUDE + own.map((p) => p.code).join(''),
    parts: [{ file: PRELUDE_FILE, lines: PRELUDE_LINES }, ...own.map((p) => ({ file: p.file, lines: p.code.split('\n').length - 1 }))],
  };
}

/** Where line `line` (1-based) of a shader's compiled code was written: which part, and its line there. */
export function sourceLine(shader: Shader, line: number): { file: string; line: number } {
  let at = line;
  for (const p of shader.parts ?? []) {
    if (at <= p.lines) return { file: p.file, line: at };
    at -= p.lines;
  }
  return { file: shader.file, line: at };
}

export type Constants = Record<string, number | boolean>;
export type Uniforms = Record<string, number | number[]>;

/** One planned dispatch: the pipeline it needs and the numbers it runs with. */
export interface KernelPlan {
  shader: Shader;
  entry: string;
  constants: Constants;
  uniforms: Uniforms;
  grid: [number, number, number];
  /** The variant the plan chose, for labels, stats and bench rows. */
  variant: string;
}

export interface DeviceLimits {
  maxComputeWorkgroupsPerDimension: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  /** A CPU-emulated adapter (see GpuContext); variant choice may differ there. */
  emulated?: boolean;
}

/** Options a caller passes through rt.compile(g, { variants, constants }). */
export interface KernelOverrides {
  variants?: Record<string, string>;
  constants?: Record<string, Constants>;
}

/** Spreads `total` workgroups over x, y, z so no dimension passes the device limit. */
export function foldGrid(kernel: string, total: number, limits: DeviceLimits): [number, number, number] {
  const max = limits.maxComputeWorkgroupsPerDimension;
  if (total <= max) return [Math.max(total, 1), 1, 1];
  const y = Math.ceil(total / max);
  if (y <= max) return [max, y, 1];
  const z = Math.ceil(total / (max * max));
  if (z > max) throw new LimitError(`${kernel}: ${total} workgroups exceed ${max}^3, the device's grid`);
  return [max, max, z];
}

/**
 * Merges adjacent dims that every strides set walks contiguously (stride[i] == stride[i+1] * shape[i+1])
 * and drops dims of size 1, so indexing needs as few dims as possible. Returns at least one dim.
 */
export function collapseDims(shape: number[], strideSets: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strideSets.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const mergeable =
      last >= 0 && strideSets.every((s, k) => outStrides[k][last] === s[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      strideSets.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strideSets.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strideSets.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

export function pickConstants(kernel: string, defaults: Constants, overrides: KernelOverrides | undefined): Constants {
  return { ...defaults, ...(overrides?.constants?.[kernel] ?? {}) };
}

export const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(n, 1)));

/** How a kernel sees an operand: a shape and element strides into some buffer. */
export interface View {
  shape: number[];
  strides: number[];
}

export function isContiguous(v: View): boolean {
  let acc = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    if (v.shape[i] !== 1 && v.strides[i] !== acc) return false;
    acc *= v.shape[i];
  }
  return true;
}
