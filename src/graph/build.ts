// The GPU objects of a compiled graph, built from its plan: the pipelines, a buffer per slot (the
// intermediates' pool, inputs, weights shared through the context, states, index flags), the
// uniforms of every step packed into one buffer, a bind group per dispatch, the readback buffers of
// the outputs, and the timestamp queries; and how a run fills the input buffers and reads the
// outputs back. graph/executor.ts owns what this makes, and builds it again on a new device after a
// device loss.
import { entryLayout, packUniforms } from '../runtime/reflect';
import type { GpuContext } from '../runtime/gpu';
import type { Plan } from './planner';
import type { Feeds } from './executable';
import type { Binding } from './io-binding';
import { extractPart, scatterPart, type PartRange } from './split';
import { PassTimer, type Dispatch, type TimestampMode } from './timer';

/** A buffer an input's feed is written to: the whole feed, or one part of a feed past the binding limit. */
export interface InputBuffer {
  name: string;
  buffer: GPUBuffer;
  part?: PartRange;
}

/** An output's readback: one buffer, or its parts (`part` says where each goes). */
export interface OutputRead {
  n: number;
  int: boolean;
  reads: { src: GPUBuffer; staging: GPUBuffer; bytes: number; n: number; part?: PartRange }[];
}

/** Flags of indices computed in the graph (Plan.flags): cleared, raised by kernels, read back each run. */
export interface FlagBuffers {
  buffer: GPUBuffer;
  read: GPUBuffer;
  bytes: number;
}

export interface Built {
  dispatches: Dispatch[];
  inputBuffers: InputBuffer[];
  outputs: Map<string, OutputRead>;
  flags?: FlagBuffers;
  timer?: PassTimer;
}

export const emptyBuilt = (): Built => ({ dispatches: [], inputBuffers: [], outputs: new Map() });

/** How the executable makes and accounts for the buffers it holds. */
export interface BuildHost {
  /** A buffer of the executable's own, destroyed with it. */
  buffer(label: string, size: number, usage: number): GPUBuffer;
  /** The buffer of constant slot `slot` (shared through the context). */
  constant(slot: number): GPUBuffer;
  /** The buffer of state `name` (shared with other executables, or renewed after a device loss). */
  state(name: string, bytes: number): GPUBuffer;
}

