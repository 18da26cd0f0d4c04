// What lowerings build on: slots (inputs, constants, states, pooled temps, index flags), steps (one
// dispatch each: a kernel plan and the slots it binds), values as views into slots, and the LowerCtx
// that op modules (src/ops) append to. A value past the binding limit is held in parts (split.ts):
// only the ops that dispatch per part read it (anyArg); any other op's arg() throws a LimitError.
// The planner drives it; nothing here knows an op by name.
import { GpuError, LimitError, fmtShape } from '../errors';
import { entryLayout } from '../runtime/reflect';
import { COPY, planElementwise } from '../kernels/elementwise';
import { isContiguous, type DeviceLimits, type KernelOverrides, type KernelPlan, type View } from '../kernels/kernel';
import { DTYPE_BYTES, viewRoot, type DType, type GraphIR, type GraphNode } from './ir';
import { contiguousStrides, numel } from './shapes';
import {
  constantPart, partRanges, partView, rowDims, sameDims, slicesPerPart, splitDims, type Big, type PartRange, type Split, type SplitDims,
} from './split';
import type { UserKernel } from '../kernels/user';

export type SlotKind = 'input' | 'constant' | 'temp' | 'state' | 'flags';

/** What lowering needs of rt.kernels: the user kernels registered for an op. */
export interface UserKernels {
  of(op: string): readonly UserKernel[];
}
const NO_USER_KERNELS: UserKernels = { of: () => [] };

export interface Slot {
  id: number;
  kind: SlotKind;
  bytes: number;
  dtype: DType;
  /** The input's or state's name, or the constant's data. */
  name?: string;
  /** (16-bit weights: their bit patterns, packed two to a word on upload.) */
  data?: Float32Array | Int32Array | Uint16Array;
  /** For temps: the pool buffer it lives in. */
  pool?: number;
  /** For an input past the binding limit: the part of its feed this slot holds. */
  part?: PartRange;
}

export interface Step {
  label: string;
  plan: KernelPlan;
  /**
   * Operand name -> slot id, matched to the shader's bindings by their WGSL variable names (see
   * resolveBindings); 'dummy' fills a binding the variant does not read.
   */
  bind: Bind;
  /** The bindings of the step's entry point, resolved at the end of planning. */
  bindings?: { binding: number; slot: number | 'dummy' }[];
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
  outputs: Map<string, PlanOutput>;
  /** Byte size of each pooled intermediate buffer. */
  pool: number[];
  naiveBytes: number;
  rangeChecks: RangeCheck[];
}

/** An output: one slot, or (slot -1) the parts of a split value, read back and joined. */
export interface PlanOutput {
  slot: number;
  shape: number[];
  dtype: DType;
  split?: Split;
}

/** A value as kernels see it: a view into a slot; or, past the binding limit, slot -1 and `big`. */
export interface Val extends View {
  slot: number;
  big?: Big;
}

/** Slices [start, end) of a split value along the dim asked for, as a view into the part's slot. */
export interface Part {
  start: number;
  end: number;
  val: Val;
}

