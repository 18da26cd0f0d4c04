// Helpers shared by the parity case files (test/cases-X.ts): seeded feeds and index tensors, a case
// built from a graph callback, and the special-value tables of the NaN/+-inf cases.
import { Graph, type Feeds } from '../src/index';
import { numel } from '../src/graph/shapes';
import { randn, rng, type ParityCase, type Tolerance } from './parity';

/**
 * Seeded inputs for one case file: every call draws from the next seed after `start`, so each
 * family's values do not depend on the other files. `feed` is uniform in [-scale, scale) + offset;
 * `ids` is n integers in [0, hi).
 */
export function seeded(start: number) {
  let seed = start;
  return {
    feed: (shape: number[], scale = 1, offset = 0): Float32Array => randn(numel(shape), seed++, scale).map((v) => v + offset),
    ids: (n: number, hi: number): Int32Array => {
      const r = rng(seed++);
      return Int32Array.from({ length: n }, () => Math.floor(r() * hi));
    },
  };
}

/** A case whose graph `build` fills in on a fresh Graph, returning the feeds. */
export function graphCase(id: string, kernel: string, tol: Tolerance, build: (g: Graph) => Feeds, more: Pick<ParityCase, 'options' | 'dispatches'> = {}): ParityCase {
  return { id, kernel, tol, ...more, build: () => { const g = new Graph(); return { graph: g, feeds: build(g) }; } };
}

/** Inputs of the elementwise special-value cases: NaN, +-inf, past exp's and tanh's ranges, near f32's max. */
export const SPECIALS = [NaN, Infinity, -Infinity, 1e30, -1e30, 3e38, -3.4e38, 100, -100, 20, -20, 0, 1, -1, 1e-30, 0.5];
/** (a, b) pairs for add/sub/mul/div: inf - inf, inf * 0, 0 / 0, x / 0, sums and products past f32's max. */
export const PAIRS: [number, number][] = [
  [Infinity, Infinity], [Infinity, -Infinity], [-Infinity, -Infinity], [NaN, 1], [1, NaN], [Infinity, 0], [0, 0], [1, 0], [-1, 0],
  [1e30, 1e30], [1e30, -1e30], [3e38, 3e38], [-3e38, 3e38], [1e30, 1e-30], [1e20, 1e20], [3e38, 0.5], [Infinity, 1e30],
];
