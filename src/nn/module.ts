// The nn module base: parameters held on the host under torch state_dict names, turned into graph
// constants (uploaded once at compile) when a module builds its part of a graph; loadStateDict,
// which checks a whole state dict before it assigns anything; and the seeded initialisation that
// lets examples run without weights.
import { ShapeError, errorName, fmtShape } from '../errors';
import type { Graph, Tensor } from '../graph/graph';
import { numel } from '../graph/shapes';

/** A parameter: its torch shape and its f32 values, row-major. */
export interface Parameter {
  readonly shape: number[];
  data: Float32Array;
}

/** What loadStateDict takes: readSafetensors' output, or plain arrays (then the length must fit). */
export type StateDictInput = Record<string, Float32Array | { shape?: number[]; data: Float32Array; dtype?: string }>;

/**
 * A tensor a state dict may hold or leave out, beyond the parameters (GPT-2's `lm_head.weight`,
 * tied to `wte`): checked like a parameter, then handed to `load` after the parameters are assigned.
 */
export interface OptionalEntry {
  shape: number[];
  /** The given values, or undefined when the state dict has none. */
  load(data: Float32Array | undefined): void;
}

export interface ShapeMismatch {
  name: string;
  expected: number[];
  got: number[];
}

/** A state dict that does not fit a module: every fault at once, and nothing was assigned. */
export class StateDictError extends ShapeError {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: ShapeMismatch[],
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

// Module initialisation draws from one seeded generator (mulberry32), as torch draws from its
// global one: the same construction order under the same seed gives the same weights.
let initState = 0;

/** Seeds the generator that initialises module parameters (torch.manual_seed for module init). */
export function setInitSeed(seed: number): void {
  initState = seed >>> 0;
}

function initRandom(): number {
  initState = (initState + 0x6d2b79f5) >>> 0;
  let t = initState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** U(-bound, bound), as torch.nn.init.uniform_. */
export function initUniform(n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * initRandom() - 1) * bound;
  return out;
}

/** N(0, std²) by Box-Muller, as torch.nn.init.normal_. */
export function initNormal(n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - initRandom(), v = initRandom();
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

/** torch.nn.init.xavier_uniform_ for a [fanOut, fanIn] weight. */
export const initXavier = (fanOut: number, fanIn: number): Float32Array =>
  initUniform(fanOut * fanIn, Math.sqrt(6 / (fanIn + fanOut)));

export const initFill = (n: number, v: number): Float32Array => new Float32Array(n).fill(v);

// One constant per graph, per data array, per block of it: a module used twice in a graph, or a
// weight tied to two uses (GPT-2's wte), is uploaded once.
const constants = new WeakMap<Graph, WeakMap<Float32Array, Map<string, Tensor>>>();

/** data[start, start + numel(shape)) as a graph constant of `shape`, made once per graph. */
export function constantOf(g: Graph, data: Float32Array, shape: number[], start = 0): Tensor {
  let perGraph = constants.get(g);
  if (!perGraph) constants.set(g, (perGraph = new WeakMap()));
  let perData = perGraph.get(data);
  if (!perData) perGraph.set(data, (perData = new Map()));
  const k = `${start}|${shape.join(',')}`;
  let t = perData.get(k);
  if (!t) {
    const n = numel(shape);
    perData.set(k, (t = g.constant(start === 0 && n === data.length ? data : data.subarray(start, start + n), shape)));
  }
  return t;
}

export abstract class Module {
  private readonly entries_ = new Map<string, Parameter | Module>();
  private readonly buffers_ = new Set<string>();

  /** Registers a parameter under its torch name; `init` holds its initial values. */
  protected addParameter(name: string, shape: number[], init: Float32Array): Parameter {
    if (this.entries_.has(name)) throw new ShapeError(`${this.constructor.name}: '${name}' is registered twice`);
    if (init.length !== numel(shape)) throw new ShapeError(`${this.constructor.name}: '${name}' init does not fill ${fmtShape(shape)}`);
    const p: Parameter = { shape: shape.slice(), data: init };
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
  stateDict(): Record<string, { shape: number[]; data: Float32Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, p] of this.namedParameters()) out[name] = { shape: p.shape.slice(), data: p.data };
    return out;
  }

  /** The module's own name for a name found in a state dict (an alias hook; identity by default). */
  stateDictName(name: string): string {
    return name;
  }

  loadStateDict(tensors: StateDictInput): void {
    loadStateDict(this, tensors);
  }

  /** The parameter as a graph constant, one per graph. */
  protected tensor(g: Graph, p: Parameter): Tensor {
    return constantOf(g, p.data, p.shape);
  }

  /** Rows [start, end) of a parameter (e.g. in_proj_weight's query block) as a graph constant. */
  protected rows(g: Graph, p: Parameter, start: number, end: number): Tensor {
    const inner = numel(p.shape.slice(1));
    return constantOf(g, p.data, [end - start, ...p.shape.slice(1)], start * inner);
  }
}

/** torch.nn.ModuleList: children named 0, 1, ... */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.addModule(String(i), m));
  }
  get length(): number {
    return this.items.length;
  }
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
  const optionalGiven = new Map<string, Float32Array>();
  const seen = new Map<string, string>();
  const unexpected: string[] = [], mismatched: ShapeMismatch[] = [], invalid: string[] = [];
  const assign: [Parameter, Float32Array][] = [];
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
    if (!(data instanceof Float32Array)) {
      invalid.push(`${given} is not a Float32Array or { shape, data: Float32Array }`);
      continue;
    }
    if (shape !== undefined && fmtShape(shape) !== fmtShape(p.shape)) {
      mismatched.push({ name: given, expected: p.shape.slice(), got: Array.isArray(shape) ? shape.slice() : [] });
    } else if (data.length !== numel(p.shape)) {
      if (shape === undefined) mismatched.push({ name: given, expected: p.shape.slice(), got: [data.length] });
      else invalid.push(`${given} has ${data.length} values for shape ${fmtShape(p.shape)}`);
    } else if (params.has(name)) {
      assign.push([p as Parameter, data]);
    } else {
      optionalGiven.set(name, data);
    }
  }
  const missing = [...params.keys()].filter((n) => !seen.has(n));
  if (missing.length || unexpected.length || mismatched.length || invalid.length) {
    throw new StateDictError(missing, unexpected, mismatched, invalid);
  }
  for (const [p, data] of assign) p.data = data;
  for (const [name, entry] of optional) entry.load(optionalGiven.get(name));
}
