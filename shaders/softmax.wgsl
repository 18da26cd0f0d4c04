// softmax: y = exp(x - max) / sum(exp(x - max)) along one dim of a contiguous tensor.
//
// Bindings: 0 params (uniform), 1 x, 2 y. The tensor is viewed as [outer, len, inner]; a row is the
// `len` elements x[o * len * inner + j * inner + i], one row per workgroup (rows = outer * inner).
// Two passes over the row: an online pass keeps a running (max, sum) per thread, merged across the
// workgroup in a tree; the second pass writes. So x is read twice and y written once.
// Special values as torch: a row holding NaN or +inf is all NaN (inf - inf), a row of only -inf is all
// NaN (0 / 0), and -inf elsewhere gives 0. The online pass reads each value through nan_as_inf
// (common.wgsl), so a NaN raises the running max to +inf (max() may drop a NaN, never an inf), and
// skips -inf; the write pass finds both NaN cases in the row's (max, sum): a max of +inf, or a sum of 0.
// Entry points (variants):
//   softmax_main  one workgroup of WG threads per row, a tree reduction in workgroup memory.
//   softmax_row   one thread per row, no barriers: for many short-to-medium rows, where the
//                 reduction's barriers cost more than the row's loads (CPU-emulated adapters).
// Tunables (override): WG, threads per row (softmax_main, a power of two <= 256) or rows per
// workgroup (softmax_row).

struct Params {
  rows: u32, len: u32, inner: u32, pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

override WG: u32 = 256;

// The running max starts at the lowest finite f32, not -inf, so rescaling never meets (-inf) - (-inf).
const LOWEST = -0x1.fffffep+127f;

var<workgroup> redMax: array<f32, 256>;
var<workgroup> redSum: array<f32, 256>;

// One step of the online pass: (max, sum of exp(x - max)) after seeing x; rescales the sum only
// when the max moves. Once the max is +inf the sum means nothing: the row is NaN.
fn online(ms: vec2<f32>, x: f32) -> vec2<f32> {
  let v = nan_as_inf(x);
  if (v > ms.x) { return vec2<f32>(v, ms.y * exp(ms.x - v) + 1.0); }
  if (is_inf(v)) { return ms; }
  return vec2<f32>(ms.x, ms.y + exp(v - ms.x));
}

// y for x against the row's (max, sum); exp(-inf - max) is 0 on every driver tested.
fn output(x: f32, ms: vec2<f32>, inv: f32) -> f32 {
  return select(exp(x - ms.x) * inv, nan_f32(), is_inf(ms.x) || ms.y == 0.0);
}

// Merges two (max, sum of exp(x - max)) pairs; an empty side (sum 0) adds nothing.
fn merge(m1: f32, s1: f32, m2: f32, s2: f32) -> vec2<f32> {
  let m = max(m1, m2);
  var s = 0.0;
  if (s1 > 0.0) { s += s1 * exp(m1 - m); }
  if (s2 > 0.0) { s += s2 * exp(m2 - m); }
  return vec2<f32>(m, s);
}

@compute @workgroup_size(WG)
fn softmax_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wid, nwg);
  if (row >= p.rows) { return; }
  let o = row / p.inner;
  let i = row % p.inner;
  let base = o * p.len * p.inner + i;

  var ms = vec2<f32>(LOWEST, 0.0);
  for (var j = lid; j < p.len; j += WG) { ms = online(ms, x[base + j * p.inner]); }
  redMax[lid] = ms.x;
  redSum[lid] = ms.y;
  workgroupBarrier();
  for (var step = WG / 2u; step > 0u; step /= 2u) {
    if (lid < step) {
      let r = merge(redMax[lid], redSum[lid], redMax[lid + step], redSum[lid + step]);
      redMax[lid] = r.x;
      redSum[lid] = r.y;
    }
    workgroupBarrier();
  }
  let all = vec2<f32>(redMax[0], redSum[0]);
  let inv = 1.0 / all.y;
  for (var j = lid; j < p.len; j += WG) {
    let k = base + j * p.inner;
    y[k] = output(x[k], all, inv);
  }
}

@compute @workgroup_size(WG)
fn softmax_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wid, nwg) * WG + lid;
  if (row >= p.rows) { return; }
  let base = (row / p.inner) * p.len * p.inner + row % p.inner;
  var ms = vec2<f32>(LOWEST, 0.0);
  for (var j = 0u; j < p.len; j++) { ms = online(ms, x[base + j * p.inner]); }
  let inv = 1.0 / ms.y;
  for (var j = 0u; j < p.len; j++) {
    let k = base + j * p.inner;
    y[k] = output(x[k], ms, inv);
  }
}