const identity = (rank: number): number[] => Array.from({ length: rank }, (_, i) => i);

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
  /** Index operands computed in the graph: `${node}:${input}` -> the flag its kernel raises. */
  readonly indexFlags = new Map<string, { slot: number; flag: number }>();

  constructor(
    readonly graph: GraphIR,
    readonly limits: PlanLimits,
    /** compile's overrides; the planner swaps in a node's own while it lowers a tuned node. */
    public overrides: KernelOverrides | undefined,
    /** The runtime's user kernels by op (rt.kernels). */
    readonly user: UserKernels = NO_USER_KERNELS,
    /** compile's `variants` as given (`overrides` holds them without the user ones, for the kernels). */
    readonly userVariants: Record<string, string> = {},
  ) {}

  /**
   * The user kernel node kind (or custom op) `op` runs with: the variant compile forced
   * (`variants: { [op]: 'user:...' }`), else for a custom op its first registered kernel.
   */
  userKernel(op: string, forced = this.userVariant(op)): UserKernel | undefined {
    const list = this.user.of(op);
    return forced === undefined ? list[0] : list.find((k) => k.def.name === forced);
  }

  /** The user variant forced for `op` by compile's options, if any. */
  userVariant(op: string): string | undefined {
    const v = this.userVariants[op];
    return v?.startsWith('user:') ? v : undefined;
  }

  /** Operand i of node n; one past the binding limit is a LimitError naming n's op. */
  arg(n: GraphNode, i: number): Val {
    const v = this.vals[n.inputs[i]];
    if (v.big) {
      const t = this.graph.nodes[n.inputs[i]], root = viewRoot(this.graph, t.id);
      const what = root.node.op === 'input' ? `input '${root.node.name}'` : root.node.op === 'constant' ? 'a constant' : `the result of ${root.node.op}#${root.id}`;
      throw new LimitError(
        `${n.node.op}: operand ${i} (${what}) ${t.dtype} ${fmtShape(t.shape)} needs a ${bytesOf(t.shape, t.dtype)}-byte buffer; the device ` +
          `binds at most ${this.maxBytes} bytes, and ${n.node.op} takes no operand in parts (embedding and gather split their table by rows, ` +
          'matmul and linear their weight by output columns)',
      );
    }
    return v;
  }

  /** Operand i as it is, possibly held in parts (`big`): for the ops that dispatch per part. */
  anyArg(n: GraphNode, i: number): Val {
    return this.vals[n.inputs[i]];
  }

  /** The most bytes one buffer may hold and be bound with (a multiple of 16, as slot sizes are). */
  get maxBytes(): number {
    return Math.floor(Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize) / 16) * 16;
  }

  fits(shape: number[], dtype: DType): boolean {
    return bytesOf(shape, dtype) <= this.maxBytes;
  }

  /** A slot for `shape`; `op` names the op in the limit error. */
  slot(kind: SlotKind, op: string, shape: number[], dtype: DType, extra: Partial<Slot> = {}): number {
    const bytes = bytesOf(shape, dtype);
    const max = this.maxBytes;
    if (bytes > max) {
      throw new LimitError(`${op}: ${dtype} ${fmtShape(shape)} needs a ${bytes}-byte buffer; the device binds at most ${max} bytes`);
    }
    this.slots.push({ id: this.slots.length, kind, bytes, dtype, ...extra });
    return this.slots.length - 1;
  }

  /** An input's or a constant's value: its slot, or past the limit a source cut when an op asks for parts. */
  source(n: GraphNode, kind: 'input' | 'constant', extra: Partial<Slot>): Val {
    if (this.fits(n.shape, n.dtype)) return contiguous(this.slot(kind, kind, n.shape, n.dtype, extra), n.shape);
    const big: Big = { storage: n.shape.slice(), perm: identity(n.shape.length), dtype: n.dtype, source: n.id };
    return { slot: -1, shape: n.shape.slice(), strides: contiguousStrides(n.shape), big };
  }

  private readonly sourceSplits = new Map<string, Split>();

  /**
   * Value v, past the limit, in parts along its view dim d. A constant or input is cut now, once
   * per layout, so a weight two ops read alike (GPT-2's tied wte: embedding rows, LM-head columns)
   * is held once; a result already in parts must have been cut along d.
   */
  parts(op: string, v: Val, d: number): Part[] {
    const big = v.big!;
    const axis = big.perm[d];
    const dims = splitDims(big.storage, axis);
    if (big.split && !sameDims(big.split, dims)) {
      throw new LimitError(`${op}: ${big.dtype} ${fmtShape(v.shape)} is held in parts along another dim than dim ${d}, the one ${op} reads in parts`);
    }
    const split = big.split ?? this.cutSource(op, big, dims);
    return split.parts.map((p) => ({ start: p.start, end: p.end, val: { slot: p.slot, ...partView(big, axis, p.end - p.start) } }));
  }

  private cutSource(op: string, big: Big, dims: SplitDims): Split {
    const key = `${big.source}|${dims.outer}|${dims.len}|${dims.inner}`;
    const known = this.sourceSplits.get(key);
    if (known) return known;
    const src = this.graph.nodes[big.source!];
    const per = this.perPart(op, src.shape, dims, big.dtype);
    const split: Split = {
      ...dims,
      parts: partRanges(dims.len, per).map(([start, end]) => {
        const shape = [dims.outer, end - start, dims.inner];
        const range = { ...dims, start, end };
        const slot = src.node.op === 'constant'
          ? this.slot('constant', op, shape, big.dtype, { data: constantPart(src.node.data, range) })
          : this.slot('input', op, shape, big.dtype, { name: (src.node as { name: string }).name, part: range });
        return { start, end, slot };
      }),
    };
    this.sourceSplits.set(key, split);
    return split;
  }

  private perPart(op: string, shape: number[], dims: SplitDims, dtype: DType): number {
    const sliceBytes = dims.outer * dims.inner * DTYPE_BYTES[dtype];
    const per = slicesPerPart(sliceBytes, this.maxBytes);
    if (per === 0) {
      throw new LimitError(
        `${op}: ${dtype} ${fmtShape(shape)} cannot be held in parts of whole slices: one slice of ${dims.outer}x${dims.inner} ` +
          `takes ${sliceBytes} bytes; the device binds at most ${this.maxBytes} bytes`,
      );
    }
    return per;
  }

  /** Node n's result held in parts: `dims` cut into runs of whole slices that each fit one buffer. */
  splitResult(n: GraphNode, dims: SplitDims): Val {
    const per = this.perPart(n.node.op, n.shape, dims, n.dtype);
    const parts = partRanges(dims.len, per).map(([start, end]) => ({
      start, end, slot: this.slot('temp', n.node.op, [dims.outer, end - start, dims.inner], n.dtype),
    }));
    const big: Big = { storage: n.shape.slice(), perm: identity(n.shape.length), dtype: n.dtype, split: { ...dims, parts } };
    return { slot: -1, shape: n.shape.slice(), strides: contiguousStrides(n.shape), big };
  }

  /** The layout of node n's result in parts when it is written row by row (an embedding). */
  rowLayout(n: GraphNode): SplitDims {
    const dims = rowDims(n.shape, DTYPE_BYTES[n.dtype], this.maxBytes);
    if (!dims) throw new LimitError(`${n.node.op}: no row of its result ${n.dtype} ${fmtShape(n.shape)} fits one buffer of ${this.maxBytes} bytes`);
    return dims;
  }

  /** A view op (reshape) of a value in parts: its storage order must be its view order. */
  reshapeBig(n: GraphNode, v: Val): Val {
    const big = v.big!;
    if (big.perm.some((a, i) => a !== i)) {
      throw new LimitError(`reshape: a transposed view ${fmtShape(v.shape)} of a tensor past the binding limit (${this.maxBytes} bytes) would need a copy in one buffer`);
    }
    return { slot: -1, shape: n.shape.slice(), strides: contiguousStrides(n.shape), big: { ...big, storage: n.shape.slice(), perm: identity(n.shape.length) } };
  }

  /** The parts output `name` is read back from: a result already in parts, or a source cut in rows. */
  outputSplit(name: string, v: Val): Split {
    const big = v.big!;
    if (big.perm.some((a, i) => a !== i)) {
      throw new LimitError(`output '${name}': a transposed view ${fmtShape(v.shape)} of a tensor past the binding limit (${this.maxBytes} bytes) cannot be read back`);
    }
    if (big.split) return big.split;
    const dims = rowDims(big.storage, DTYPE_BYTES[big.dtype], this.maxBytes);
    if (!dims) throw new LimitError(`output '${name}': no row of ${big.dtype} ${fmtShape(big.storage)} fits one buffer of ${this.maxBytes} bytes`);
    return this.cutSource(`output '${name}'`, big, dims);
  }

  temp(n: GraphNode, shape = n.shape): Val {
    return contiguous(this.slot('temp', n.node.op, shape, n.dtype), shape);
  }

  /** Where the node being lowered got its variant (tuning's 'tuned' or 'rule'), shown in step labels when set. */
  origin: string | undefined;

  /** Appends a dispatch; `writes` are the slots it writes (all of them bound in `bind`). */
  step(label: string, plan: KernelPlan, bind: Bind, writes: number[], count: number): Step {
    const how = this.origin ? `${plan.variant}, ${this.origin}` : plan.variant;
    const s: Step = { label: `${label} (${how})`, plan, bind, writes, numel: count };
    this.steps.push(s);
    return s;
  }

  /** The usual one-output kernel: a fresh contiguous temp of n's shape bound as `out`. */
  emit(n: GraphNode, plan: KernelPlan, bind: Bind, out = 'out'): Val {
    const v = this.temp(n);
    this.step(`${n.node.op}#${n.id} ${fmtShape(n.shape)}`, plan, { ...bind, [out]: v.slot }, [v.slot], numel(n.shape));
    return v;
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

  /** The flag for node n's index operand `input` when that index is computed in the graph, else undefined. */
  indexFlag(n: GraphNode, input: number): { slot: number; flag: number } | undefined {
    return this.indexFlags.get(`${n.id}:${input}`);
  }

  copyOf(n: GraphNode, v: Val): Val {
    const out = this.temp(n, v.shape);
    const plan = planElementwise(COPY, [v], v.shape, this.overrides, this.limits);
    this.step(`copy for ${n.node.op}#${n.id} ${fmtShape(v.shape)}`, plan, { a: v.slot, out: out.slot }, [out.slot], numel(v.shape));
    return out;
  }

  /** `v` itself when contiguous, else a contiguous copy. */
  dense(n: GraphNode, v: Val): Val {
    return isContiguous(v) ? v : this.copyOf(n, v);
  }
}

