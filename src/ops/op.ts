// What an op module defines for each node kind it owns: its lowering to kernel steps, its float64
// CPU reference, and the index operands whose values must be range-checked. The planner and the
// CPU interpreter both iterate one table of these (registry.ts); shape rules are the op module's
// builder functions, which Graph's methods call.
import type { Feeds } from '../graph/executable';
import type { GraphIR, GraphNode, NodeKind, NodeOf } from '../graph/ir';
import type { LowerCtx, Val } from '../graph/lower-ctx';
import type { Value } from '../reference/core';

/**
 * An operand that indexes something (embedding ids, gather indices, a state position). A fed one is
 * checked on the CPU before dispatch, a constant one at compile; one computed in the graph is
 * allowed only with `computed`, and is then checked by its kernel (LowerCtx.indexFlag), which reads
 * zeros out of range and makes the run reject.
 */
export interface IndexOperand {
  input: number;
  what: string;
  min: number;
  max: number;
  computed?: boolean;
}

/** What a CPU reference may read beyond its arguments. */
export interface RefEnv {
  /** The graph being run (operand dtypes, shapes). */
  graph: GraphIR;
  feeds: Feeds;
  /** g.state() values, kept between runs. */
  states: Map<string, Value>;
  /** Every output of multi-output nodes, by node id. */
  tuples: Map<number, Value[]>;
}

export interface OpDef<K extends NodeKind> {
  /** Appends node n's dispatches; returns its value, or every output's for a multi-output op. */
  lower(ctx: LowerCtx, n: GraphNode<NodeOf<K>>): Val | Val[];
  /** The float64 CPU reference: the engine's definition of the right answer. */
  reference(n: GraphNode<NodeOf<K>>, args: Value[], env: RefEnv): Value | Value[];
  /** Index operands of node n, if it has any. */
  indices?(n: GraphNode<NodeOf<K>>, graph: GraphIR): IndexOperand[];
  /**
   * The binding name of each of node n's inputs in a user kernel (rt.kernels.register); an op
   * without it takes no user variants.
   */
  operands?(n: GraphNode<NodeOf<K>>): string[];
}

export type OpTable<K extends NodeKind> = { [P in K]: OpDef<P> };
