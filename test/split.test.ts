// Tensors past the binding limit in Node (Dawn): the checks of test/split-checks.ts, each on
// runtimes capped for the check.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../src/node';
import { SPLIT_CHECKS, runSplitCheck } from './split-checks';

describe('tensors past the binding limit, in Node', () => {
  it.each(Object.keys(SPLIT_CHECKS))('%s', async (name) => {
    expect(await runSplitCheck(name, (cap) => Runtime.create({ limits: { maxStorageBufferBindingSize: cap } }))).toMatch(/\w/);
  });
});
