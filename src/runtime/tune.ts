// Variant choice by measurement. On request (compile's `tune: true`), every kernel signature of a
// graph that the table lacks is timed over its candidates, each first checked for parity against the
// CPU reference, and the fastest goes in the table, which is saved to the runtime's store. Every
// compile then reads the table (no timing), checks each choice against the device's limits, and
// hands the planner a per-node choice. Nothing here throws out of compile: problems are warnings.
import type { GpuExecutable } from '../graph/executor';
import type { Executable } from '../graph/executable';
import type { Graph } from '../graph/graph';
import { liveNodes, type GraphIR, type GraphNode } from '../graph/ir';
import type { PlanLimits } from '../graph/lower-ctx';
import { fusedGraph, planGraph, type NodeChooser } from '../graph/planner';
import type { KernelOverrides } from '../kernels/kernel';
import {
  KERNEL_VARIANTS, candidatesOf, feedScale, kernelOf, oneOpGraph, overridesFor, parityProblem, randomFeeds, signatureOf, toleranceOf, tunedVariants,
  type Candidate,
} from './tune-graph';
import { emptyTable, entryProblem, tableProblem, type TuneAdapter, type TuneChoice, type TuneStore, type TuneTable } from './tune-table';

/** What the tuner needs of its runtime. */
export interface TunerHost {
  adapter: TuneAdapter;
  limits: PlanLimits;
  store: TuneStore;
  warn: (message: string) => void;
  /** Compiles a graph on the device with these overrides, timestamps on where the device has them, no tuning. */
  compile(graph: Graph, overrides: KernelOverrides): Promise<GpuExecutable>;
  /** The CPU reference's executable of a graph. */
  reference(graph: Graph): Promise<Executable>;
}

/** Counts of what tuning did on a runtime, for tests and logs. */
export interface TuneStats {
  /** Candidates timed (each after its parity check passed). */
  candidatesTimed: number;
  /** Signatures measured and written to the table. */
  signaturesTimed: number;
  /** Candidates dropped because they failed the parity check. */
  parityFailures: number;
}

/** compile's tuning mode: time what the table lacks, use the table only, or neither. */
export type TuneMode = 'measure' | 'reuse' | 'off';

/** Timed submissions per candidate, in turns with the others after one warm-up each; the median is kept. */
const SAMPLES = 5;
/** How much faster than the rule's choice a candidate must be to replace it (besides leaving the rule's spread). */
const MARGIN = 0.05;
/** The rule's own choice, timed beside the candidates; an entry naming it keeps the rule for that signature. */
const RULE: Candidate = { variant: 'rule', constants: {} };

/** Compile's overrides without user variants: what the rule plans with. */
const ruleOverrides = (o: KernelOverrides): KernelOverrides => ({
  variants: Object.fromEntries(Object.entries(o.variants ?? {}).filter(([, v]) => !String(v).startsWith('user:'))),
  constants: o.constants,
});
/** Aim for about this much work per timed submission, so short kernels are repeated in it. */
const TARGET_MS = 20;
const MAX_REPS = 16;
/** Operand bytes up to which a signature's candidates are kept compiled together and timed in turns. */
const IN_TURNS_BYTES = 64 << 20;

interface TunedNode {
  node: GraphNode;
  kind: string;
  signature: string;
}

export class Tuner {
  readonly stats: TuneStats = { candidatesTimed: 0, signaturesTimed: 0, parityFailures: 0 };
  /** undefined: not loaded yet; null: nothing usable stored. */
  private table: TuneTable | null | undefined;
  private readonly warned = new Set<string>();
  /**
   * Compiles may tune at once (Promise.all over two graphs). Measurements still run one at a time,
   * each after the last, since two timed at once would slow each other down; and a signature being
   * measured is awaited, not timed again.
   */
  private queue: Promise<unknown> = Promise.resolve();
  /** Saves of the table, one after another, so the last one written holds every entry. */
  private saving: Promise<unknown> = Promise.resolve();
  private readonly inFlight = new Map<string, Promise<TuneChoice | null>>();
  private loading?: Promise<TuneTable | null>;

