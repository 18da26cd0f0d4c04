// What tuning knows of ops: which nodes have kernel variants to choose from, each op's candidates
// (variant and tile constants), its parity tolerance, the shape class and signature of a node, and
// the one-op graph a node is timed in.
import { ATTENTION_VARIANTS } from '../kernels/attention';
import type { Constants, KernelOverrides } from '../kernels/kernel';
import { LAYERNORM_VARIANTS } from '../kernels/layernorm';
import { MATMUL_VARIANTS } from '../kernels/matmul';
import { RNN_VARIANTS } from '../kernels/rnn';
import { SOFTMAX_VARIANTS } from '../kernels/softmax';
import { Graph } from '../graph/graph';
import { cellOp, type GraphIR, type GraphNode, type Tensor } from '../graph/ir';
import type { Feeds } from '../graph/executable';

/** The kernel a node's variant is chosen for (the key of compile's `variants`), or undefined. */
export function kernelOf(n: GraphNode): string | undefined {
  const { node } = n;
  switch (node.op) {
    case 'matmul':
    case 'linear':
      return 'matmul';
    case 'rnn':
      return cellOp(node.cell);
    case 'attention':
      return 'attention';
    case 'softmax':
      return 'softmax';
    case 'layerNorm':
      return 'layernorm';
    default:
      return undefined;
  }
}

/** Every variant each tuned kernel has (a table entry naming another is ignored). */
export const KERNEL_VARIANTS: Record<string, readonly string[]> = {
  matmul: MATMUL_VARIANTS, lstm: RNN_VARIANTS, gru: RNN_VARIANTS, rnn: RNN_VARIANTS,
  attention: ATTENTION_VARIANTS, softmax: SOFTMAX_VARIANTS, layernorm: LAYERNORM_VARIANTS,
};

/** The variants tuning considers (matmul's naive kernel is a reference point, never faster). */
const TUNED_VARIANTS: Record<string, readonly string[]> = { ...KERNEL_VARIANTS, matmul: ['register', 'tiled', 'tiled-vec4'] };

export interface Candidate {
  variant: string;
  constants: Constants;
}

/** A small list per kernel: each variant, with a couple of tile sizes where the tile is what matters. */
export function candidatesOf(kind: string, n: GraphNode, graph: GraphIR, limits: { laneGathers?: boolean } = {}): Candidate[] {
  const c = (variant: string, constants: Constants = {}): Candidate => ({ variant, constants });
  switch (kind) {
    case 'matmul': {
      const tile = (t: number) => ({ TILE_M: t, TILE_N: t, TILE_K: 16 });
      // register: the rule's tile, and the 4 x 4 and 16 x 16 ends of its range, and where loads are
      // gathered lane by lane (SwiftShader) 32 x 16, the rule's from M = 128, for the rows below.
      return [
        c('register'), c('register', { RM: 4, RN: 4, WG_NAIVE: 64 }), c('register', { RM: 16, RN: 16, WG_NAIVE: 16 }),
        ...(limits.laneGathers ? [c('register', { RM: 32, RN: 16, WG_NAIVE: 8 })] : []),
        c('tiled', tile(32)), c('tiled', tile(64)), c('tiled-vec4', tile(32)), c('tiled-vec4', tile(64)),
      ];
    }
    case 'lstm':
    case 'gru':
    case 'rnn': {
      const x = graph.nodes[n.inputs[0]].shape;
      const B = n.node.op === 'rnn' && n.node.batchFirst ? x[0] : x[1];
      const bidirectional = n.node.op === 'rnn' && n.node.bidirectional;
      // The widest tiles (16 rows, 4 units a thread) only where loads are gathered lane by lane
      // (SwiftShader): elsewhere they run no faster, and lavapipe's LLVM took 50 s to compile one.
      const wide = limits.laneGathers === true;
      const bts = [...new Set([Math.min(B, 4), Math.min(B, 8), ...(wide ? [Math.min(B, 16)] : [])])];
      return [
        c('persistent'), c('step'),
        ...bts.map((bt) => c('tiled', { BT: bt })), ...bts.map((bt) => c('tiled-vec4', { BT: bt })),
        // The register tile's width: one unit a thread, as a GPU's rule, and four, as SwiftShader's.
        ...(wide ? [1, 4].map((ut) => c('tiled-vec4', { BT: Math.min(B, 16), UT: ut })) : []),
        // Two directions: the other side of the rule's split (ONE_DIR: a dispatch per direction on
        // SwiftShader, one for both elsewhere).
        ...(bidirectional ? bts.map((bt) => c('tiled-vec4', { BT: bt, ONE_DIR: !wide })) : []),
      ];
    }
    case 'softmax':
    case 'layernorm':
      return [c('row', { WG: 8 }), c('row', { WG: 64 }), c('workgroup')];
    default:
      return TUNED_VARIANTS[kind].map((v) => c(v));
  }
}

