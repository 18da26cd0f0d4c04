// common: the prelude joined in front of every kernel shader (shaderOf in src/kernels/kernel.ts), so
// NaN, +-inf and huge values get the same treatment, torch's, in every kernel and variant; it also
// holds the folded grid's workgroup index that every kernel shares.
//
// WGSL promises nothing about NaN or inf, and the CPU emulators use that: lavapipe and SwiftShader
// fold `x != x` to false and give max(NaN, 0) = 0 and clamp(NaN, a, b) = a; lavapipe folds x - x to
// 0 even for inf; SwiftShader's exp(NaN) is +inf and its tanh(100) is NaN. So NaN and inf are found
// by their bits, never by a comparison, and a NaN's result never comes from min, max, clamp or exp.
// A NaN or inf constant is made at run time (f32_of): as a const-expression it does not compile.

// The flat index of a workgroup in a grid that foldGrid (src/kernels/kernel.ts) folded over x, y and
// z because it has more workgroups than one dimension allows.
fn flat_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + nwg.x * (wid.y + nwg.y * wid.z); }

const F32_ABS_MASK = 0x7fffffffu;
const F32_INF_BITS = 0x7f800000u;

fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & F32_ABS_MASK) > F32_INF_BITS; }
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & F32_ABS_MASK) == F32_INF_BITS; }
fn is_nonfinite(x: f32) -> bool { return (bitcast<u32>(x) & F32_ABS_MASK) >= F32_INF_BITS; }
fn is_nan4(x: vec4<f32>) -> vec4<bool> { return (bitcast<vec4<u32>>(x) & vec4<u32>(F32_ABS_MASK)) > vec4<u32>(F32_INF_BITS); }

fn f32_of(bits: u32) -> f32 { return bitcast<f32>(bits); }
fn nan_f32() -> f32 { return f32_of(0x7fc00000u); }
fn inf_f32() -> f32 { return f32_of(F32_INF_BITS); }

// tanh rounds to +-1 in f32 from |x| ~ 9 on, so the clamp loses nothing; it keeps SwiftShader's
// tanh, NaN for large |x|, finite.
fn tanh_safe(x: f32) -> f32 { return select(tanh(clamp(x, -15.0, 15.0)), x, is_nan(x)); }

// exp(-x) overflows to inf below x = -88.7, so those give 0 and -inf gives 0, +inf gives 1.
fn sigmoid(x: f32) -> f32 { return select(1.0 / (1.0 + exp(-x)), x, is_nan(x)); }

// torch.relu(NaN) is NaN.
fn relu(x: f32) -> f32 { return select(max(x, 0.0), x, is_nan(x)); }

// For a running max that must remember a NaN: max() may drop it, but never drops +inf.
fn nan_as_inf(x: f32) -> f32 { return select(x, inf_f32(), is_nan(x)); }
