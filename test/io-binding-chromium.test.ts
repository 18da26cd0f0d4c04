// IO binding in headless Chromium (SwiftShader here): the checks of test/io-binding-checks.ts.
import { describe, expect, it } from 'vitest';
import { chromiumPage } from './chromium-page';
import { IO_CHECKS } from './io-binding-checks';

const page = chromiumPage('/test/browser/io-binding.html', '__io');

describe('IO binding in Chromium', () => {
  it.each(Object.keys(IO_CHECKS))('%s', async (name) => {
    const r = await page().evaluate((n) => window.__io(n), name);
    expect(r.error ?? 'ok', `on ${r.adapter}`).toBe('ok');
  });
});
