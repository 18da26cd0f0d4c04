// IO binding in Node (Dawn): the checks of test/io-binding-checks.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../src/node';
import { IO_CHECKS } from './io-binding-checks';

let rt: Runtime;
beforeAll(async () => {
  rt = await Runtime.create();
});
afterAll(() => rt?.destroy());

describe('IO binding in Node (Dawn)', () => {
  it.each(Object.keys(IO_CHECKS))('%s', async (name) => {
    await IO_CHECKS[name](rt, () => Runtime.create());
    expect(name).toBeTruthy();
  });
});
