// Token choice for generation on the host: greedy argmax, or temperature and top-k sampling from a
// seeded generator, so a run can be repeated exactly. The decoders choose on the GPU with the
// sampleTokens op, which follows the same definition (reference/sample.ts) and the same draws.
import { InputError } from '../errors';
import { F32_MAX, argmaxRow, sampleRow } from '../reference/sample';

/** A seeded uniform generator (mulberry32): the same seed gives the same draws, on any platform. */
export class SeededRandom {
  private state: number;
  /**
   * A generator whose draws depend on the seed alone.
   * @param seed any number; its low 32 bits (as an unsigned integer) seed the generator
   */
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

/** How pickToken (and GptDecoder.generate) chooses a token from logits. */
export interface SamplingOptions {
  /** 0 (the default) or absent: greedy. */
  temperature?: number;
  /** Keep the k largest logits before sampling; 0 or absent: all. */
  topK?: number;
  /** Needed when sampling (temperature > 0). */
  rng?: SeededRandom;
}

/** Index of the largest value; the first one on ties, and the first NaN if any, as torch.argmax. */
export function argmax(v: ArrayLike<number>, start = 0, end = v.length): number {
  return argmaxRow(v, start, end);
}

/**
 * Checks sampling options as the decoders and pickToken take them: temperature 0..3.4e38 (f32's
 * largest, so the GPU can hold it), topK an integer >= 0, an rng when sampling. `what` names the caller.
 */
export function checkSampling(opts: SamplingOptions, what = 'sampling'): void {
  const t = opts.temperature ?? 0;
  if (!(typeof t === 'number' && t >= 0 && t <= F32_MAX)) throw new InputError(`${what}: temperature must be a number in 0..3.4e38 (0 is greedy), got ${String(t)}`);
  const k = opts.topK ?? 0;
  if (!(Number.isInteger(k) && k >= 0 && k <= 2147483647)) throw new InputError(`${what}: topK must be an integer >= 0 (0 keeps all), got ${String(k)}`);
  if (t > 0 && !opts.rng) throw new InputError(`${what}: temperature > 0 needs a SeededRandom (opts.rng)`);
}

/**
 * Picks a token from logits[start, end): greedy, or sampled with temperature and top-k: tokens by
 * logit descending (index ascending on ties), the k largest kept, weights exp((l - max) / t), the
 * first whose running weight passes u * total for one draw u of opts.rng. A row holding NaN gives
 * its first NaN, as torch.argmax.
 */
export function pickToken(logits: ArrayLike<number>, opts: SamplingOptions = {}, start = 0, end = logits.length): number {
  checkSampling(opts);
  const t = opts.temperature ?? 0;
  if (t === 0) return argmaxRow(logits, start, end);
  return sampleRow(logits, start, end, t, opts.topK ?? 0, opts.rng!.next());
}
