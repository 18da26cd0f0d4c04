// The parity cases on Dawn (the 'webgpu' package) in Node, on whatever Vulkan driver it finds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../src/node';
import { allCases } from './cases';
import { runParity } from './parity';

let rt: Runtime;

beforeAll(async () => {
  rt = await Runtime.create();
  console.log(`node parity on ${JSON.stringify(rt.info.adapter)} (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'system'})`);
});
afterAll(() => rt?.destroy());

describe('parity in Node (Dawn)', () => {
  it.each(allCases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const r = await runParity(rt, c);
    expect(r.ok, r.report).toBe(true);
  });
});
