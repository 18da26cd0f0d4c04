// How kernels read a weight operand that may be f32 or 16-bit (f16, bf16): the binding and two
// readers, generated per dtype and joined after the kernel's own shader (shaders/matmul.wgsl's B,
// shaders/embedding.wgsl's table), so each kernel family keeps one shader file.
//   read<N>(i)  -> f32        element i
//   read<N>4(i) -> vec4<f32>  elements i..i+3, i a multiple of 4 (the vec4 paths only)
// Two ways to read 16 bits: 'packed' (every adapter) reads u32 words holding two values, the lower
// half first (little-endian, as the host array lays them out): unpack2x16float for f16, a shift for
// bf16 (its bits are the upper half of an f32). 'shader-f16' reads array<f16> and needs the
// device's shader-f16 feature (then `enable f16;` opens the module); it reads f16 only.
import { LimitError, ShapeError } from '../errors';
import { isHalf, type DType } from '../graph/ir';
import { shaderOf, type DeviceLimits, type KernelOverrides, type Shader } from './kernel';

/** How a 16-bit weight is read: packed pairs in u32 words, or array<f16> (shader-f16). */
export const WEIGHT16_VARIANTS = ['packed', 'shader-f16'] as const;
/** One of WEIGHT16_VARIANTS. */
export type Weight16Variant = (typeof WEIGHT16_VARIANTS)[number];

/** The compile option key that forces a Weight16Variant: `variants: { weight16: 'packed' }`. */
export const WEIGHT16_KEY = 'weight16';

/**
 * The read mode for a weight of `dtype` in `op`: undefined for f32; else the forced variant (checked
 * against the dtype and the device), or shader-f16 for f16 where the device has it, else packed.
 */
export function weight16Mode(op: string, what: string, dtype: DType, overrides: KernelOverrides | undefined, limits: DeviceLimits): Weight16Variant | undefined {
  const forced = overrides?.variants?.[WEIGHT16_KEY] as Weight16Variant | undefined;
  if (forced !== undefined && !WEIGHT16_VARIANTS.includes(forced)) {
    throw new ShapeError(`${op}: unknown ${WEIGHT16_KEY} variant '${forced}'; the variants are ${WEIGHT16_VARIANTS.join(', ')}`);
  }
  if (!isHalf(dtype)) return undefined;
  if (forced === 'shader-f16') {
    if (dtype !== 'f16') throw new ShapeError(`${op}: ${WEIGHT16_KEY} variant 'shader-f16' reads f16 weights; ${what} is ${dtype}`);
    if (!limits.shaderF16) {
      throw new LimitError(`${op}: ${WEIGHT16_KEY} variant 'shader-f16' needs the device feature 'shader-f16', which this device lacks (${what} is f16)`);
    }
  }
  return forced ?? (dtype === 'f16' && limits.shaderF16 ? 'shader-f16' : 'packed');
}

/** WGSL for `name` at `binding` as dtype with `mode`: the binding(s) and read<Name>(i), read<Name>4(i). */
function readerCode(name: string, binding: number, dtype: DType, mode: Weight16Variant | undefined): string {
  const fn = `read${name[0].toUpperCase()}${name.slice(1)}`;
  const at = `@group(0) @binding(${binding}) var<storage, read>`;
  if (mode === undefined) {
    return [
      `${at} ${name}: array<f32>;`,
      `${at} ${name}_vec4: array<vec4<f32>>;`,
      `fn ${fn}(i: u32) -> f32 { return ${name}[i]; }`,
      `fn ${fn}4(i: u32) -> vec4<f32> { return ${name}_vec4[i / 4u]; }`,
    ].join('\n');
  }
  if (mode === 'shader-f16') {
    return [
      `${at} ${name}_f16: array<f16>;`,
      `${at} ${name}_f16x4: array<vec4<f16>>;`,
      `fn ${fn}(i: u32) -> f32 { return f32(${name}_f16[i]); }`,
      `fn ${fn}4(i: u32) -> vec4<f32> { return vec4<f32>(${name}_f16x4[i / 4u]); }`,
    ].join('\n');
  }
  // Packed: element i is half i % 2 of word i / 2; four elements from i (a multiple of 4) are one vec2 of words.
  const pair = dtype === 'f16'
    ? `fn ${fn}Pair(w: u32) -> vec2<f32> { return unpack2x16float(w); }`
    : `fn ${fn}Pair(w: u32) -> vec2<f32> { return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u)); }`;
  return [
    `${at} ${name}_packed: array<u32>;`,
    `${at} ${name}_pairs: array<vec2<u32>>;`,
    pair,
    `fn ${fn}(i: u32) -> f32 { return ${fn}Pair(${name}_packed[i / 2u])[i % 2u]; }`,
    `fn ${fn}4(i: u32) -> vec4<f32> { let w = ${name}_pairs[i / 4u]; return vec4<f32>(${fn}Pair(w.x), ${fn}Pair(w.y)); }`,
  ].join('\n');
}

const shaders = new Map<string, Shader>();

/**
 * Kernel `file`'s shader with weight `name` (at `binding`) read as `dtype` in `mode`, cached per
 * combination (so the pipeline cache, keyed by content, sees one text per combination).
 */
export function withWeightReader(file: string, code: string, name: string, binding: number, dtype: DType, mode: Weight16Variant | undefined): Shader {
  const key = `${file}|${name}|${mode === undefined ? 'f32' : `${dtype}|${mode}`}`;
  let s = shaders.get(key);
  if (s) return s;
  const label = mode === undefined ? 'f32' : `${dtype} ${mode}`;
  s = shaderOf(file, code, [{ file: `src/kernels/weight16.ts (${name}: ${label})`, code: readerCode(name, binding, dtype, mode) }]);
  if (mode === 'shader-f16') {
    // An enable directive must open the module, before the prelude.
    s = { file: s.file, code: `enable f16;\n${s.code}`, parts: [{ file: 'src/kernels/weight16.ts (enable f16)', lines: 1 }, ...(s.parts ?? [])] };
  }
  shaders.set(key, s);
  return s;
}

/** A label part for a step reading a 16-bit weight, e.g. ` f16 weight (packed)`; '' for f32. */
export const weightLabel = (dtype: DType, mode: Weight16Variant | undefined): string => (mode === undefined ? '' : ` ${dtype} weight (${mode})`);
