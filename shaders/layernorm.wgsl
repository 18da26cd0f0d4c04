// layernorm: y = (x - mean) / sqrt(var + eps) * weight + bias over the last N elements of each row
// (torch.nn.functional.layer_norm with normalized_shape flattened to N; biased variance).
//
// Bindings: 0 params (uniform), 1 x [rows, N] contiguous, 2 weight [N] and 3 bias [N] (dummies when
// HAS_WEIGHT / HAS_BIAS are false), 4 y [rows, N].
// The variance is a second pass over centred values, not E[x^2] - mean^2, which cancels
// catastrophically when |mean| >> std.
// Special values as torch: NaN or +-inf in a row makes the whole row NaN. Huge finite values come out
// right too: where the sum, or the sum of centred squares (a value 2e19 from the mean squares past
// f32's range), overflows, that pass runs again over x * 2^-80. The rerun costs a branch on a
// row-uniform value, and a third read of x only in such rows.
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

const SCALE_DOWN = 0x1p-80f;
const SCALE_UP = 0x1p80f;

// Sum of `v` over the workgroup; every thread gets the total, as a uniform value, so a row's rare
// paths may branch on it around barriers. workgroupUniformLoad's own barriers order the read after
// the last add and before red is written again.
fn workgroupSum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  for (var step = WG / 2u; step > 0u; step /= 2u) {
    workgroupBarrier();
    if (lid < step) { red[lid] += red[lid + step]; }
  }
  return workgroupUniformLoad(&red[0]);
}

// This thread's share (j = first, first + stride, ...) of the row's sum of x * sc - msc, or of the
// squares of those: the rescaled passes.
fn partial(base: u32, first: u32, stride: u32, sc: f32, msc: f32, squares: bool) -> f32 {
  var acc = 0.0;
  for (var j = first; j < p.n; j += stride) {
    let d = fma(x[base + j], sc, -msc);
    acc = select(acc + d, fma(d, d, acc), squares);
  }
  return acc;
}

// 1 / std from q, the sum of squares of the row's centred values times sc; NaN for a row holding NaN
// or inf (a non-finite mean). Scaled, the variance is past 1e38 / n, so eps (times sc^2) drops out.
fn rstd(mean: f32, q: f32, sc: f32) -> f32 {
  let n = f32(p.n);
  let r = select(inverseSqrt(q / n + p.eps), inverseSqrt(q / n), sc != 1.0);
  return select(r, nan_f32(), is_nonfinite(mean));
}

fn writeRow(base: u32, first: u32, stride: u32, mean: f32, sc: f32, r: f32) {
  let msc = mean * sc;
  for (var j = first; j < p.n; j += stride) {
    var v = fma(x[base + j], sc, -msc) * r;
    if (HAS_WEIGHT) { v *= weight[j]; }
    if (HAS_BIAS) { v += bias[j]; }
    y[base + j] = v;
  }
}

@compute @workgroup_size(WG)
fn layernorm_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.n;
  var s = 0.0;
  for (var j = lid; j < p.n; j += WG) { s += x[base + j]; }
  var mean = workgroupSum(lid, s) / f32(p.n);
  if (is_nonfinite(mean)) { mean = workgroupSum(lid, partial(base, lid, WG, SCALE_DOWN, 0.0, false)) / f32(p.n) * SCALE_UP; }
  var q = 0.0;
  for (var j = lid; j < p.n; j += WG) {
    let d = x[base + j] - mean;
    q = fma(d, d, q);
  }
  q = workgroupSum(lid, q);
  var sc = 1.0;
  if (is_inf(q) && !is_nonfinite(mean)) {
    sc = SCALE_DOWN;
    q = workgroupSum(lid, partial(base, lid, WG, sc, mean * sc, true));
  }
  writeRow(base, lid, WG, mean, sc, rstd(mean, q, sc));
}

@compute @workgroup_size(WG)
fn layernorm_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wid, nwg) * WG + lid;
  if (row >= p.rows) { return; }
  let base = row * p.n;
  var s = 0.0;
  for (var j = 0u; j < p.n; j++) { s += x[base + j]; }
  var mean = s / f32(p.n);
  if (is_nonfinite(mean)) { mean = partial(base, 0u, 1u, SCALE_DOWN, 0.0, false) / f32(p.n) * SCALE_UP; }
  var q = 0.0;
  for (var j = 0u; j < p.n; j++) {
    let d = x[base + j] - mean;
    q = fma(d, d, q);
  }
  var sc = 1.0;
  if (is_inf(q) && !is_nonfinite(mean)) {
    sc = SCALE_DOWN;
    q = partial(base, 0u, 1u, sc, mean * sc, true);
  }
  writeRow(base, 0u, 1u, mean, sc, rstd(mean, q, sc));
}
