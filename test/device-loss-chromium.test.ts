// Recovery from device loss in headless Chromium (SwiftShader here): the checks of
// test/device-loss-checks.ts, with the times each measured printed beside the adapter.
import { describe, expect, it } from 'vitest';
import { chromiumPage } from './chromium-page';
import { DEVICE_LOSS_CHECKS } from './device-loss-checks';

const page = chromiumPage('/test/browser/device-loss.html', '__deviceLoss');

describe('device loss in Chromium', () => {
  it.each(Object.keys(DEVICE_LOSS_CHECKS))('%s', async (name) => {
    const r = await page().evaluate((n) => window.__deviceLoss(n), name);
    for (const [k, v] of Object.entries(r.figures)) console.log(`device loss, chromium (${r.adapter}): ${name}: ${k} ${v.toFixed(1)}`);
    expect(r.error ?? 'ok', `on ${r.adapter}`).toBe('ok');
  });
});
