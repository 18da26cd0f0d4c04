// Plans shaders/sample.wgsl: one workgroup per row of logits, a radix search over each element's
// place in pickToken's walk (no sort, nothing written but the token).
import code from '../../shaders/sample.wgsl?raw';
import { LimitError } from '../errors';
import { foldGrid, nextPow2, pickConstants, shaderOf, type DeviceLimits, type KernelOverrides, type KernelPlan } from './kernel';

export const sampleShader = shaderOf('shaders/sample.wgsl', code);

/** Rows longer than this are refused: the kernel counts elements in f32, exact to 2^24. */
export const SAMPLE_MAX_LEN = 2 ** 24;

/** `rows` rows of `len` logits; `greedy` when the temperature is the build-time 0 (no draws bound). */
export function planSample(rows: number, len: number, greedy: boolean, overrides: KernelOverrides | undefined, limits: DeviceLimits): KernelPlan {
  if (len > SAMPLE_MAX_LEN) {
    throw new LimitError(`sampleTokens: rows of ${len} logits; the kernel counts in f32 and takes at most ${SAMPLE_MAX_LEN}`);
  }
  // 128 threads keep the 16 bucket sums per thread within 8 KiB of workgroup memory; short rows
  // take fewer, so threads are not left idle through the reductions.
  const constants = pickConstants('sample', { WG: Math.min(128, Math.max(32, nextPow2(Math.ceil(len / 8)))) }, overrides);
  const wg = Number(constants.WG);
  if (wg !== nextPow2(wg) || wg > 128 || wg > limits.maxComputeInvocationsPerWorkgroup) {
    throw new LimitError(`sampleTokens: WG must be a power of two <= min(128, ${limits.maxComputeInvocationsPerWorkgroup}), got ${wg}`);
  }
  // The index's digits start where its highest set bit can be, in whole 4-bit digits.
  const indexBits = Math.ceil(Math.ceil(Math.log2(Math.max(len, 2))) / 4) * 4;
  return {
    shader: sampleShader, entry: greedy ? 'sample_argmax' : 'sample_main', constants,
    variant: `${greedy ? 'argmax' : 'radix'}, wg${wg}`,
    grid: foldGrid('sampleTokens', rows, limits),
    uniforms: { rows, len, loStart: 64 - indexBits, half: Math.floor(wg / 2) },
  };
}