  constructor(private readonly host: TunerHost) {}

  /**
   * The planner's per-node choice for `graph` compiled with `overrides`, measuring first when `mode`
   * is 'measure'. Undefined when there is nothing to choose (no table, or tuning off), so steps keep
   * their plain labels. Never throws: a failure is a warning and the rule decides.
   */
  async chooser(graph: Graph, overrides: KernelOverrides, mode: TuneMode): Promise<NodeChooser | undefined> {
    if (mode === 'off') return undefined;
    try {
      const table = await this.load();
      if (mode === 'reuse' && (!table || Object.keys(table.entries).length === 0)) return undefined;
      const fused = fusedGraph(graph, overrides);
      const nodes = this.tunable(fused, overrides);
      if (mode === 'measure') await this.measureMissing(nodes, fused, overrides);
      return this.choices(nodes, fused, overrides);
    } catch (e) {
      this.warn(`tune: ${e instanceof Error ? e.message : String(e)}; the built-in rule chooses every variant of this graph`);
      return undefined;
    }
  }

  private warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.host.warn(message);
  }

  /**
   * Loads the store's table once per runtime; one from elsewhere, or unreadable, is dropped with a
   * warning. Compiles that start together share the one load.
   */
  private load(): Promise<TuneTable | null> {
    if (this.table !== undefined) return Promise.resolve(this.table);
    return (this.loading ??= this.load_());
  }

  private async load_(): Promise<TuneTable | null> {
    const { store, adapter } = this.host;
    let loaded: unknown;
    try {
      loaded = await store.load();
    } catch (e) {
      this.warn(`tune: cannot read the table at ${store.name}: ${e instanceof Error ? e.message : String(e)}; ignoring it, the built-in rule chooses`);
      this.table = null;
      return null;
    }
    if (loaded === null || loaded === undefined) return (this.table = null);
    const problem = tableProblem(loaded, adapter);
    if (problem) {
      this.warn(`tune: ignoring the table at ${store.name}: ${problem}`);
      return (this.table = null);
    }
    return (this.table = loaded as TuneTable);
  }

  /** The live nodes whose kernel has variants to choose, unless compile forced that kernel's (or op's) variant or constants. */
  private tunable(graph: GraphIR, overrides: KernelOverrides): TunedNode[] {
    const live = liveNodes(graph);
    const out: TunedNode[] = [];
    for (const n of graph.nodes) {
      const kind = kernelOf(n);
      if (!live[n.id] || !kind || overrides.variants?.[kind] !== undefined || overrides.constants?.[kind] !== undefined) continue;
      // A user kernel forced for the node's op (keyed by op name: 'layerNorm') replaces the engine's.
      if (overrides.variants?.[n.node.op] !== undefined) continue;
      const applicable = tunedVariants(kind).filter((v) => this.planProblem(n, graph, overridesFor(overrides, kind, { variant: v, constants: {} })) === null);
      out.push({ node: n, kind, signature: signatureOf(kind, n, graph, applicable) });
    }
    return out;
  }

  /** Why node n cannot be planned alone with these overrides (a shape rule, a device limit), or null. */
  private planProblem(n: GraphNode, graph: GraphIR, o: KernelOverrides): string | null {
    const g = oneOpGraph(n, graph);
    if (!g) return 'an operand of a dtype the tuner cannot feed';
    try {
      planGraph(g, this.host.limits, o);
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  private async measureMissing(nodes: TunedNode[], graph: GraphIR, overrides: KernelOverrides): Promise<void> {
    // One table per runtime, shared with any compile tuning at the same time.
    const table = (this.table ??= emptyTable(this.host.adapter));
    // A signature whose candidates all failed is not measured again for another node of this graph.
    const done = new Set<string>();
    let added = 0;
    for (const t of nodes) {
      if (table.entries[t.signature] || done.has(t.signature)) continue;
      done.add(t.signature);
      if (await this.measureOnce(t, graph, overrides)) added++;
    }
    if (added === 0) return;
    const save = this.saving.then(() => this.host.store.save(table));
    this.saving = save.catch(() => undefined);
    try {
      await save;
    } catch (e) {
      this.warn(`tune: cannot save the table to ${this.host.store.name}: ${e instanceof Error ? e.message : String(e)}; it is kept for this runtime only`);
    }
  }

  /**
   * t's signature measured and entered in the table, after any measurement under way; a signature
   * already being measured (by a compile running at the same time) is awaited instead. Returns the
   * entry, or null when nothing passed.
   */
  private measureOnce(t: TunedNode, graph: GraphIR, overrides: KernelOverrides): Promise<TuneChoice | null> {
    const pending = this.inFlight.get(t.signature);
    if (pending) return pending;
    const table = this.table!;
    const run = this.queue.then(async () => {
      if (table.entries[t.signature]) return table.entries[t.signature];
      const choice = await this.measure(t, graph, overrides);
      if (choice) {
        table.entries[t.signature] = choice;
        this.stats.signaturesTimed++;
      }
      return choice;
    });
    this.queue = run.catch(() => undefined);
    this.inFlight.set(t.signature, run);
    void run.finally(() => this.inFlight.delete(t.signature)).catch(() => undefined);
    return run;
  }

  /**
   * Times node t's candidates in its one-op graph, the rule's own choice among them. Each candidate
   * that passes parity gets a warm-up, then all are timed in turns (SAMPLES rounds), so a change of
   * load on the machine falls on every candidate alike. A candidate replaces the rule only when its
   * median beats the rule's by MARGIN and lies below the rule's fastest sample (outside its spread);
   * else the entry says 'rule'. Null when nothing passed.
   */
  private async measure(t: TunedNode, graph: GraphIR, overrides: KernelOverrides): Promise<TuneChoice | null> {
    const g = oneOpGraph(t.node, graph);
    if (!g) return null;
    const feeds = randomFeeds(g, feedScale(t.node));
    const ref = await this.host.reference(g);
    let want: Float32Array;
    try {
      want = (await ref.run(feeds)).y;
    } finally {
      ref.destroy();
    }
    const tol = toleranceOf(t.kind, t.node, graph);
    const ready: { cand: Candidate; exe: GpuExecutable | null; reps: number; samples: number[]; gpu: boolean }[] = [];
    // Large operands (a language model's output layer) are timed one candidate at a time rather than
    // in turns, so that only one candidate's buffers exist at once.
    const inTurns = Object.values(feeds).reduce((n, f) => n + f.byteLength, 0) <= IN_TURNS_BYTES;
    const sample = async (r: (typeof ready)[number]) => {
      const s = await r.exe!.timeRepeated(r.reps);
      r.gpu &&= s.gpuMs !== null && s.gpuMs > 0;
      r.samples.push(r.gpu && s.gpuMs !== null ? s.gpuMs : s.wallMs);
    };
    try {
      for (const cand of [RULE, ...candidatesOf(t.kind, t.node, graph, this.host.limits)]) {
        const o = cand === RULE ? ruleOverrides(overrides) : overridesFor(overrides, t.kind, cand);
        if (this.planProblem(t.node, graph, o) !== null) continue; // not for this shape or device: not a candidate
        const exe = await this.checked(t, g, o, cand, feeds, want, tol);
        if (!exe) continue;
        this.stats.candidatesTimed++;
        const first = await exe.timeRepeated(1);
        const gpu = first.gpuMs !== null && first.gpuMs > 0;
        const per = gpu ? first.gpuMs! : first.wallMs;
        const r = { cand, exe: exe as GpuExecutable | null, gpu, samples: [] as number[], reps: Math.max(1, Math.min(MAX_REPS, Math.round(TARGET_MS / Math.max(per, 1e-3)))) };
        ready.push(r);
        if (inTurns) continue;
        for (let round = 0; round < SAMPLES; round++) await sample(r);
        exe.destroy();
        r.exe = null;
      }
      for (let round = 0; inTurns && round < SAMPLES; round++) for (const r of ready) await sample(r);
    } catch (e) {
      this.warn(`tune: timing ${t.signature} failed: ${e instanceof Error ? e.message : String(e)}; the rule chooses`);
      return null;
    } finally {
      for (const r of ready) r.exe?.destroy();
    }
    if (ready.length === 0) return null;
    const scored = ready.map((r) => ({ ...r, ms: median(r.samples), min: Math.min(...r.samples) }));
    const rule = scored.find((r) => r.cand === RULE);
    let best = scored.reduce((a, b) => (b.ms < a.ms ? b : a));
    if (rule && best !== rule && !(best.ms < rule.ms * (1 - MARGIN) && best.ms < rule.min)) best = rule;
    return { variant: best.cand.variant, constants: { ...best.cand.constants }, ms: Number(best.ms.toPrecision(4)), timing: best.gpu ? 'gpu' : 'wall' };
  }

  /** Candidate `cand` compiled and checked against the reference; null (with a warning) when it fails. */
  private async checked(
    t: TunedNode, g: Graph, o: KernelOverrides, cand: Candidate, feeds: ReturnType<typeof randomFeeds>, want: Float32Array,
    tol: { atol: number; rtol: number },
  ): Promise<GpuExecutable | null> {
    const name = `${cand.variant}${Object.keys(cand.constants).length ? ` ${JSON.stringify(cand.constants)}` : ''}`;
    let exe: GpuExecutable;
    try {
      exe = await this.host.compile(g, o);
    } catch (e) {
      this.warn(`tune: ${t.kind} candidate ${name} did not compile for ${t.signature}: ${e instanceof Error ? e.message : String(e)}; dropped`);
      return null;
    }
    try {
      const bad = parityProblem((await exe.run(feeds)).y, want, tol);
      if (!bad) return exe;
      this.stats.parityFailures++;
      this.warn(`tune: ${t.kind} candidate ${name} fails parity on ${t.signature}: ${bad}; dropped`);
    } catch (e) {
      this.warn(`tune: ${t.kind} candidate ${name} failed to run for ${t.signature}: ${e instanceof Error ? e.message : String(e)}; dropped`);
    }
    exe.destroy();
    return null;
  }

  /** Each tunable node's overrides from the table, checked; a bad or misfit entry leaves the node to the rule. */
  private choices(nodes: TunedNode[], graph: GraphIR, overrides: KernelOverrides): NodeChooser | undefined {
    const table = this.table;
    if (!table) return undefined;
    const byNode = new Map<number, { overrides?: KernelOverrides; origin: string }>();
    for (const t of nodes) {
      const e = table.entries[t.signature];
      if (!e) {
        byNode.set(t.node.id, { origin: 'rule' });
        continue;
      }
      const bad = entryProblem(e) ?? (e.variant === RULE.variant || KERNEL_VARIANTS[t.kind].includes(e.variant) ? null : `unknown ${t.kind} variant '${e.variant}'`);
      if (bad) {
        this.warn(`tune: the table at ${this.host.store.name} has a bad entry for ${t.signature}: ${bad}; the rule chooses`);
        byNode.set(t.node.id, { origin: 'rule' });
        continue;
      }
      if (e.variant === RULE.variant) {
        // Measured, and nothing beat the rule's own choice.
        byNode.set(t.node.id, { origin: 'tuned' });
        continue;
      }
      const o = overridesFor(overrides, t.kind, e);
      const misfit = this.planProblem(t.node, graph, o);
      if (misfit) {
        this.warn(`tune: the stored choice ${e.variant} ${JSON.stringify(e.constants)} for ${t.signature} does not fit this device or shape (${misfit}); the rule chooses`);
        byNode.set(t.node.id, { origin: 'rule' });
        continue;
      }
      byNode.set(t.node.id, { overrides: o, origin: 'tuned' });
    }
    return (n) => byNode.get(n.id);
  }
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
