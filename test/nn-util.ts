// Plumbing shared by the nn module tests: running a graph, random parameters, closeness checks.
import { expect } from 'vitest';
import { Runtime, type Feeds, type Graph, type Module } from '../src/node';
import { randn } from './parity';
import { maxErr } from './nn-ref';

export const cpu = Runtime.cpu();

export async function run(rt: Runtime, g: Graph, feeds: Feeds = {}): Promise<Record<string, Float32Array>> {
  const exe = await rt.compile(g);
  try {
    return await exe.run(feeds);
  } finally {
    exe.destroy();
  }
}

/** Random parameters (layer-norm weights near 1), so no test leans on the default init. */
export function randomize(m: Module, seed: number): void {
  m.namedParameters().forEach(([name, p], i) => {
    const r = randn(p.data.length, seed * 1000 + i, 0.5);
    p.data = /norm|ln_/.test(name) && name.endsWith('weight') ? r.map((v) => 1 + v / 2) : r;
  });
}

export const closeTo = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5) => {
  expect(got.length).toBe(want.length);
  expect(maxErr(got, want)).toBeLessThanOrEqual(tol);
};

// Tolerance between the engine (f32 storage, float64 sums on the CPU) and the float64 references:
// parameters and inputs are the same f32 values, so only output rounding and transcendental
// functions differ: 1e-5 absolute at O(1) outputs (1e-4 where layers are stacked).
export const TOL = 1e-5;
