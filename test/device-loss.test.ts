// Recovery from device loss in Node (Dawn): the checks of test/device-loss-checks.ts, with the
// times each measured printed beside the adapter.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../src/node';
import { DEVICE_LOSS_CHECKS } from './device-loss-checks';

describe('device loss in Node (Dawn)', () => {
  it.each(Object.keys(DEVICE_LOSS_CHECKS))('%s', async (name) => {
    let adapter = '';
    const figures = await DEVICE_LOSS_CHECKS[name](async (opts) => {
      const rt = await Runtime.create(opts);
      adapter = `${rt.info.adapter.architecture} ${rt.info.adapter.description}`.trim();
      return rt;
    });
    for (const [k, v] of Object.entries(figures)) console.log(`device loss, node (${adapter}): ${name}: ${k} ${v.toFixed(1)}`);
    expect(name).toBeTruthy();
  });
});
