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

/** WGSL `override` constants by name (e.g. `{ TILE_M: 32, WG: 64 }`), set when a pipeline is created. */
export type Constants = Record<string, number | boolean>;
/** Uniform values by the WGSL struct member's name; an array fills a vector or array member. */
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

/** The device limits that kernel plans read (the GPUSupportedLimits of the same names). */
export interface DeviceLimits {
  /** Workgroups a dispatch may have along each of x, y and z (WebGPU's default 65535). */
  maxComputeWorkgroupsPerDimension: number;
  /** Threads one workgroup may have (WebGPU's default 256). */
  maxComputeInvocationsPerWorkgroup: number;
  /** Bytes of `var<workgroup>` memory one workgroup may use (WebGPU's default 16384). */
  maxComputeWorkgroupStorageSize: number;
  /** The largest workgroup size along x (WebGPU's default 256). */
  maxComputeWorkgroupSizeX: number;
  /** The largest workgroup size along y (WebGPU's default 256). */
  maxComputeWorkgroupSizeY: number;
  /** A CPU-emulated adapter (see GpuContext); variant choice may differ there. */
  emulated?: boolean;
  /**
   * An emulator that gathers every buffer load lane by lane (SwiftShader): there a load costs several
   * multiply-adds, so register tiles grow as large as the shapes fill them.
   */
  laneGathers?: boolean;
  /** The device has the shader-f16 feature (array<f16> in shaders: kernels/weight16.ts). */
  shaderF16?: boolean;
}

/** Options a caller passes through rt.compile(g, { variants, constants }). */
export interface KernelOverrides {
  /**
   * A variant to force, by op: `matmul` ('naive', 'tiled', 'tiled-vec4', 'register'), `softmax`
   * and `layernorm` ('workgroup', 'row'), `lstm`, `gru`, `rnn` ('step', 'persistent', 'tiled',
   * 'tiled-vec4'), `attention` ('flash', 'split', 'rows'), or a registered user kernel's
   * `'user:...'` name under its op. An unknown name is a ShapeError at compile.
   */
  variants?: Record<string, string>;
  /**
   * Override constants by kernel (e.g. `{ matmul: { TILE_M: 32 } }`), laid over the values the
   * engine chose; they must suit the kernel and the device's limits.
   */
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
