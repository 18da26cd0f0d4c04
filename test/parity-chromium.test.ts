// The parity cases in headless Chromium (WebGPU on whatever adapter it offers; SwiftShader here),
// driven by puppeteer: each case is one page.evaluate that returns JSON.
import { describe, expect, it } from 'vitest';
import { chromiumPage } from './chromium-page';
import { allCases } from './cases';
import type { ParityResult } from './parity';

const page = chromiumPage('/test/browser/parity.html', '__parity', async (p) => {
  const info = await p.evaluate(() => window.__init());
  console.log(`chromium parity on ${JSON.stringify(info.adapter)}, features ${info.features.join(' ')}`);
});

describe('parity in Chromium (WebGPU)', () => {
  it.each(allCases.map((c) => [c.id] as const))('%s', async (id) => {
    const r: ParityResult = await page().evaluate((x) => window.__parity(x), id);
    expect(r.ok, r.report).toBe(true);
  });
});
