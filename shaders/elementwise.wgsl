// elementwise: out[i] = apply(the operands at output element i), over a contiguous output of up to
// rank 8, for f32, i32 and bool values.
//
// Every buffer is read and written as raw 32-bit words: f32 by its bits, i32 by its two's complement,
// bool as 0 or 1 (any non-zero word reads as true). So one kernel moves all three dtypes, and a copy
// is bit-exact. Inputs are read through strides: broadcasting (stride 0), transposes and other views
// are indexed, never copied first.
//
// `apply` is generated per op by src/kernels/elementwise.ts after this file: it loads each operand it
// uses (a, b, c) with the conversions below, evaluates the op's expression and stores the result's
// word. The op's expression comes from its op module, which compile errors name.
// STRIDED (override): false when every input is contiguous with the output's shape (no index math).
// WG (override): threads per workgroup. The grid is folded over x, y, z; excess threads return.

struct Params {
  numel: u32, rank: u32,
  // The op's scalar operand (masked_fill's value), as a word of the result's dtype.
  scalar: u32, pad0: u32,
  shape: array<vec4<u32>, 2>,
  strideA: array<vec4<u32>, 2>,
  strideB: array<vec4<u32>, 2>,
  strideC: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read> c: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;

override STRIDED: bool = true;
override WG: u32 = 256;

// Stored dtypes, as apply names them.
const DT_F32 = 0u;
const DT_I32 = 1u;
const DT_BOOL = 2u;

// The conversions (torch.Tensor.to): to bool is != 0, NaN included, -0 not; from bool is 0 or 1.
fn to_f32(w: u32, dt: u32) -> f32 {
  if (dt == DT_I32) { return f32(bitcast<i32>(w)); }
  if (dt == DT_BOOL) { return select(0.0, 1.0, w != 0u); }
  return bitcast<f32>(w);
}

// f32 -> i32 truncates toward zero; NaN gives 0 and values past i32's range saturate (torch leaves
// both undefined).
fn to_i32(w: u32, dt: u32) -> i32 {
  if (dt == DT_BOOL) { return select(0, 1, w != 0u); }
  if (dt == DT_I32) { return bitcast<i32>(w); }
  let x = bitcast<f32>(w);
  if (is_nan(x)) { return 0; }
  if (x >= 2147483648.0) { return 2147483647; }
  if (x < -2147483648.0) { return -2147483647 - 1; }
  return i32(x);
}

fn to_bool(w: u32, dt: u32) -> bool {
  if (dt == DT_F32) { return (w & F32_ABS_MASK) != 0u; }
  return w != 0u;
}

fn of_f32(x: f32) -> u32 { return bitcast<u32>(x); }
fn of_i32(x: i32) -> u32 { return bitcast<u32>(x); }
fn of_bool(x: bool) -> u32 { return select(0u, 1u, x); }

fn dimAt(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

// Flat offsets of output element i in a, b and c.
fn offsets(i: u32) -> vec3<u32> {
  if (!STRIDED) { return vec3<u32>(i, i, i); }
  var rest = i;
  var off = vec3<u32>(0u, 0u, 0u);
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let n = dimAt(p.shape, u32(d));
    let j = rest % n;
    rest /= n;
    off += j * vec3<u32>(dimAt(p.strideA, u32(d)), dimAt(p.strideB, u32(d)), dimAt(p.strideC, u32(d)));
  }
  return off;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i >= p.numel) { return; }
  out[i] = apply(offsets(i));
}
