// Headless Chromium with a WebGPU adapter, and the Vite server its pages come from. Shared by the
// parity tests and the benchmark. The browser is never downloaded: CHROME_PATH, then the usual paths.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { createServer, type ViteDevServer } from 'vite';

const CANDIDATES = [
  '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

export const INSTALL_HELP =
  'No Chromium found. Set CHROME_PATH to a Chrome or Chromium binary, or install one ' +
  "(Debian/Ubuntu: 'apt-get install -y chromium'). puppeteer's own download is not used.";

export function findChrome(): string {
  for (const env of ['CHROME_PATH', 'PUPPETEER_EXECUTABLE_PATH']) {
    const p = process.env[env];
    if (p) {
      if (!existsSync(p)) throw new Error(`${env}=${p} does not exist. ${INSTALL_HELP}`);
      return p;
    }
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`${INSTALL_HELP} Looked in: ${CANDIDATES.join(', ')}`);
  return found;
}

/** Headless flags that expose WebGPU on this loopback page; developer features unlock exact timestamps. */
export const CHROME_FLAGS = [
  '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu', '--enable-webgpu-developer-features',
];

/** SwiftShader, the adapter a machine without a GPU has; CHROME_ADAPTER=default leaves the choice to Chromium. */
export const SWIFTSHADER_FLAGS = [
  '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader',
];

export async function launchChromium(): Promise<Browser> {
  const extra = process.env.CHROME_FLAGS ? process.env.CHROME_FLAGS.split(' ').filter(Boolean) : [];
  const adapter = process.env.CHROME_ADAPTER === 'default' ? [] : SWIFTSHADER_FLAGS;
  // One call runs a whole case: a real-size GPT-2 prefill (reference, engine and ORT) takes many
  // minutes on a software adapter.
  return puppeteer.launch({ executablePath: findChrome(), headless: true, args: [...CHROME_FLAGS, ...adapter, ...extra], protocolTimeout: 3_600_000 });
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** A Vite dev server over the repository on 127.0.0.1 (a secure context, so navigator.gpu exists). */
export async function startServer(): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root,
    configFile: `${root}/vite.config.ts`,
    logLevel: 'warn',
    server: {
      host: '127.0.0.1', port: 0, strictPort: false, hmr: false,
      // onnxruntime-web's threaded wasm wants cross-origin isolation.
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    },
  });
  await server.listen();
  const addr = server.httpServer!.address();
  if (!addr || typeof addr === 'string') throw new Error('vite: no TCP address');
  return { server, url: `http://127.0.0.1:${addr.port}` };
}

/** Opens `path`, forwarding the page's errors; `ready` is a window function the page defines. */
export async function openPage(browser: Browser, url: string, path: string, ready: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e instanceof Error ? e.message : e}`));
  page.on('console', (m) => {
    // ONNX Runtime routes its info-level log lines ("[I:onnxruntime...") to console.error.
    if ((m.type() === 'error' || m.type() === 'warn') && !m.text().includes('[I:onnxruntime')) console.error(`[page ${m.type()}] ${m.text()}`);
  });
  await page.goto(`${url}${path}`, { waitUntil: 'load' });
  await page.waitForFunction(`typeof window.${ready} === 'function'`, { timeout: 120_000 });
  return page;
}
