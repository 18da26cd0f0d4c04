// User kernels in Node (Dawn): the checks of test/user-kernel-checks.ts, each on fresh runtimes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../src/node';
import { USER_KERNEL_CHECKS, runUserKernelCheck } from './user-kernel-checks';

describe('user kernels in Node', () => {
  it.each(Object.keys(USER_KERNEL_CHECKS))('%s', async (name) => {
    expect(await runUserKernelCheck(name, () => Runtime.create())).toMatch(/\w/);
  });
});

describe("the README's kernel example", () => {
  it('is bench/kernels/softmax-three-pass.js, word for word (the file the checks above run)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const file = readFileSync(new URL('../bench/kernels/softmax-three-pass.js', import.meta.url), 'utf8');
    const block = /### Write your own kernel[^]*?```js\n([^]*?)```/.exec(readme)?.[1];
    expect(block).toBe(file);
  });
});
