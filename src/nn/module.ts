// The nn module base: parameters held on the host under torch state_dict names, turned into graph
// constants (uploaded once at compile) when a module builds its part of a graph; and loadStateDict,
// which checks a whole state dict before it assigns anything. Seeded initialisation: nn/init.ts.
import { ShapeError, errorName, fmtShape } from '../errors';
import type { Graph, Tensor } from '../graph/graph';
import { numel } from '../graph/shapes';
import { halfToF32, toHalf } from '../graph/half';
import { isHalf, type HalfDType } from '../graph/ir';

/** A parameter: its torch shape and its f32 values, row-major. */
export interface Parameter {
  /** The torch shape, e.g. [out, in] for a Linear's weight. */
  readonly shape: number[];
  /**
   * The values, numel(shape) f32s, row-major. loadStateDict replaces the array (it keeps the given
   * one); graphs built afterwards use the new values. For a parameter held in 16 bits (`half`),
   * reading gives a widened copy, and assigning f32 values makes it an f32 parameter again.
   */
  data: Float32Array;
  /** Set while the parameter is held in 16 bits: the dtype and the bit patterns graphs upload. */
  half?: HalfBits;
  /**
   * The parameter is a weight that may be held in 16 bits (read by linear, matmul or embedding);
   * biases and norm parameters are not, and stay f32 whatever a state dict holds.
   */
  weight16?: boolean;
  /** The 16-bit dtype a module option asked for: f32 values loaded later are rounded to it. */
  weightDtype?: HalfDType;
}

/** A weight held in 16 bits: f16 or bf16 patterns (readSafetensors' keep16 data). */
export interface HalfBits {
  /** 'f16' (IEEE binary16) or 'bf16' (the upper half of an f32). */
  dtype: HalfDType;
  /** The bit patterns, row-major. */
  bits: Uint16Array;
}

/** A parameter whose `data` widens its 16-bit patterns on demand (see Parameter). */
class Param implements Parameter {
  private f32?: Float32Array;
  half?: HalfBits;
  weight16?: boolean;
  weightDtype?: HalfDType;
  constructor(readonly shape: number[], data: Float32Array) {
    this.f32 = data;
  }
  get data(): Float32Array {
    return this.half ? halfToF32(this.half.bits, this.half.dtype) : this.f32!;
  }
  set data(v: Float32Array) {
    this.f32 = v;
    this.half = undefined;
  }
}

/** Holds `p` in 16 bits, or (dtype f32) as f32 again; a parameter that is not a weight stays f32. */
export function setParameterDtype(p: Parameter, dtype: 'f32' | HalfDType): void {
  if (dtype === 'f32') {
    if (p.half) p.data = p.data;
    p.weightDtype = undefined;
    return;
  }
  if (!p.weight16) return;
  p.weightDtype = dtype;
  if (p.half?.dtype === dtype) return;
  holdHalf(p, { dtype, bits: toHalf(p.data, dtype) });
}

/** `p` holds `half` from now on; a Param lets go of its f32 array. */
function holdHalf(p: Parameter, half: HalfBits): void {
  if (p instanceof Param) p.data = EMPTY;
  p.half = half;
}
const EMPTY = new Float32Array(0);

/** What loadStateDict takes: readSafetensors' output, or plain arrays (then the length must fit). */
export type StateDictInput = Record<string, Float32Array | {
  /** If given, it must equal the parameter's shape. */
  shape?: number[];
  /**
   * The values, row-major; without a shape, their count must fit the parameter. A Uint16Array holds
   * 16-bit patterns (readSafetensors' keep16 output) and needs dtype F16 or BF16: a weight keeps them
   * (held in 16 bits), any other parameter (a bias, a norm's) widens them to f32.
   */
  data: Float32Array | Uint16Array;
  /** readSafetensors' stored dtype: ignored for f32 data; 'F16' / 'BF16' (or 'f16' / 'bf16') for a Uint16Array. */
  dtype?: string;
}>;

/**
 * A tensor a state dict may hold or leave out, beyond the parameters (GPT-2's `lm_head.weight`,
 * tied to `wte`): checked like a parameter, then handed to `load` after the parameters are assigned.
 */
export interface OptionalEntry {
  /** The shape a given tensor must have. */
  shape: number[];
  /** The given values (f32, or `half`: 16-bit patterns), or undefined when the state dict has none. */
  load(data: Float32Array | undefined, half?: HalfBits): void;
}

