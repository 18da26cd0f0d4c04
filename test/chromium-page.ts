// One headless Chromium page per test file, over the repository's Vite server: opened before the
// file's tests, closed after them. `onOpen` runs once the page's `ready` function exists.
import type { Browser, Page } from 'puppeteer';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium, openPage, startServer } from '../bench/chromium';

export function chromiumPage(path: string, ready: string, onOpen?: (page: Page) => Promise<void>): () => Page {
  let browser: Browser | undefined;
  let server: ViteDevServer | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    const s = await startServer();
    server = s.server;
    browser = await launchChromium();
    page = await openPage(browser, s.url, path, ready);
    await onOpen?.(page);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return () => {
    if (!page) throw new Error(`the page ${path} did not open`);
    return page;
  };
}
