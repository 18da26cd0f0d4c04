// User kernels in Node (Dawn): the checks of test/user-kernel-checks.ts, each on a fresh runtime.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../src/node';
import { USER_KERNEL_CHECKS } from './user-kernel-checks';

describe('user kernels in Node', () => {
  it.each(Object.keys(USER_KERNEL_CHECKS))('%s', async (name) => {
    const made: Runtime[] = [];
    const fresh = async () => {
      const rt = await Runtime.create();
      made.push(rt);
      return rt;
    };
    try {
      await USER_KERNEL_CHECKS[name](fresh);
    } finally {
      made.forEach((rt) => rt.destroy());
    }
    expect(made.length).toBeGreaterThan(0);
  });
});