/** One state-dict entry whose shape does not fit the module's parameter. */
export interface ShapeMismatch {
  /** The name as given in the state dict. */
  name: string;
  /** The parameter's shape. */
  expected: number[];
  /** The given shape (for a bare Float32Array, its length). */
  got: number[];
}

/** A state dict that does not fit a module: every fault at once, and nothing was assigned. */
export class StateDictError extends ShapeError {
  /** Thrown by loadStateDict, which has checked the whole state dict; the message lists every fault. */
  constructor(
    /** Parameters the state dict lacks, by full name. */
    readonly missing: string[],
    /** Names the module has no parameter (or ignorable buffer) for. */
    readonly unexpected: string[],
    /** Entries whose shape or length does not fit their parameter. */
    readonly mismatched: ShapeMismatch[],
    /** Entries that are not tensors, whose values do not fill their shape, or that name one parameter twice. */
    readonly invalid: string[],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length}: ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length}: ${unexpected.join(', ')}`);
    if (mismatched.length) {
      parts.push(`wrong shape ${mismatched.length}: ${mismatched.map((m) => `${m.name} is ${fmtShape(m.got)}, expected ${fmtShape(m.expected)}`).join(', ')}`);
    }
    if (invalid.length) parts.push(`invalid ${invalid.length}: ${invalid.join(', ')}`);
    super(`loadStateDict: nothing loaded; ${parts.join('; ')}`);
  }
}
errorName(StateDictError, 'StateDictError');

// One constant per graph, per data array, per block of it: a module used twice in a graph, or a
// weight tied to two uses (GPT-2's wte), is uploaded once.
const constants = new WeakMap<Graph, WeakMap<Float32Array | Uint16Array, Map<string, Tensor>>>();

/**
 * data[start, start + numel(shape)) as a graph constant of `shape`, made once per graph; a
 * Uint16Array with `dtype` f16 or bf16 makes a 16-bit weight constant.
 */
export function constantOf(g: Graph, data: Float32Array, shape: number[], start?: number): Tensor;
export function constantOf(g: Graph, data: Uint16Array, shape: number[], start: number, dtype: HalfDType): Tensor;
export function constantOf(g: Graph, data: Float32Array | Uint16Array, shape: number[], start = 0, dtype?: HalfDType): Tensor {
  let perGraph = constants.get(g);
  if (!perGraph) constants.set(g, (perGraph = new WeakMap()));
  let perData = perGraph.get(data);
  if (!perData) perGraph.set(data, (perData = new Map()));
  const k = `${start}|${shape.join(',')}`;
  let t = perData.get(k);
  if (!t) {
    const n = numel(shape);
    const part = start === 0 && n === data.length ? data : data.subarray(start, start + n);
    perData.set(k, (t = part instanceof Uint16Array ? g.constant(part, shape, dtype!) : g.constant(part, shape)));
  }
  return t;
}

/**
 * The base of the nn modules, as torch.nn.Module: parameters and submodules registered under torch
 * `state_dict` names, held on the host as f32 and turned into graph constants (uploaded once per
 * runtime at compile) when the module builds its part of a graph. New parameters are initialised as
 * torch does, from a generator seeded by {@link setInitSeed}.
 */
export abstract class Module {
  private readonly entries_ = new Map<string, Parameter | Module>();
  private readonly buffers_ = new Set<string>();

  /**
   * Registers a parameter under its torch name; `init` holds its initial values. `weight16`: it is a
   * weight that may be held in 16 bits (setWeightDtype, or 16-bit values given to loadStateDict).
   */
  protected addParameter(name: string, shape: number[], init: Float32Array, opts: { weight16?: boolean } = {}): Parameter {
    if (this.entries_.has(name)) throw new ShapeError(`${this.constructor.name}: '${name}' is registered twice`);
    if (init.length !== numel(shape)) throw new ShapeError(`${this.constructor.name}: '${name}' init does not fill ${fmtShape(shape)}`);
    const p: Parameter = new Param(shape.slice(), init);
    if (opts.weight16) p.weight16 = true;
    this.entries_.set(name, p);
    return p;
  }

  /** Registers a submodule under its torch attribute name (its parameters are `name.*`). */
  protected addModule<M extends Module>(name: string, m: M): M {
    if (this.entries_.has(name)) throw new ShapeError(`${this.constructor.name}: '${name}' is registered twice`);
    this.entries_.set(name, m);
    return m;
  }

  /** A buffer torch files may hold under `name` that this module does not need: accepted, ignored. */
  protected ignoreBuffer(name: string): void {
    this.buffers_.add(name);
  }

  /** Every parameter under its full dotted name, in registration order (torch's state_dict order). */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [name, e] of this.entries_) {
      if (e instanceof Module) out.push(...e.namedParameters(`${prefix}${name}.`));
      else out.push([prefix + name, e]);
    }
    return out;
  }

  /** Tensors a state dict may hold or leave out, by full name (none unless a module adds its own). */
  optionalEntries(prefix = ''): Map<string, OptionalEntry> {
    const out = new Map<string, OptionalEntry>();
    for (const [name, e] of this.entries_) {
      if (e instanceof Module) for (const [k, v] of e.optionalEntries(`${prefix}${name}.`)) out.set(k, v);
    }
    return out;
  }

  /** Full names of the buffers this module accepts and ignores when loading. */
  ignoredBuffers(prefix = ''): string[] {
    const out = [...this.buffers_].map((b) => prefix + b);
    for (const [name, e] of this.entries_) if (e instanceof Module) out.push(...e.ignoredBuffers(`${prefix}${name}.`));
    return out;
  }

  /** The parameters as a record (the arrays themselves, not copies); writeSafetensors takes it. */
  stateDict(): Record<string, {
    /** The parameter's torch shape (a copy). */
    shape: number[];
    /** The parameter's values: the module's own array, not a copy. */
    data: Float32Array;
  }> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, p] of this.namedParameters()) out[name] = { shape: p.shape.slice(), data: p.data };
    return out;
  }

  /** The module's own name for a name found in a state dict (an alias hook; identity by default). */
  stateDictName(name: string): string {
    return name;
  }

  /**
   * Loads parameters under torch names: checks every name and shape first, then assigns, or throws
   * a StateDictError listing every fault and assigns nothing. See the function {@link loadStateDict}.
   */
  loadStateDict(tensors: StateDictInput): void {
    loadStateDict(this, tensors);
  }

  /** The parameter as a graph constant, one per graph (16-bit while the parameter is held so). */
  protected tensor(g: Graph, p: Parameter): Tensor {
    return p.half ? constantOf(g, p.half.bits, p.shape, 0, p.half.dtype) : constantOf(g, p.data, p.shape);
  }

  /** Rows [start, end) of a parameter (e.g. in_proj_weight's query block) as a graph constant. */
  protected rows(g: Graph, p: Parameter, start: number, end: number): Tensor {
    const inner = numel(p.shape.slice(1));
    const shape = [end - start, ...p.shape.slice(1)];
    return p.half ? constantOf(g, p.half.bits, shape, start * inner, p.half.dtype) : constantOf(g, p.data, shape, start * inner);
  }

  /**
   * Holds every weight of this module and its submodules (the weights of Linear, Embedding and
   * GPT-2's Conv1D: what linear, matmul and embedding read) in `dtype`: f32 values are rounded to
   * 16 bits (to nearest, ties to even) now and when loaded later; 'f32' widens them back. Biases and
   * norm parameters stay f32. Graphs built afterwards upload the 16-bit weights (half the bytes).
   */
  setWeightDtype(dtype: 'f32' | HalfDType): this {
    if (dtype !== 'f32' && !isHalf(dtype)) throw new ShapeError(`${this.constructor.name}: weightDtype must be 'f32', 'f16' or 'bf16', got ${JSON.stringify(dtype)}`);
    for (const [, p] of this.namedParameters()) setParameterDtype(p, dtype);
    return this;
  }
}

/** torch.nn.ModuleList: children named 0, 1, ... */
export class ModuleList<M extends Module> extends Module {
  /** The children, in order; child i's parameters are named `i.*`. */
  readonly items: M[];
  /** Registers each of `items` under its index. */
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.addModule(String(i), m));
  }
  /** How many children. */
  get length(): number {
    return this.items.length;
  }
  /** Child `i` (undefined outside 0..length-1). */
  at(i: number): M {
    return this.items[i];
  }
}

/**
 * Loads a state dict into a module under torch names. Every name and shape is checked first; any
 * fault (missing, unexpected or wrongly shaped names, all of them listed) throws a StateDictError
 * and leaves the module as it was. Buffers the module declares ignorable (GPT-2's attn.bias) are
 * accepted and skipped, and optional entries (GPT-2's lm_head.weight) are checked like parameters,
 * then handed to the module. The module keeps the given Float32Arrays, not copies.
 */
export function loadStateDict(module: Module, tensors: StateDictInput): void {
  if (typeof tensors !== 'object' || tensors === null) throw new ShapeError('loadStateDict: tensors must be a record of names to tensors');
  const optional = module.optionalEntries();
  const params = new Map(module.namedParameters().filter(([n]) => !optional.has(n)));
  const ignored = new Set(module.ignoredBuffers());
  const optionalGiven = new Map<string, Float32Array | HalfBits>();
  const seen = new Map<string, string>();
  const unexpected: string[] = [], mismatched: ShapeMismatch[] = [], invalid: string[] = [];
  const assign: [Parameter, Float32Array | HalfBits][] = [];
  for (const [given, t] of Object.entries(tensors)) {
    const name = module.stateDictName(given);
    const twin = seen.get(name);
    if (twin !== undefined) {
      invalid.push(`${given} and ${twin} both name ${name}`);
      continue;
    }
    seen.set(name, given);
    const p = params.get(name) ?? optional.get(name);
    if (!p) {
      if (!ignored.has(name)) unexpected.push(given);
      continue;
    }
    const data = t instanceof Float32Array ? t : t?.data;
    const shape = t instanceof Float32Array ? undefined : t?.shape;
    let half: HalfBits | undefined;
    if (data instanceof Uint16Array) {
      const dt = String((t as { dtype?: string }).dtype ?? '').toLowerCase();
      if (!isHalf(dt)) {
        invalid.push(`${given} holds a Uint16Array but its dtype is ${JSON.stringify((t as { dtype?: string }).dtype)}, not F16 or BF16`);
        continue;
      }
      half = { dtype: dt, bits: data };
    } else if (!(data instanceof Float32Array)) {
      invalid.push(`${given} is not a Float32Array or { shape, data: Float32Array } (or 16-bit { shape, data: Uint16Array, dtype: 'F16' | 'BF16' })`);
      continue;
    }
    if (shape !== undefined && fmtShape(shape) !== fmtShape(p.shape)) {
      mismatched.push({ name: given, expected: p.shape.slice(), got: Array.isArray(shape) ? shape.slice() : [] });
    } else if (data.length !== numel(p.shape)) {
      if (shape === undefined) mismatched.push({ name: given, expected: p.shape.slice(), got: [data.length] });
      else invalid.push(`${given} has ${data.length} values for shape ${fmtShape(p.shape)}`);
    } else if (params.has(name)) {
      assign.push([p as Parameter, half ?? (data as Float32Array)]);
    } else {
      optionalGiven.set(name, half ?? (data as Float32Array));
    }
  }
  const missing = [...params.keys()].filter((n) => !seen.has(n));
  if (missing.length || unexpected.length || mismatched.length || invalid.length) {
    throw new StateDictError(missing, unexpected, mismatched, invalid);
  }
  for (const [p, data] of assign) assignParameter(p, data);
  for (const [name, entry] of optional) {
    const v = optionalGiven.get(name);
    if (v instanceof Float32Array || v === undefined) entry.load(v);
    else entry.load(undefined, v);
  }
}

/**
 * Gives `p` loaded values: 16-bit patterns stay 16-bit in a weight and are widened elsewhere; f32
 * values are kept, or rounded to the 16-bit dtype a module option asked for.
 */
export function assignParameter(p: Parameter, v: Float32Array | HalfBits): void {
  if (v instanceof Float32Array) {
    p.data = v;
    p.half = undefined;
    if (p.weightDtype) holdHalf(p, { dtype: p.weightDtype, bits: toHalf(v, p.weightDtype) });
  } else if (p.weight16) {
    holdHalf(p, v);
  } else {
    p.data = halfToF32(v.bits, v.dtype);
  }
}

/**
 * A parameter made outside addParameter (GPT-2's untied head): `v` f32 values or 16-bit patterns,
 * `weight16` as addParameter's, rounded to `weightDtype` when given.
 */
export function makeParameter(shape: number[], v: Float32Array | HalfBits, weight16: boolean, weightDtype?: HalfDType): Parameter {
  const p: Parameter = new Param(shape.slice(), EMPTY);
  p.weight16 = weight16;
  p.weightDtype = weight16 ? weightDtype : undefined;
  assignParameter(p, v);
  return p;
}
