// seqgpu/testing: hooks for testing the engine itself (leak checks), kept out of the main API. It
// imports no engine code, so it reads the counts of a Runtime from whichever copy of seqgpu made it.
import type { Runtime } from './runtime/runtime';
import { bufferCounts as deviceCounts, type BufferCounts } from './runtime/buffer-count';

export type { BufferCounts };

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