/** A step's operands by name: a slot, or 'dummy' for one the variant does not read. */
export type Bind = Record<string, number | 'dummy'>;

/**
 * Matches a step's operands to its entry point's bindings by WGSL variable name, read with
 * wgsl_reflect: operand `x` binds the variable `x`, or `x_<how>` (e.g. `a_vec4`, the same buffer read
 * as vec4). Every binding the entry uses must get an operand, and every operand given a slot must
 * name a binding, so a renamed variable fails at compile, naming the kernel.
 */
export function resolveBindings(s: Step): void {
  const { shader, entry } = s.plan;
  const layout = entryLayout(shader, entry);
  const storage = layout.bindings.filter((b) => b.type !== 'uniform');
  s.bindings = storage.map((b) => {
    const slot = s.bind[b.name.split('_')[0]];
    if (slot === undefined) {
      throw new GpuError(`${s.label}: nothing bound to '${b.name}' (${shader.file}:${entry} binding ${b.binding}); the step binds ${Object.keys(s.bind).join(', ')}`);
    }
    return { binding: b.binding, slot };
  });
  const names = new Set(storage.map((b) => b.name.split('_')[0]));
  for (const [name, slot] of Object.entries(s.bind)) {
    if (slot !== 'dummy' && !names.has(name)) {
      throw new GpuError(`${s.label}: ${shader.file}:${entry} has no binding for operand '${name}'; it binds ${[...names].join(', ')}`);
    }
  }
}

export const contiguous = (slot: number, shape: number[]): Val => ({ slot, shape, strides: contiguousStrides(shape) });

/** A slot's size: 16-byte granules, at least one. */
export const bytesOf = (shape: number[], dtype: DType): number => Math.max(16, Math.ceil((DTYPE_BYTES[dtype] * numel(shape)) / 16) * 16);

/** dims d0 and d1 of v swapped: a view, for values in parts too. */
export function transposeVal(v: Val, d0: number, d1: number): Val {
  const swap = <T>(a: T[]) => {
    const b = a.slice();
    [b[d0], b[d1]] = [b[d1], b[d0]];
    return b;
  };
  return { slot: v.slot, shape: swap(v.shape), strides: swap(v.strides), big: v.big && { ...v.big, perm: swap(v.big.perm) } };
}

