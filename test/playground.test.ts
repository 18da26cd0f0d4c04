// The kernel playground (bench/playground) in headless Chromium: it loads; an edited kernel applied
// reads back PASS and a time; a broken kernel is marked at the right line. A screenshot of each
// state is written to test-results/ to be looked at.
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chromiumPage } from './chromium-page';
import threePass from '../bench/kernels/softmax-three-pass.js?raw';

const page = chromiumPage('/bench/playground/index.html', '__playground?.apply', async (p) => {
  await p.setViewport({ width: 1280, height: 900 });
  await p.evaluate(() => window.__playground.ready);
});
const shots = new URL('../test-results/', import.meta.url);

async function applyText(text: string) {
  const p = page();
  await p.$eval('#code', (el, t) => {
    (el as HTMLTextAreaElement).value = t;
    el.dispatchEvent(new Event('input'));
  }, text);
  await p.click('#apply');
  await p.waitForFunction(() => window.__playground.state.status !== 'running' && !(document.getElementById('apply') as HTMLButtonElement).disabled, { timeout: 180_000 });
  return p.evaluate(() => ({ ...window.__playground.state, verdict: document.getElementById('verdict')!.textContent, gutterError: document.querySelector('#gutter .err')?.textContent ?? null, timing: document.getElementById('timing')!.textContent }));
}

describe('kernel playground', () => {
  it('loads with the softmax template and the adapter named', async () => {
    const p = page();
    const text = await p.$eval('#code', (el) => (el as HTMLTextAreaElement).value);
    expect(text).toBe(threePass);
    expect(await p.$eval('#adapter', (el) => el.textContent)).not.toMatch(/starting/);
    expect(await p.$$eval('#op option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['softmax', 'linear', 'relu']);
  });

  it('applies an edited kernel: PASS on every softmax case, and a time beside the built-ins', async () => {
    const edited = threePass.replace('@workgroup_size(64)', '@workgroup_size(32)').replace('Math.ceil(rows / 64)', 'Math.ceil(rows / 32)');
    expect(edited).not.toBe(threePass);
    const s = await applyText(edited);
    mkdirSync(shots, { recursive: true });
    await page().screenshot({ path: new URL('playground-pass.png', shots).pathname, fullPage: false });
    expect(s.error).toBeUndefined();
    expect(s.status).toBe('pass');
    expect(s.cases).toBeGreaterThan(10);
    expect(s.verdict).toBe(`PASS ${s.cases}/${s.cases} cases`);
    expect(s.mineMs).toBeGreaterThan(0);
    expect(s.timing).toMatch(/user:three-pass[\d.]+/);
    expect(s.timing).toMatch(/built-in row[\d.]+/);
  });

  it('applies a broken kernel and marks the error at its line', async () => {
    const lines = threePass.split('\n');
    const at = lines.findIndex((l) => l.includes('var s = 0.0;'));
    lines[at] = lines[at].replace('var s = 0.0;', 'var s = 0u + 1.5;');
    const s = await applyText(lines.join('\n'));
    await page().screenshot({ path: new URL('playground-error.png', shots).pathname, fullPage: false });
    expect(s.status).toBe('error');
    expect(s.error).toMatch(/^GpuError: [^]*\n  user:three-pass:\d+:\d+ /);
    expect(s.errorLine).toBe(at + 1);
    expect(s.gutterError).toBe(String(at + 1));
    expect(s.verdict).toBe(`error at line ${at + 1}`);
  });
});
