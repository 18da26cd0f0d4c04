// The run-time defect checks in headless Chromium (SwiftShader here), on its WebGPU runtime and on
// the CPU reference in the same page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer';
import type { ViteDevServer } from 'vite';
import { launchChromium, openPage, startServer } from '../bench/chromium';
import { DEFECT_CHECKS } from './defect-checks';

let browser: Browser | undefined;
let server: ViteDevServer | undefined;
let page: Page;

beforeAll(async () => {
  const s = await startServer();
  server = s.server;
  browser = await launchChromium();
  page = await openPage(browser, s.url, '/test/browser/defects.html', '__defect');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.each(['gpu', 'cpu'] as const)('run-time defects in Chromium (%s)', (runtime) => {
  it.each(Object.keys(DEFECT_CHECKS))('%s', async (name) => {
    const r = await page.evaluate((n, rt) => window.__defect(n, rt), name, runtime);
    expect(r.error ?? 'ok', `on ${r.adapter}`).toBe('ok');
  });
});
