// Parity cases for shaders/copy.wgsl: slice, concat, gather and assign into state.
import type { Feeds, Graph } from '../src/index';
import type { ParityCase, Tolerance } from './parity';
import { graphCase, seeded } from './case-util';

const exact: Tolerance = { atol: 0, rtol: 0, why: 'copies move 32-bit words unchanged' };
const { feed: feedN, ids } = seeded(9000);
const feed = (shape: number[]) => feedN(shape, 3);

function copyCase(id: string, build: (g: Graph) => Feeds, dispatches?: number): ParityCase {
  return graphCase(id, 'copy', exact, build, { dispatches });
}

export const copyCases: ParityCase[] = [
  copyCase('copy: slice dim 1 [3,17,5][:, 4:11]', (g) => {
    g.output('y', g.slice(g.input('x', [3, 17, 5]), 1, 4, 11));
    return { x: feed([3, 17, 5]) };
  }, 1),
  copyCase('copy: slice of a transposed view, negative bounds', (g) => {
    g.output('y', g.slice(g.transpose(g.input('x', [7, 4]), 0, 1), -1, -5, -1));
    return { x: feed([7, 4]) };
  }, 1),
  copyCase('copy: concat dim 0, 1 and -1 of three parts', (g) => {
    const a = g.input('a', [2, 3, 4]), b = g.input('b', [2, 5, 4]), c = g.input('c', [2, 1, 4]);
    g.output('y1', g.concat([a, b, c], 1));
    g.output('y0', g.concat([a, a], 0));
    g.output('y2', g.concat([g.transpose(a, 1, 2), g.input('d', [2, 4, 1])], -1));
    return { a: feed([2, 3, 4]), b: feed([2, 5, 4]), c: feed([2, 1, 4]), d: feed([2, 4, 1]) };
  }),
  copyCase('copy: gather dim 0 (last valid step per sequence) [1,3,6] from [9,3,6]', (g) => {
    g.output('y', g.gather(g.input('x', [9, 3, 6]), 0, g.input('i', [1, 3, 6], 'i32')));
    const per = ids(3, 9);
    return { x: feed([9, 3, 6]), i: Int32Array.from({ length: 18 }, (_, k) => per[Math.floor(k / 6)]) };
  }, 1),
  copyCase('copy: gather dim -1 with a smaller index [2,3] from [4,7]', (g) => {
    g.output('y', g.gather(g.input('x', [4, 7]), -1, g.input('i', [2, 3], 'i32')));
    return { x: feed([4, 7]), i: ids(6, 7) };
  }),
  copyCase('copy: assign at a fed offset into a state, read after the write', (g) => {
    const s = g.state('cache', [2, 6, 3]);
    const s2 = g.assign(s, g.input('v', [2, 2, 3]), { dim: 1, offset: g.input('pos', [1], 'i32') });
    g.output('sum', g.add(g.slice(s2, 1, 0, 4), g.input('w', [4, 3])));
    g.output('state', s2);
    return { v: feed([2, 2, 3]), pos: new Int32Array([2]), w: feed([4, 3]) };
  }),
  copyCase('copy: assign of a transposed value at a fixed offset', (g) => {
    const s = g.state('st', [5, 4]);
    g.output('state', g.assign(s, g.transpose(g.input('v', [4, 2]), 0, 1), { dim: 0, offset: 3 }));
    return { v: feed([4, 2]) };
  }, 1),
];
