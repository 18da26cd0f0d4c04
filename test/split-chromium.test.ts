// Tensors past the binding limit in headless Chromium (SwiftShader here): the checks of
// test/split-checks.ts, each on runtimes capped for the check.
import { describe, expect, it } from 'vitest';
import { chromiumPage } from './chromium-page';
import { SPLIT_CHECKS } from './split-checks';

const page = chromiumPage('/test/browser/split.html', '__split');

describe('tensors past the binding limit, in Chromium', () => {
  it.each(Object.keys(SPLIT_CHECKS))('%s', async (name) => {
    const r = await page().evaluate((n) => window.__split(n), name);
    expect(r.error ?? 'ok', `on ${r.adapter}`).toBe('ok');
  });
});
