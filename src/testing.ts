// seqgpu/testing: what tests of the engine, and of kernels users write for it, are made of: the
// parity case lists of every op family, the parity checker, and buffer-leak counts. Its cases
// build graphs with the engine a page or a script imported ('seqgpu'), so a kernel registered on
// that engine's runtime is checked on the same cases as the built-in variants.
import type { Runtime } from './runtime/runtime';
import { bufferCounts as deviceCounts, type BufferCounts } from './runtime/buffer-count';
import type { ParityCase } from './testing/parity';

export type { BufferCounts };
export { runParity as checkParity, matches, type ParityCase, type ParityResult, type Tolerance } from './testing/parity';

function deviceOf(rt: Runtime, what: string): GPUDevice {
  const device = rt.device;
  if (!device) throw new Error(`${what}: a CPU runtime has no GPU buffers to count`);
  return device;
}

/** GPUBuffers of this runtime's device created and not yet destroyed. */
export function liveBuffers(rt: Runtime): number {
  return deviceCounts(deviceOf(rt, 'liveBuffers')).live;
}

/** Created, destroyed and live buffer counts, and live bytes, of this runtime's device. */
export function bufferCounts(rt: Runtime): BufferCounts {
  return deviceCounts(deviceOf(rt, 'bufferCounts'));
}

// The engine's own case files (test/cases-<family>.ts), gathered at build time.
type Glob = { glob(pattern: string, opts: { eager: true }): Record<string, Record<string, unknown>> };
const families = (import.meta as unknown as Glob).glob('../test/cases-*.ts', { eager: true });

/**
 * The parity cases of each op family, by family: matmul, softmax, layernorm, elementwise, math,
 * compare, where, cast, attention, rnn, embedding, copy. A case's `kernel` names the kernel it
 * exercises (a softmax case: 'softmax'); its `options` may force a built-in variant, which a
 * variant passed to checkParity replaces.
 */
export function opCases(): Record<string, ParityCase[]> {
  const out: Record<string, ParityCase[]> = {};
  for (const [file, mod] of Object.entries(families)) {
    const family = /cases-(\w+)\.ts$/.exec(file)![1];
    const list = mod[`${family}Cases`];
    if (!Array.isArray(list)) throw new Error(`${file} must export its cases as '${family}Cases'`);
    out[family] = list as ParityCase[];
  }
  return out;
}
