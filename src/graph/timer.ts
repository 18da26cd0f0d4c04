// How a run's dispatches are encoded and timed with timestamp queries. compile's `timestamps: true`
// times the one compute pass of a run; `timestamps: 'dispatch'` gives each dispatch a pass of its
// own, timestamped at its start and end, so a run also reports each dispatch's GPU time beside
// exe.steps. The passes run back to back in the one submission either way.
import { InputError, LimitError } from '../errors';

/** compile's `timestamps` option: off, the whole pass, or each dispatch. */
export type TimestampMode = boolean | 'dispatch';

/** One recorded dispatch of an executable. */
export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  grid: [number, number, number];
}

/** Queries one WebGPU query set may hold. */
export const MAX_QUERIES = 4096;

/**
 * Checks compile's `timestamps` option against the graph's `dispatches` before anything is built:
 * 'dispatch' takes two queries per dispatch, and a query set holds MAX_QUERIES.
 */
export function checkTimestamps(mode: unknown, dispatches: number): void {
  if (mode !== undefined && mode !== true && mode !== false && mode !== 'dispatch') {
    throw new InputError(`compile: timestamps must be true, false or 'dispatch'; got ${JSON.stringify(mode)}`);
  }
  if (mode === 'dispatch' && 2 * dispatches > MAX_QUERIES) {
    throw new LimitError(
      `compile: timestamps 'dispatch' takes two queries per dispatch; this graph's ${dispatches} dispatches need ` +
        `${2 * dispatches}, and a query set holds ${MAX_QUERIES}. Use timestamps: true to time the whole pass`,
    );
  }
}

/** A query set with its resolve and readback buffers, for one run's pass or passes. */
export class PassTimer {
  readonly read: GPUBuffer;
  private readonly set: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private readonly queries: number;
  private readonly dispatches: number;

  /** `buffer` makes (and accounts for) the executable's buffers. */
  constructor(
    device: GPUDevice,
    private readonly perDispatch: boolean,
    dispatches: number,
    buffer: (label: string, size: number, usage: number) => GPUBuffer,
  ) {
    this.dispatches = dispatches;
    this.queries = perDispatch ? 2 * Math.max(dispatches, 1) : 2;
    this.set = device.createQuerySet({ label: 'seqgpu timestamps', type: 'timestamp', count: this.queries });
    this.resolve = buffer('seqgpu timestamps', 8 * this.queries, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
    this.read = buffer('seqgpu timestamps readback', 8 * this.queries, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  }

  destroy(): void {
    this.set.destroy();
  }

  /**
   * The compute work of a run (or of tuning: every dispatch `reps` times) into `enc`: one pass, or a
   * pass per dispatch when timing each (with `reps`, the last repetition's times are the ones read),
   * then the timestamps copied to the read buffer.
   */
  encode(enc: GPUCommandEncoder, label: string, dispatches: Dispatch[], reps = 1): void {
    if (!this.perDispatch) {
      encodePass(enc, label, dispatches, reps, { querySet: this.set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 });
    } else {
      for (let r = 0; r < reps; r++) {
        dispatches.forEach((d, i) => {
          encodePass(enc, `${label}: ${d.label}`, [d], 1, { querySet: this.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 });
        });
      }
    }
    enc.resolveQuerySet(this.set, 0, this.queries, this.resolve, 0);
    enc.copyBufferToBuffer(this.resolve, 0, this.read, 0, 8 * this.queries);
  }

  /**
   * From the mapped read buffer (which it unmaps): the GPU ms of the whole pass, or of each dispatch
   * and their sum.
   */
  times(): { gpuMs: number; perDispatch: number[] | null } {
    const t = new BigInt64Array(this.read.getMappedRange().slice(0));
    this.read.unmap();
    const ms = (i: number) => Math.max(Number(t[2 * i + 1] - t[2 * i]) / 1e6, 0);
    if (!this.perDispatch) return { gpuMs: ms(0), perDispatch: null };
    const each = Array.from({ length: this.dispatches }, (_, i) => ms(i));
    return { gpuMs: each.reduce((a, b) => a + b, 0), perDispatch: each };
  }
}

/** One compute pass of `dispatches`, `reps` times over, timestamped when given `timestampWrites`. */
export function encodePass(enc: GPUCommandEncoder, label: string, dispatches: Dispatch[], reps = 1, timestampWrites?: GPUComputePassTimestampWrites): void {
  const pass = enc.beginComputePass({ label, timestampWrites });
  for (let r = 0; r < reps; r++) {
    for (const d of dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.grid);
    }
  }
  pass.end();
}
