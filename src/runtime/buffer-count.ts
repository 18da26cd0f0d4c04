// Counts the GPUBuffers a device has created and not yet destroyed, so tests can prove that compile,
// run, readState and destroy leave nothing behind. The count lives on the device object under a
// registry symbol, not in this module: dist/testing.js and the engine bundle a user imports are
// separate module copies, and both must see the same count for the same device.
const KEY = Symbol.for('seqgpu.bufferCount');

/** GPUBuffer counts of one device since the engine first used it (testing's bufferCounts). */
export interface BufferCounts {
  /** Buffers created on the device. */
  created: number;
  /** Of those, buffers destroyed (each counted once, however often destroy() was called). */
  destroyed: number;
  /** created - destroyed: buffers still holding GPU memory. */
  live: number;
  /** Bytes of the live buffers. */
  liveBytes: number;
}

type Tracked = GPUDevice & { [KEY]?: BufferCounts };

/** Wraps device.createBuffer and each new buffer's destroy; idempotent, so a device is counted once. */
export function trackBuffers(device: GPUDevice): void {
  const d = device as Tracked;
  if (d[KEY]) return;
  const counts: BufferCounts = { created: 0, destroyed: 0, live: 0, liveBytes: 0 };
  const create = device.createBuffer.bind(device);
  Object.defineProperty(d, KEY, { value: counts, enumerable: false });
  device.createBuffer = (desc: GPUBufferDescriptor): GPUBuffer => {
    const buffer = create(desc);
    const size = buffer.size;
    counts.created++;
    counts.live++;
    counts.liveBytes += size;
    const destroy = buffer.destroy.bind(buffer);
    let gone = false;
    // destroy() may legally be called twice; only the first call frees anything.
    buffer.destroy = () => {
      if (!gone) {
        gone = true;
        counts.destroyed++;
        counts.live--;
        counts.liveBytes -= size;
      }
      destroy();
    };
    return buffer;
  };
}

/** The counts of a tracked device; throws for one never tracked, so a leak test cannot pass vacuously. */
export function bufferCounts(device: GPUDevice): BufferCounts {
  const counts = (device as Tracked)[KEY];
  if (!counts) throw new Error('bufferCounts: this GPUDevice is not tracked (it did not come from a seqgpu Runtime)');
  return { ...counts };
}
