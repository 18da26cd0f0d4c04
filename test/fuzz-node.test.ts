// The fuzz on Dawn in Node: fast-check generates cases (test/fuzz-cases.ts), each runs here and on the
// CPU reference, and a failure is shrunk to a small case and reported with the seed that finds it.
// SEQGPU_FUZZ_SEED=n replays a seed, SEQGPU_FUZZ_RUNS=n changes the count, and SEQGPU_FUZZ_PATH (from
// a failure's report) replays just the shrunk case; SEQGPU_FUZZ_SHRINK_S bounds shrinking (default 120 s).
import { execFileSync } from 'node:child_process';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Runtime } from '../src/node';
import { fuzzCase, fuzzSeed, isEmulated, runFuzzCase, shrinkBudget } from './fuzz-cases';

const RUNS = Number(process.env.SEQGPU_FUZZ_RUNS ?? 200);
const SHRINK_S = Number(process.env.SEQGPU_FUZZ_SHRINK_S ?? 120);
const { seed, source } = fuzzSeed(process.env.SEQGPU_FUZZ_SEED, () => execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));

let rt: Runtime;
let slowVariants = false;
beforeAll(async () => {
  rt = await Runtime.create();
  slowVariants = process.env.SEQGPU_FUZZ_VARIANTS === 'all' || !isEmulated(rt.info.adapter);
  console.log(
    `fuzz (Node, Dawn on ${rt.info.adapter.description}): seed ${seed} from ${source}, ${RUNS} cases` +
      `${slowVariants ? ', flash/split forced too' : ''}; replay with SEQGPU_FUZZ_SEED=${seed}`,
  );
});
afterAll(() => rt?.destroy());

describe('fuzz against the CPU reference in Node (Dawn)', () => {
  it(`${RUNS} random cases`, async () => {
    const counts = new Map<string, number>();
    const t0 = performance.now();
    const budget = shrinkBudget(SHRINK_S);
    await fc.assert(
      fc.asyncProperty(fuzzCase(fc, { slowVariants }), async (c) => {
        if (budget.spent()) return;
        const t = performance.now();
        const r = await runFuzzCase(rt, c);
        if (process.env.SEQGPU_FUZZ_VERBOSE) console.log(`${(performance.now() - t).toFixed(0).padStart(5)} ms ${r.report.split('\n')[0]}`);
        if (!r.ok) budget.failed(`${r.report}\ntolerance: ${r.why}`);
        counts.set(c.op, (counts.get(c.op) ?? 0) + 1);
      }),
      { seed, numRuns: RUNS, path: process.env.SEQGPU_FUZZ_PATH || undefined },
    );
    console.log(`fuzz: ${RUNS} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${[...counts].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }, 600_000);
});
