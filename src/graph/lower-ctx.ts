// What lowerings build on: slots (inputs, constants, states, pooled temps, index flags), steps (one
// dispatch each: a kernel plan and the slots it binds), values as views into slots, and the LowerCtx
// that op modules (src/ops) append to. The planner drives it; nothing here knows an op by name.
import { GpuError, LimitError, fmtShape } from '../errors';
import { entryLayout } from '../runtime/reflect';
import { COPY, planElementwise } from '../kernels/elementwise';
import { isContiguous, type DeviceLimits, type KernelOverrides, type KernelPlan, type View } from '../kernels/kernel';
import { DTYPE_BYTES, type DType, type GraphIR, type GraphNode } from './ir';
import { contiguousStrides, numel } from './shapes';
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
  data?: Float32Array | Int32Array;
  /** For temps: the pool buffer it lives in. */
  pool?: number;
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
  /** Index operands computed in the graph: `${node}:${input}` -> the flag its kernel raises. */
  readonly indexFlags = new Map<string, { slot: number; flag: number }>();

  constructor(
    readonly graph: GraphIR,
    readonly limits: PlanLimits,
    readonly overrides: KernelOverrides | undefined,
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

  arg(n: GraphNode, i: number): Val {
    return this.vals[n.inputs[i]];
  }

  /** A slot for `shape`; `op` names the op in the limit error. */
  slot(kind: SlotKind, op: string, shape: number[], dtype: DType, extra: Partial<Slot> = {}): number {
    const bytes = Math.max(16, Math.ceil((DTYPE_BYTES[dtype] * numel(shape)) / 16) * 16);
    const max = Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
    if (bytes > max) {
      throw new LimitError(`${op}: ${dtype} ${fmtShape(shape)} needs a ${bytes}-byte buffer; the device binds at most ${max} bytes`);
    }
    this.slots.push({ id: this.slots.length, kind, bytes, dtype, ...extra });
    return this.slots.length - 1;
  }

  temp(n: GraphNode, shape = n.shape): Val {
    return contiguous(this.slot('temp', n.node.op, shape, n.dtype), shape);
  }

  /** Appends a dispatch; `writes` are the slots it writes (all of them bound in `bind`). */
  step(label: string, plan: KernelPlan, bind: Bind, writes: number[], count: number): Step {
    const s: Step = { label: `${label} (${plan.variant})`, plan, bind, writes, numel: count };
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

