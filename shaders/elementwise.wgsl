// elementwise: out[i] = f(a[i]) or f(a[i], b[i]) over a contiguous output of up to rank 8.
//
// Bindings: 0 params (uniform), 1 a, 2 b (binary only), 3 out. Inputs are read through strides, so
// broadcasting (stride 0), transposes and other views are indexed, never copied first.
// OP (override): 0 copy, 1 relu, 2 tanh, 3 sigmoid, 4 gelu (erf), 5 gelu (tanh form);
// 10 add, 11 sub, 12 mul, 13 div.
// STRIDED (override): false when every input is contiguous with the output's shape (no index math).
// WG (override): threads per workgroup. The grid is folded over x, y, z; excess threads return.

struct Params {
  numel: u32, rank: u32, pad0: u32, pad1: u32,
  shape: array<vec4<u32>, 2>,
  strideA: array<vec4<u32>, 2>,
  strideB: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override OP: u32 = 0;
override STRIDED: bool = true;
override WG: u32 = 256;

// relu, tanh_safe and sigmoid (common.wgsl) keep NaN. gelu needs no test of its own: x multiplies
// the result, so NaN stays NaN and gelu(-inf) = -inf * 0 = NaN, as torch; a cube past f32's range
// saturates the tanh form, as it does in torch's float32.
fn unaryOp(x: f32) -> f32 {
  switch OP {
    case 1u: { return relu(x); }
    case 2u: { return tanh_safe(x); }
    case 3u: { return sigmoid(x); }
    case 4u: { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752)); }
    case 5u: {
      let u = 0.79788456080286536 * (x + 0.044715 * x * x * x);
      return 0.5 * x * (1.0 + tanh_safe(u));
    }
    default: { return x; }
  }
}

// WGSL has no erf. Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7, exact (+-1) once exp(-x^2)
// underflows, so gelu stays within 1.5e-7 * |x| / 2 of the exact form.
fn erf(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}

fn binaryOp(x: f32, y: f32) -> f32 {
  switch OP {
    case 11u: { return x - y; }
    case 12u: { return x * y; }
    case 13u: { return x / y; }
    default: { return x + y; }
  }
}

fn dimAt(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

// Flat offsets of output element i in a and b.
fn offsets(i: u32) -> vec2<u32> {
  if (!STRIDED) { return vec2<u32>(i, i); }
  var rest = i;
  var off = vec2<u32>(0u, 0u);
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let n = dimAt(p.shape, u32(d));
    let j = rest % n;
    rest /= n;
    off += j * vec2<u32>(dimAt(p.strideA, u32(d)), dimAt(p.strideB, u32(d)));
  }
  return off;
}

fn index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
}

@compute @workgroup_size(WG)
fn unary_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= p.numel) { return; }
  out[i] = unaryOp(a[offsets(i).x]);
}

@compute @workgroup_size(WG)
fn binary_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= p.numel) { return; }
  let off = offsets(i);
  out[i] = binaryOp(a[off.x], b[off.y]);
}
