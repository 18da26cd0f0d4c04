// layernorm: y = (x - mean) / sqrt(var + eps) * weight + bias over the last N elements of each row
// (torch.nn.functional.layer_norm with normalized_shape flattened to N; biased variance).
//
// Bindings: 0 params (uniform), 1 x [rows, N] contiguous, 2 weight [N] and 3 bias [N] (dummies when
// HAS_WEIGHT / HAS_BIAS are false), 4 y [rows, N].
// The variance is a second pass over centred values, not E[x^2] - mean^2, which cancels
// catastrophically when |mean| >> std.
// Entry points (variants):
//   layernorm_main  one workgroup of WG threads per row, tree reductions in workgroup memory.
//   layernorm_row   one thread per row, no barriers: on CPU-emulated adapters, where a barrier
//                   costs more than the row's loads.
// Tunables (override): WG, threads per row (a power of two <= 256) or rows per workgroup.

struct Params {
  rows: u32, n: u32, eps: f32, pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

override WG: u32 = 256;
override HAS_WEIGHT: bool = true;
override HAS_BIAS: bool = true;

var<workgroup> red: array<f32, 256>;

// Sum of `v` over the workgroup; every thread gets the total.
fn workgroupSum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var step = WG / 2u; step > 0u; step /= 2u) {
    if (lid < step) { red[lid] += red[lid + step]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn layernorm_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (row >= p.rows) { return; }
  let base = row * p.n;
  var s = 0.0;
  for (var j = lid; j < p.n; j += WG) { s += x[base + j]; }
  let mean = workgroupSum(lid, s) / f32(p.n);
  var q = 0.0;
  for (var j = lid; j < p.n; j += WG) {
    let d = x[base + j] - mean;
    q = fma(d, d, q);
  }
  let inv = inverseSqrt(workgroupSum(lid, q) / f32(p.n) + p.eps);
  for (var j = lid; j < p.n; j += WG) {
    var v = (x[base + j] - mean) * inv;
    if (HAS_WEIGHT) { v *= weight[j]; }
    if (HAS_BIAS) { v += bias[j]; }
    y[base + j] = v;
  }
}

@compute @workgroup_size(WG)
fn layernorm_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let row = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
  if (row >= p.rows) { return; }
  let base = row * p.n;
  var s = 0.0;
  for (var j = 0u; j < p.n; j++) { s += x[base + j]; }
  let mean = s / f32(p.n);
  var q = 0.0;
  for (var j = 0u; j < p.n; j++) {
    let d = x[base + j] - mean;
    q = fma(d, d, q);
  }
  let inv = inverseSqrt(q / f32(p.n) + p.eps);
  for (var j = 0u; j < p.n; j++) {
    var v = (x[base + j] - mean) * inv;
    if (HAS_WEIGHT) { v *= weight[j]; }
    if (HAS_BIAS) { v += bias[j]; }
    y[base + j] = v;
  }
}
