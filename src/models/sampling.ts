// Token choice for generation: greedy argmax, or temperature and top-k sampling from a seeded
// generator, so a run can be repeated exactly.
import { InputError } from '../errors';

/** A seeded uniform generator (mulberry32): the same seed gives the same draws, on any platform. */
export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

export interface SamplingOptions {
  /** 0 (the default) or absent: greedy. */
  temperature?: number;
  /** Keep the k largest logits before sampling; 0 or absent: all. */
  topK?: number;
  /** Needed when sampling (temperature > 0). */
  rng?: SeededRandom;
}

/** Index of the largest value; the first one on ties, as torch.argmax. */
export function argmax(v: ArrayLike<number>, start = 0, end = v.length): number {
  let best = start;
  for (let i = start + 1; i < end; i++) if (v[i] > v[best]) best = i;
  return best - start;
}

/** Picks a token from logits[start, end): greedy, or sampled with temperature and top-k. */
export function pickToken(logits: ArrayLike<number>, opts: SamplingOptions = {}, start = 0, end = logits.length): number {
  const t = opts.temperature ?? 0;
  if (!(t >= 0)) throw new InputError(`sampling: temperature must be >= 0, got ${t}`);
  if (t === 0) return argmax(logits, start, end);
  if (!opts.rng) throw new InputError('sampling: temperature > 0 needs a SeededRandom (opts.rng)');
  const n = end - start;
  const k = opts.topK && opts.topK > 0 ? Math.min(opts.topK, n) : n;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[start + b] - logits[start + a] || a - b).slice(0, k);
  const max = logits[start + order[0]];
  const w = order.map((i) => Math.exp((logits[start + i] - max) / t));
  const total = w.reduce((a, b) => a + b, 0);
  let u = opts.rng.next() * total;
  for (let j = 0; j < k; j++) {
    u -= w[j];
    if (u < 0) return order[j];
  }
  return order[k - 1];
}
