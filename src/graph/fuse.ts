// Fusion as an IR rewrite, before lowering: an activation of a matmul or linear, and a residual add
// of one, fold into the matmul node's epilogue (ir.ts Epilogue), which the matmul kernel applies as
// it writes C. The rewrite returns a new node list and leaves the caller's graph as built, so the
// CPU reference still runs the unfused graph and checks the fused one.
import { countUses, type GraphIR, type GraphNode, type NodeOf } from './ir';

type MatmulNode = GraphNode<NodeOf<'matmul'> | NodeOf<'linear'>>;

const isMatmul = (n: GraphNode): n is MatmulNode => n.node.op === 'matmul' || n.node.op === 'linear';
const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** `user(kind)`: a user variant is forced for that op, so its nodes stay as built (a user kernel has no epilogue). */
export function fuse(graph: GraphIR, user: (kind: string) => boolean = () => false): GraphIR {
  const nodes = graph.nodes.slice();
  const uses = countUses(graph);
  const outputs = new Set(graph.outputs.values());
  // A matmul result can be folded into its one reader only if nothing else sees it.
  const private_ = (id: number) => uses[id] === 1 && !outputs.has(id);

  for (const n of graph.nodes) {
    const { op } = n.node;
    if (user(op)) continue;
    if (op === 'relu' || op === 'tanh' || op === 'sigmoid') {
      const mm = nodes[n.inputs[0]];
      if (isMatmul(mm) && !user(mm.node.op) && mm.node.act === 'none' && !mm.node.residual && private_(mm.id)) {
        nodes[n.id] = { ...n, node: { ...mm.node, act: op }, inputs: mm.inputs.slice() };
      }
    } else if (op === 'add') {
      for (const side of [0, 1]) {
        const mm = nodes[n.inputs[side]], r = n.inputs[1 - side];
        // y = act(A·B + bias) + r, written where C goes: r must be f32 of C's shape exactly (no broadcast).
        if (!isMatmul(mm) || user(mm.node.op) || mm.node.residual || !private_(mm.id) || r === mm.id) continue;
        if (!sameShape(mm.shape, n.shape) || !sameShape(graph.nodes[r].shape, n.shape) || graph.nodes[r].dtype !== 'f32') continue;
        nodes[n.id] = { ...n, node: { ...mm.node, residual: true }, inputs: [...mm.inputs, r] };
        break;
      }
    }
  }
  return { nodes, inputs: graph.inputs, outputs: graph.outputs, states: graph.states };
}
