// The run-time defect checks in headless Chromium (SwiftShader here), on its WebGPU runtime and on
// the CPU reference in the same page.
import { describe, expect, it } from 'vitest';
import { chromiumPage } from './chromium-page';
import { DEFECT_CHECKS } from './defect-checks';

const page = chromiumPage('/test/browser/defects.html', '__defect');

describe.each(['gpu', 'cpu'] as const)('run-time defects in Chromium (%s)', (runtime) => {
  it.each(Object.keys(DEFECT_CHECKS))('%s', async (name) => {
    const r = await page().evaluate((n, rt) => window.__defect(n, rt), name, runtime);
    expect(r.error ?? 'ok', `on ${r.adapter}`).toBe('ok');
  });
});