export async function buildGpu(ctx: GpuContext, plan: Plan, host: BuildHost, timestamps: TimestampMode | undefined): Promise<Built> {
  const { device } = ctx;
  const live = plan.steps.filter((s) => s.numel > 0);
  const pipelines = await Promise.all(live.map((s) => ctx.pipeline(s.plan.shader, s.plan.entry, s.plan.constants, s.label)));
  const built = emptyBuilt();
  await ctx.scoped('compile: buffers and bind groups', () => {
    const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const pool = plan.pool.map((bytes, i) => host.buffer(`seqgpu pool ${i}`, bytes, STORAGE));
    const bySlot = plan.slots.map((s, i) => {
      if (s.kind === 'temp') return pool[s.pool!];
      if (s.kind === 'state') return host.state(s.name!, s.bytes);
      if (s.kind === 'constant') return host.constant(i);
      if (s.kind === 'flags') {
        const buffer = host.buffer('seqgpu index flags', s.bytes, STORAGE);
        const read = host.buffer('seqgpu index flags readback', s.bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
        built.flags = { buffer, read, bytes: s.bytes };
        return buffer;
      }
      const part = s.part && ` part ${s.part.start}..${s.part.end - 1}`;
      const b = host.buffer(`input '${s.name}'${part ?? ''}`, s.bytes, STORAGE);
      built.inputBuffers.push({ name: s.name!, buffer: b, part: s.part });
      return b;
    });
    // Unread bindings get 16-byte stand-ins, a different one for each in a step, since WebGPU
    // refuses one buffer bound twice in a dispatch when either binding is writable.
    const dummies: GPUBuffer[] = [];
    const dummy = (k: number) => (dummies[k] ??= host.buffer(`seqgpu unused binding ${k}`, 16, GPUBufferUsage.STORAGE));

    const align = device.limits.minUniformBufferOffsetAlignment;
    const packed = live.map((s) => packUniforms(s.plan.shader, s.plan.entry, s.plan.uniforms));
    const offsets: number[] = [];
    let total = 0;
    for (const p of packed) {
      offsets.push(total);
      total += Math.ceil(p.byteLength / align) * align;
    }
    const uniforms = host.buffer('seqgpu uniforms', Math.max(total, 16), GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    packed.forEach((p, i) => device.queue.writeBuffer(uniforms, offsets[i], p));

    built.dispatches = live.map((s, i) => {
      const u = entryLayout(s.plan.shader, s.plan.entry).uniform;
      let unread = 0;
      const entries: GPUBindGroupEntry[] = s.bindings!.map(({ binding, slot }) => ({
        binding, resource: { buffer: slot === 'dummy' ? dummy(unread++) : bySlot[slot] },
      }));
      if (u) entries.push({ binding: u.binding, resource: { buffer: uniforms, offset: offsets[i], size: packed[i].byteLength } });
      const bindGroup = device.createBindGroup({ label: s.label, layout: pipelines[i].layout, entries });
      return { label: s.label, pipeline: pipelines[i].pipeline, bindGroup, grid: s.plan.grid };
    });

    for (const [name, o] of plan.outputs) {
      const read = (slot: number, n: number, part?: PartRange) => {
        const bytes = plan.slots[slot].bytes;
        const label = `output '${name}' readback${part ? ` part ${part.start}..${part.end - 1}` : ''}`;
        const staging = host.buffer(label, bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
        return { src: bySlot[slot], staging, bytes, n, part };
      };
      const n = o.shape.reduce((a, b) => a * b, 1);
      const sp = o.split;
      const reads = sp
        ? sp.parts.map((p) => read(p.slot, sp.outer * (p.end - p.start) * sp.inner, { outer: sp.outer, len: sp.len, inner: sp.inner, start: p.start, end: p.end }))
        : [read(o.slot, n)];
      built.outputs.set(name, { n, int: o.dtype !== 'f32', reads });
    }
    if (timestamps && device.features.has('timestamp-query')) {
      built.timer = new PassTimer(device, timestamps === 'dispatch', built.dispatches.length, (l, n, u) => host.buffer(l, n, u));
    }
  });
  return built;
}

/**
 * A run's inputs into their buffers: a caller's GPU buffer copied in `enc`, host values written to
 * the queue (bool as u32 words; a part of a feed past the binding limit into each part's buffer).
 */
export function writeInputs(device: GPUDevice, enc: GPUCommandEncoder, inputs: InputBuffer[], feeds: Feeds, fed: Binding['inputs']): void {
  const words = new Map<string, Float32Array | Int32Array | Uint32Array>();
  for (const { name, buffer, part } of inputs) {
    const given = fed.get(name);
    if (given) {
      enc.copyBufferToBuffer(given.buffer, 0, buffer, 0, given.bytes);
      continue;
    }
    let data = words.get(name);
    if (!data) {
      const v = feeds[name];
      words.set(name, (data = v instanceof Uint8Array ? Uint32Array.from(v) : v));
    }
    if (part) data = extractPart(data, part);
    device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }
}

/** An output's values from its mapped staging buffers, which it unmaps; parts joined. */
export function readOutput(o: OutputRead): Float32Array {
  const values = o.reads.map((r) => {
    const bytes = r.staging.getMappedRange(0, r.bytes).slice(0, 4 * r.n);
    r.staging.unmap();
    // i32 and bool values (held as u32) come back as numbers in a Float32Array, like every output.
    return o.int ? Float32Array.from(new Int32Array(bytes)) : new Float32Array(bytes);
  });
  if (!o.reads[0]?.part) return values[0];
  const joined = new Float32Array(o.n);
  o.reads.forEach((r, i) => scatterPart(joined, values[i], r.part!));
  return joined;
}
