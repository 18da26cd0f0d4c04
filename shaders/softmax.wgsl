// softmax: y = exp(x - max) / sum(exp(x - max)) along one dim of a contiguous tensor.
//
// Bindings: 0 params (uniform), 1 x, 2 y. The tensor is viewed as [outer, len, inner]; a row is the
// `len` elements x[o * len * inner + j * inner + i], one row per workgroup (rows = outer * inner).
// Two passes over the row: an online pass keeps a running (max, sum) per thread, merged across the
// workgroup in a tree; the second pass writes. So x is read twice and y written once.
// A row of all -inf gives NaN, as torch does (0 / 0).
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

// The lowest finite f32 stands in for -inf, so exp(v - m) is 0 for v = -inf, never NaN.
const LOWEST = -0x1.fffffep+127f;

var<workgroup> redMax: array<f32, 256>;
var<workgroup> redSum: array<f32, 256>;

// One step of the online pass: (max, sum of exp(x - max)) after seeing v; rescales the sum only
// when the max moves.
fn online(ms: vec2<f32>, v: f32) -> vec2<f32> {
  if (v > ms.x) { return vec2<f32>(v, ms.y * exp(ms.x - v) + 1.0); }
  return vec2<f32>(ms.x, ms.y + exp(v - ms.x));
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
  let row = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
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
  let rowMax = redMax[0];
  let inv = 1.0 / redSum[0];
  for (var j = lid; j < p.len; j += WG) {
    let k = base + j * p.inner;
    y[k] = exp(x[k] - rowMax) * inv;
  }
}

@compute @workgroup_size(WG)
fn softmax_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let row = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
  if (row >= p.rows) { return; }
  let base = (row / p.inner) * p.len * p.inner + row % p.inner;
  var ms = vec2<f32>(LOWEST, 0.0);
  for (var j = 0u; j < p.len; j++) { ms = online(ms, x[base + j * p.inner]); }
  let m = ms.x;
  let inv = 1.0 / ms.y;
  for (var j = 0u; j < p.len; j++) {
    let k = base + j * p.inner;
    y[k] = exp(x[k] - m) * inv;
  }
}
