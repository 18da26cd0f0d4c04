// The parity cases in headless Chromium (WebGPU on whatever adapter it offers; SwiftShader here),
// driven by puppeteer: each case is one page.evaluate that returns JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer';
import type { ViteDevServer } from 'vite';
import { launchChromium, openPage, startServer } from '../bench/chromium';
import { allCases } from './cases';
import type { ParityResult } from './parity';

let browser: Browser | undefined;
let server: ViteDevServer | undefined;
let page: Page;

beforeAll(async () => {
  const s = await startServer();
  server = s.server;
  browser = await launchChromium();
  page = await openPage(browser, s.url, '/test/browser/parity.html', '__parity');
  const info = await page.evaluate(() => window.__init());
  console.log(`chromium parity on ${JSON.stringify(info.adapter)}, features ${info.features.join(' ')}`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('parity in Chromium (WebGPU)', () => {
  it.each(allCases.map((c) => [c.id] as const))('%s', async (id) => {
    const r: ParityResult = await page.evaluate((x) => window.__parity(x), id);
    expect(r.ok, r.report).toBe(true);
  });
});