/** The variants tried for the signature's variant set. */
export const tunedVariants = (kind: string): readonly string[] => TUNED_VARIANTS[kind];

/** Compile's overrides with kernel `kind` forced to a candidate (user variants 'user:...' left out). */
export function overridesFor(base: KernelOverrides | undefined, kind: string, cand: Candidate): KernelOverrides {
  const variants = Object.fromEntries(Object.entries(base?.variants ?? {}).filter(([, v]) => !String(v).startsWith('user:')));
  return { variants: { ...variants, [kind]: cand.variant }, constants: { ...base?.constants, [kind]: { ...cand.constants } } };
}

/** The parity tolerance of a tuned kernel on the one-op graph's inputs (uniform in [-1, 1]). */
export function toleranceOf(kind: string, n: GraphNode, graph: GraphIR): { atol: number; rtol: number } {
  const shape = (i: number) => graph.nodes[n.inputs[i]].shape;
  switch (kind) {
    case 'matmul': {
      // f32 sum of K products of |x| <= 1: about sqrt(K) ulp typical, K ulp worst; 1e-6 * K sits between.
      const K = n.node.op === 'linear' ? shape(1).at(-1)! : shape(0).at(-1)!;
      return { atol: 1e-6 * (K + 2), rtol: 1e-5 };
    }
    case 'attention': {
      // The scores are sums of D products, then an online softmax and a sum of Tk products.
      const S = shape(0).at(-1)! + shape(1).at(-2)!;
      return { atol: 2e-6 + 1e-7 * S, rtol: 1e-5 };
    }
    case 'softmax':
      return { atol: 1e-6, rtol: 1e-4 }; // WGSL exp is 3 + 2|x| ulp; the sums are positive
    case 'layernorm':
      return { atol: 2e-5, rtol: 1e-4 }; // f32 mean and variance sums over the normalized dims
    default: {
      // Recurrences: gate sums over I + H terms per step, squashed by sigmoid and tanh, so errors stay
      // near sqrt(I + H) ulp per layer; the parity suite's bound with its 1e-6 floor raised to 1e-5.
      const { numLayers, hiddenSize } = n.node as { numLayers: number; hiddenSize: number };
      return { atol: 2e-7 * Math.sqrt(shape(0).at(-1)! + hiddenSize) * numLayers + 1e-5, rtol: 1e-4 };
    }
  }
}

/** A dim's bucket in the shape class: 1 stays 1, anything else rounds up to a power of two. */
export const bucket = (d: number): number => (d <= 1 ? d : 2 ** Math.ceil(Math.log2(d)));

const cls = (shape: number[]) => `[${shape.map(bucket).join(',')}]`;

/**
 * The signature of node n: its kernel, dtype, shape class (each operand dim bucketed; a 't' marks a
 * transposed operand), the attributes that change the kernel, and the variants that can run it.
 */
