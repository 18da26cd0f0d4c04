// Tuning in headless Chromium (SwiftShader here): the checks of test/tune-checks.ts with the table
// in a JSON file on the Node side (page.exposeFunction), and the page's own localStorage table
// surviving a browser restart (fixed port, so the same origin; fixed profile directory).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer';
import { createServer } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROME_FLAGS, SWIFTSHADER_FLAGS, findChrome, openPage } from '../bench/chromium';
import { chromiumPage } from './chromium-page';
import { TUNE_CHECKS } from './tune-checks';

const dir = mkdtempSync(join(tmpdir(), 'seqgpu-tune-chromium-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const page = chromiumPage('/test/browser/tune.html', '__tuneCheck', async (p) => {
  await p.exposeFunction('__tuneFileNew', () => join(dir, `table-${files++}.json`));
  await p.exposeFunction('__tuneFileRead', (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : null));
  await p.exposeFunction('__tuneFileWrite', (path: string, text: string) => writeFileSync(path, text));
});

describe('tuning in Chromium, the table a file on the Node side', () => {
  it.each(Object.keys(TUNE_CHECKS))('%s', async (name) => {
    const r = await page().evaluate((n) => window.__tuneCheck(n), name);
    expect(r.error ?? 'ok').toBe('ok');
    expect(r.said?.length).toBeGreaterThan(0);
  }, 600_000);
});

/** A port of its own, fixed: localStorage belongs to the origin, port included. */
const PORT = 41873;

describe('the localStorage table survives a browser restart', () => {
  it('tunes, closes the browser, relaunches with the same profile, and reuses the table without timing', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const server = await createServer({
      root, configFile: `${root}/vite.config.ts`, logLevel: 'warn',
      server: { host: '127.0.0.1', port: PORT, strictPort: true, hmr: false },
    });
    await server.listen();
    const userDataDir = join(dir, 'profile');
    const launch = () => puppeteer.launch({
      executablePath: findChrome(), headless: true, userDataDir, args: [...CHROME_FLAGS, ...SWIFTSHADER_FLAGS], protocolTimeout: 600_000,
    });
    const url = `http://127.0.0.1:${PORT}`;
    try {
      const first = await launch();
      let tuned;
      try {
        const p = await openPage(first, url, '/test/browser/tune.html', '__tuneLocal');
        tuned = await p.evaluate(() => window.__tuneLocal(true));
      } finally {
        await first.close();
      }
      expect(tuned.stored).toBe(true);
      expect(tuned.candidatesTimed).toBeGreaterThan(0);
      expect(tuned.steps.filter((s) => s.endsWith(', tuned)')).length).toBeGreaterThanOrEqual(4);

      const second = await launch();
      try {
        const p = await openPage(second, url, '/test/browser/tune.html', '__tuneLocal');
        const reused = await p.evaluate(() => window.__tuneLocal(false));
        expect(reused.stored).toBe(true);
        expect(reused.candidatesTimed).toBe(0);
        expect(reused.steps).toEqual(tuned.steps);
      } finally {
        await second.close();
      }
    } finally {
      await server.close();
    }
  }, 600_000);
});
