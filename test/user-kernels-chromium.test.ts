// User kernels in headless Chromium (SwiftShader here): the checks of test/user-kernel-checks.ts.
import { describe, expect, it } from 'vitest';
import { chromiumPage } from './chromium-page';
import { USER_KERNEL_CHECKS } from './user-kernel-checks';

const page = chromiumPage('/test/browser/user-kernels.html', '__userKernel');

describe('user kernels in Chromium', () => {
  it.each(Object.keys(USER_KERNEL_CHECKS))('%s', async (name) => {
    const r = await page().evaluate((n) => window.__userKernel(n), name);
    expect(r.error ?? 'ok', `on ${r.adapter}`).toBe('ok');
  });
});