export function signatureOf(kind: string, n: GraphNode, graph: GraphIR, applicable: readonly string[]): string {
  const { node } = n;
  const operand = (id: number) => {
    const m = graph.nodes[id];
    return `${cls(m.shape)}${m.node.op === 'transpose' ? 't' : ''}`;
  };
  let shapes: string, attrs: string;
  if (node.op === 'rnn') {
    shapes = operand(n.inputs[0]);
    attrs = `H${bucket(node.hiddenSize)} L${node.numLayers} D${node.bidirectional ? 2 : 1}${node.batchFirst ? ' bf' : ''}${node.hasH0 ? ' h0' : ''}`;
  } else {
    shapes = n.inputs.map(operand).join('x');
    if (node.op === 'softmax') attrs = `dim${node.dim - n.shape.length}`;
    else if (node.op === 'layerNorm') attrs = `n${node.normalized}`;
    else if (node.op === 'attention') attrs = `${node.mask}${node.isCausal ? ' causal' : ''}`;
    else if (node.op === 'matmul' || node.op === 'linear') attrs = node.op;
    else attrs = '';
  }
  return `${kind} ${n.dtype} ${shapes} ${attrs} {${applicable.join(',')}}`;
}

/**
 * Node n alone in a graph of its own, its operands fed as inputs (views, such as a transposed
 * weight, rebuilt on them), its epilogue (activation, residual) as the ops the fusion pass folds
 * back in, so the CPU reference can run it. Null when an operand has a dtype that cannot be fed.
 */
export function oneOpGraph(n: GraphNode, graph: GraphIR): Graph | null {
  const g = new Graph();
  const operands: Tensor[] = [];
  for (const [i, id] of n.inputs.entries()) {
    const chain: GraphNode[] = [];
    let m = graph.nodes[id];
    while (m.node.op === 'reshape' || m.node.op === 'transpose') {
      chain.push(m);
      m = graph.nodes[m.inputs[0]];
    }
    if (m.dtype !== 'f32' && m.dtype !== 'i32' && m.dtype !== 'bool') return null;
    let t = g.input(`in${i}`, m.shape, m.dtype);
    for (const v of chain.reverse()) t = g.addNode(v.node, [t.id], v.shape, v.dtype);
    operands.push(t);
  }
  let y: Tensor;
  const { node } = n;
  if (node.op === 'matmul' || node.op === 'linear') {
    const ins = node.residual ? operands.slice(0, -1) : operands;
    y = g.addNode({ ...node, act: 'none', residual: false }, ins.map((t) => t.id), n.shape, n.dtype);
    if (node.act !== 'none') y = g[node.act](y);
    if (node.residual) y = g.add(y, operands[operands.length - 1]);
  } else y = g.addNode(node, operands.map((t) => t.id), n.shape, n.dtype);
  g.output('y', y);
  return g;
}

/**
 * How far node n's operands reach in its one-op graph's random feeds (input `in<i>` is operand i):
 * 1, except a recurrence's operands after x (weights, biases, h0, c0), which get torch's own
 * initialization range, 1/√H. With weights in [-1, 1] a recurrence of H = 128 is chaotic: f32
 * rounding grows past any tolerance within a few steps, whatever the kernel (a GRU of B = 64,
 * H = 128 differed from the float64 reference by 2.4e-5 at step 6 with the rule's own tile).
 */
export function feedScale(n: GraphNode): (input: string) => number {
  const { node } = n;
  if (node.op !== 'rnn') return () => 1;
  const r = 1 / Math.sqrt(node.hiddenSize);
  return (input) => (input === 'in0' ? 1 : r);
}

/** Random feeds for a one-op graph: floats uniform in [-1, 1] times scale (seeded), masks all true, ids 0. */
export function randomFeeds(g: Graph, scale: (input: string) => number = () => 1, seed = 12345): Feeds {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
  const feeds: Feeds = {};
  for (const [name, id] of g.inputs) {
    const { shape, dtype } = g.nodes[id];
    const len = shape.reduce((a, b) => a * b, 1);
    const k = scale(name);
    if (dtype === 'f32') feeds[name] = Float32Array.from({ length: len }, () => k * next());
    else if (dtype === 'bool') feeds[name] = new Uint8Array(len).fill(1);
    else feeds[name] = new Int32Array(len);
  }
  return feeds;
}

/** The first element out of tolerance, described, or null. NaN matches NaN, an infinity the same one. */
export function parityProblem(got: Float32Array, want: Float32Array, tol: { atol: number; rtol: number }): string | null {
  if (got.length !== want.length) return `${got.length} values, want ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w)) continue;
    return `element ${i}: ${g}, want ${w} (atol ${tol.atol.toExponential(1)}, rtol ${tol.rtol})`;
  }
  return null;
}
