// The fuzz in headless Chromium (WebGPU on SwiftShader here): fast-check generates and shrinks the
// cases in Node, and each case's JSON goes to the page's window.__fuzz, which runs it there against
// the CPU reference. Fewer cases than in Node: every page pipeline compiles cold. The seed and the
// SEQGPU_FUZZ_* variables are those of test/fuzz-node.test.ts; SEQGPU_FUZZ_CHROMIUM_RUNS sets the count.
import { execFileSync } from 'node:child_process';
import * as fc from 'fast-check';
import type { Browser, Page } from 'puppeteer';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchChromium, openPage, startServer } from '../bench/chromium';
import { fuzzCase, fuzzSeed, isEmulated, shrinkBudget, type FuzzResult } from './fuzz-cases';

const RUNS = Number(process.env.SEQGPU_FUZZ_CHROMIUM_RUNS ?? 35);
const SHRINK_S = Number(process.env.SEQGPU_FUZZ_SHRINK_S ?? 120);
const { seed, source } = fuzzSeed(process.env.SEQGPU_FUZZ_SEED, () => execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));

let browser: Browser | undefined;
let server: ViteDevServer | undefined;
let page: Page;
let slowVariants = false;

beforeAll(async () => {
  const s = await startServer();
  server = s.server;
  browser = await launchChromium();
  page = await openPage(browser, s.url, '/test/browser/fuzz.html', '__fuzz');
  const info = await page.evaluate(() => window.__fuzzInit());
  slowVariants = process.env.SEQGPU_FUZZ_VARIANTS === 'all' || !isEmulated(info.adapter);
  console.log(
    `fuzz (Chromium on ${info.adapter.description || info.adapter.architecture}): seed ${seed} from ${source}, ${RUNS} cases` +
      `${slowVariants ? ', flash/split forced too' : ''}; replay with SEQGPU_FUZZ_SEED=${seed}`,
  );
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('fuzz against the CPU reference in Chromium (WebGPU)', () => {
  it(`${RUNS} random cases`, async () => {
    const budget = shrinkBudget(SHRINK_S);
    await fc.assert(
      fc.asyncProperty(fuzzCase(fc, { slowVariants }), async (c) => {
        if (budget.spent()) return;
        const r: FuzzResult = await page.evaluate((json) => window.__fuzz(json), JSON.stringify(c));
        if (!r.ok) budget.failed(`${r.report}\ntolerance: ${r.why}`);
      }),
      { seed, numRuns: RUNS, path: process.env.SEQGPU_FUZZ_PATH || undefined },
    );
  }, 600_000);
});
