// Parity cases for softmax (shaders/softmax.wgsl): rows of 1 up to 4097, middle and leading dims,
// transposed views, both variants and workgroup sizes forced, and rows of NaN, +-inf and 1e30.
import { Graph, type CompileOptions } from '../src/index';
import type { ParityCase, Tolerance } from './parity';
import { seeded } from './case-util';

// Softmax: exp on the GPU is accurate to 3 + 2|x| ulp (WGSL), |x| up to 2 * 50 here; sums are of
// positive terms, so the relative error stays near 1e-5 at worst.
const softmaxTol: Tolerance = { atol: 1e-6, rtol: 1e-4, why: 'WGSL exp is 3 + 2|x| ulp; positive sums' };

const { feed } = seeded(2000);

function softmaxCase(id: string, shape: number[], dim: number, scale: number, options?: CompileOptions, transposed = false): ParityCase {
  return {
    id, kernel: 'softmax', options, tol: softmaxTol,
    build: () => {
      const g = new Graph();
      let x = g.input('x', shape);
      if (transposed) x = g.transpose(x, 0, -1);
      g.output('y', g.softmax(x, dim));
      return { graph: g, feeds: { x: feed(shape, scale) } };
    },
  };
}

const softmaxBase: [string, number[], number, number, boolean][] = [
  ...[1, 7, 256, 257, 4097].flatMap((n): [string, number[], number, number, boolean][] => [
    [`rows of ${n}`, [3, n], -1, 1, false],
    [`rows of ${n}, x50`, [2, n], -1, 50, false],
  ]),
  ['middle dim [3,257,5] dim 1, x50', [3, 257, 5], 1, 50, false],
  ['dim 0 [7,4,3]', [7, 4, 3], 0, 1, false],
  ['of a transposed view [6,33] dim -1', [6, 33], -1, 10, true],
  ['64 rows of 1024', [64, 1024], -1, 5, false],
];

// Both variants run every shape, whichever the adapter would pick.
export const softmaxCases: ParityCase[] = [
  ...(['workgroup', 'row'] as const).flatMap((v) =>
    softmaxBase.map(([name, shape, dim, scale, tr]) =>
      softmaxCase(`softmax ${v} ${name}`, shape, dim, scale, { variants: { softmax: v } }, tr)),
  ),
  softmaxCase('softmax workgroup WG=32 rows of 4097', [2, 4097], -1, 1, { variants: { softmax: 'workgroup' }, constants: { softmax: { WG: 32 } } }),
  softmaxCase('softmax row WG=3, 7 rows of 300', [7, 300], -1, 20, { variants: { softmax: 'row' }, constants: { softmax: { WG: 3 } } }),
  softmaxCase('softmax auto 5 rows of 77', [5, 77], -1, 1),
  // NaN, +-inf and huge magnitudes: torch's float32 answer is IEEE's, and every variant must give it.
  // softmax rows: [+inf, ..] and [.., NaN, ..] all NaN, some -inf (zeros there), all -inf (NaN), +-1e30,
  // +-3e38 (x - max overflows to -inf), -1e30 beside -inf, and one plain row.
  ...(['workgroup', 'row'] as const).flatMap((v) => [7, 300].map((len): ParityCase => ({
    id: `softmax ${v}${len === 300 ? ` WG=${v === 'row' ? 3 : 32}` : ''} rows of ${len} with NaN, +-inf, 1e30 and 3e38`,
    kernel: 'softmax', tol: softmaxTol,
    options: { variants: { softmax: v }, ...(len === 300 ? { constants: { softmax: { WG: v === 'row' ? 3 : 32 } } } : {}) },
    build: () => {
      const g = new Graph();
      const x = feed([9, len], 5);
      const row = (r: number, at: [number, number][]) => at.forEach(([j, val]) => (x[r * len + j] = val));
      row(0, [[0, Infinity]]);
      row(1, [[len >> 1, NaN]]);
      row(2, [[1, -Infinity], [len - 1, -Infinity]]);
      x.fill(-Infinity, 3 * len, 4 * len);
      row(4, [[2, 1e30], [3, -1e30]]);
      row(5, [[0, -Infinity], [len - 1, Infinity]]);
      row(6, [[1, 3e38], [4, -3.4e38]]);
      x.fill(-Infinity, 7 * len, 8 * len);
      row(7, [[0, -1e30], [len - 2, -1e30]]);
      g.output('y', g.softmax(g.input('x', [9, len]), -1));
      return { graph: g, feeds: { x } };
    },
  }))),
];
