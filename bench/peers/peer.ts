// What a peer engine (TF.js, ONNX Runtime Web) offers the bench: for a case's OpSpec and data, a job
// whose run() does what a user's call does (inputs uploaded, the op, outputs read back) and whose
// outputs() turns the last run's result into the reference's layout, outside the timed runs.
import type { OpSpec } from '../cases';

export type CaseData = Record<string, Float32Array | Int32Array | Uint8Array>;

export interface PeerJob {
  run(): Promise<unknown>;
  /** The outputs of run()'s result in the reference's layout and names (not timed). */
  outputs(result: unknown): Record<string, Float32Array>;
  /** GPU kernels per run where the peer reports them, else null. */
  dispatches: number | null;
  /** What the peer runs (the API used, where its nodes were placed). */
  note: string;
  dispose(): void;
}

export interface Peer {
  readonly impl: string;
  /** Builds the job; throws PeerSkip when the peer has no such op (or not with these semantics). */
  setup(spec: OpSpec, data: CaseData): Promise<PeerJob>;
  /** Engine, version and adapter, for the report. */
  describe(): Promise<PeerInfo>;
}

export interface PeerInfo {
  impl: string;
  version: string;
  backend: string;
  adapter: string;
}

/** The peer has no such op here: the row is marked skipped with this reason. */
export class PeerSkip extends Error {}

/** Permutes the gate blocks of a [G·H, …] weight (or [G·H] bias): out block i = in block order[i]. */
export function permuteGates(w: Float32Array, gates: number, order: number[]): Float32Array {
  const block = w.length / gates;
  const out = new Float32Array(w.length);
  order.forEach((src, i) => out.set(w.subarray(src * block, (src + 1) * block), i * block));
  return out;
}

/** Row-major [R, C] → [C, R]. */
export function transpose2d(x: Float32Array, R: number, C: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = x[r * C + c];
  return out;
}

/** Swaps the two middle dims of a row-major [A, B, C, D] (also [A, B, C] with D = 1). */
export function swap12(x: Float32Array, A: number, B: number, C: number, D = 1): Float32Array {
  const out = new Float32Array(x.length);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        const src = ((a * B + b) * C + c) * D, dst = ((a * C + c) * B + b) * D;
        out.set(x.subarray(src, src + D), dst);
      }
    }
  }
  return out;
}

export function f32(data: CaseData, name: string): Float32Array {
  const v = data[name];
  if (!(v instanceof Float32Array)) throw new Error(`peer: case data '${name}' is missing or not f32`);
  return v;
}
