// 16-bit floats on the host: IEEE 754 binary16 (f16) and bfloat16 (bf16, the upper half of a
// binary32), held as their bit patterns in Uint16Arrays. Widening is exact; narrowing rounds to
// nearest, ties to even, as torch's `.to(torch.float16)` / `.to(torch.bfloat16)` do. The GPU reads
// the same bits (shaders/matmul.wgsl, shaders/embedding.wgsl), so the CPU reference widens these
// very values and computes in float64 on them.
import type { HalfDType } from './ir';

let f16Table: Float32Array | undefined;

/** All 65536 binary16 values as f32: sign, 5-bit exponent (bias 15), 10-bit fraction. */
function f16Values(): Float32Array {
  if (f16Table) return f16Table;
  f16Table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    f16Table[h] = exp === 0 ? sign * frac * 2 ** -24 // zero and subnormals
      : exp === 31 ? (frac ? NaN : sign * Infinity)
      : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return f16Table;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits nearest to `x` (rounded to f32 first), ties to even; past the range, ±inf. */
export function f16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000, exp = (bits >>> 23) & 0xff, mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // the binary16 exponent field
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // A binary16 subnormal (or zero): the significand in units of 2^-24.
    const shift = 14 - e;
    if (shift > 24) return sign;
    const full = mant | 0x800000;
    let r = full >>> shift;
    const rem = full & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++; // a carry into the exponent is right, up to inf
  return sign | r;
}

/** The bfloat16 bits nearest to `x` (rounded to f32 first), ties to even; NaN stays a quiet NaN. */
export function bf16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) & 0x8000) | 0x7fc0;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The value of 16-bit pattern `h` of `dtype`. */
export function halfValue(h: number, dtype: HalfDType): number {
  if (dtype === 'f16') return f16Values()[h & 0xffff];
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** `data` rounded to 16 bits of `dtype` (round to nearest, ties to even). */
export function toHalf(data: ArrayLike<number>, dtype: HalfDType): Uint16Array {
  const out = new Uint16Array(data.length);
  const conv = dtype === 'f16' ? f16Bits : bf16Bits;
  for (let i = 0; i < data.length; i++) out[i] = conv(data[i]);
  return out;
}

/** 16-bit patterns of `dtype` widened to f32 (exact). */
export function halfToF32(bits: Uint16Array, dtype: HalfDType): Float32Array {
  const out = new Float32Array(bits.length);
  if (dtype === 'f16') {
    const t = f16Values();
    for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  } else {
    const w = new Uint32Array(out.buffer);
    for (let i = 0; i < bits.length; i++) w[i] = bits[i] << 16;
  }
  return out;
}
