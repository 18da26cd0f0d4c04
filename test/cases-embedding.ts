// Parity cases for embedding (shaders/embedding.wgsl): fed and constant ids, a dim-1 table, ids
// through a reshape, and a layerNorm after the lookup.
import { Graph } from '../src/index';
import type { ParityCase, Tolerance } from './parity';
import { seeded } from './case-util';
import { lnTol } from './cases-layernorm';

const exact: Tolerance = { atol: 0, rtol: 0, why: 'a gather copies values bit for bit' };

const { feed, ids } = seeded(7000);

export const embeddingCases: ParityCase[] = [
  {
    id: 'embedding ids [2,5] into [17,8]', kernel: 'embedding', tol: exact, dispatches: 1,
    build: () => {
      const g = new Graph();
      g.output('y', g.embedding(g.input('ids', [2, 5], 'i32'), g.input('w', [17, 8])));
      return { graph: g, feeds: { ids: ids(10, 17), w: feed([17, 8]) } };
    },
  },
  {
    id: 'embedding one id into [1,3], dim-1 table [13,1]', kernel: 'embedding', tol: exact,
    build: () => {
      const g = new Graph();
      g.output('a', g.embedding(g.input('ids', [1], 'i32'), g.input('w', [1, 3])));
      g.output('b', g.embedding(g.input('ids2', [3, 2], 'i32'), g.constant(feed([13, 1]), [13, 1])));
      return { graph: g, feeds: { ids: new Int32Array([0]), ids2: ids(6, 13), w: feed([1, 3]) } };
    },
  },
  {
    id: 'embedding constant ids through a reshape, then layerNorm', kernel: 'embedding', tol: lnTol,
    build: () => {
      const g = new Graph();
      const e = g.embedding(g.reshape(g.constant(ids(12, 50), [12]), [3, 4]), g.input('w', [50, 16]));
      g.output('y', g.layerNorm(e, [16]));
      return { graph: g, feeds: { w: feed([50, 16], 3) } };
    },
  },
];
