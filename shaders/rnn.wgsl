// rnn: the recurrence of one layer of torch.nn.RNN (Elman), both directions at once:
//   h' = act(x·W_ihᵀ + b_ih + b_hh + W_hh·h), act tanh or relu.
// The input projection of every timestep, both biases folded in, is one GEMM before this (xproj).
//
// Bindings: 0 params (uniform);
//   1 xproj [rows, D*H]    row(t, b) = t*tStride + b*bStride (x's own row order), columns d*H + j
//   2 whh0 [H, H]          forward W_hh;  3 whh1 [H, H] reverse (whh0 again when D = 1)
//   4 h0 [D*L, B, H]       initial state (a dummy unless HAS_H0)
//   5 out [rows, D*H]      this layer's output; h_prev is read from the previous timestep's row
//   6 hN [D*L, B, H]       final state; element (d, b, j) of this layer at stateBase + (d*B + b)*H + j
//
// W_hh element (row r, k) sits at r*wStrideR + k*wStrideK (torch's contiguous [G*H, H]: wStrideR = H,
// wStrideK = 1; a transposed view is read as it is).
//
// Entry points (variants), as in lstm.wgsl:
//   rnn_step        one dispatch per timestep; grid (ceil(H/UNITS), B, D); KL lanes per dot product.
//   rnn_persistent  one dispatch per layer; grid (1, 1, D); h double-buffered in workgroup memory.
// Tunables (override): KL, UNITS, HAS_H0, RELU (else tanh), BH (B*H, the persistent state size).

struct Params {
  T: u32, B: u32, H: u32, D: u32,
  step: u32, stateBase: u32, tStride: u32, bStride: u32,
  wStrideR: u32, wStrideK: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xproj: array<f32>;
@group(0) @binding(2) var<storage, read> whh0: array<f32>;
@group(0) @binding(3) var<storage, read> whh1: array<f32>;
@group(0) @binding(4) var<storage, read> h0: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> hN: array<f32>;

override KL: u32 = 16;
override UNITS: u32 = 8;
override HAS_H0: bool = false;
override RELU: bool = false;
override BH: u32 = 1;

var<workgroup> part: array<f32, KL * UNITS>;
var<workgroup> hs: array<f32, 2u * BH>;

fn timeAt(d: u32, s: u32) -> u32 { return select(s, p.T - 1u - s, d == 1u); }
fn rowAt(t: u32, b: u32) -> u32 { return t * p.tStride + b * p.bStride; }

// d is uniform per workgroup, so the branch does not diverge.
fn w(d: u32, j: u32, k: u32) -> f32 {
  let i = j * p.wStrideR + k * p.wStrideK;
  if (d == 0u) { return whh0[i]; }
  return whh1[i];
}

fn reduce(u: u32) -> f32 {
  var acc = 0.0;
  for (var i = 0u; i < KL; i++) { acc += part[u * KL + i]; }
  return acc;
}

fn cell(d: u32, t: u32, b: u32, j: u32, acc: f32) -> f32 {
  let a = acc + xproj[rowAt(t, b) * p.D * p.H + d * p.H + j];
  return select(tanh_safe(a), relu(a), RELU);
}

@compute @workgroup_size(KL, UNITS)
fn rnn_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let d = wid.z;
  let b = wid.y;
  let j = wid.x * UNITS + lid.y;
  let H = p.H;
  let s = p.step;
  let t = timeAt(d, s);
  let st = p.stateBase + (d * p.B + b) * H;
  var acc = 0.0;
  if (j < H) {
    if (s > 0u) {
      let prev = rowAt(select(t - 1u, t + 1u, d == 1u), b) * p.D * H + d * H;
      for (var k = lid.x; k < H; k += KL) { acc = fma(w(d, j, k), out[prev + k], acc); }
    } else if (HAS_H0) {
      for (var k = lid.x; k < H; k += KL) { acc = fma(w(d, j, k), h0[st + k], acc); }
    }
  }
  // Without a k split there is nothing to reduce, and no barrier: barriers are costly on CPU emulators.
  if (KL > 1u) {
    part[lid.y * KL + lid.x] = acc;
    workgroupBarrier();
    if (lid.x == 0u) { acc = reduce(lid.y); }
  }
  if (lid.x != 0u || j >= H) { return; }
  let h = cell(d, t, b, j, acc);
  out[rowAt(t, b) * p.D * H + d * H + j] = h;
  if (s + 1u == p.T) { hN[st + j] = h; }
}

@compute @workgroup_size(KL, UNITS)
fn rnn_persistent(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                  @builtin(local_invocation_index) li: u32) {
  let d = wid.z;
  let H = p.H;
  let n = p.B * H;
  let base = p.stateBase + d * n;
  for (var i = li; i < n; i += KL * UNITS) {
    var h = 0.0;
    if (HAS_H0) { h = h0[base + i]; }
    hs[i] = h;
  }
  workgroupBarrier();
  let tilesH = (H + UNITS - 1u) / UNITS;
  for (var s = 0u; s < p.T; s++) {
    let cur = (s % 2u) * n;
    let nxt = n - cur;
    let t = timeAt(d, s);
    for (var tile = 0u; tile < p.B * tilesH; tile++) {
      let b = tile / tilesH;
      let j = (tile % tilesH) * UNITS + lid.y;
      var acc = 0.0;
      if (j < H) {
        for (var k = lid.x; k < H; k += KL) { acc = fma(w(d, j, k), hs[cur + b * H + k], acc); }
      }
      if (KL > 1u) {
        part[lid.y * KL + lid.x] = acc;
        workgroupBarrier();
        if (lid.x == 0u) { acc = reduce(lid.y); }
      }
      if (lid.x == 0u && j < H) {
        let h = cell(d, t, b, j, acc);
        hs[nxt + b * H + j] = h;
        out[rowAt(t, b) * p.D * H + d * H + j] = h;
      }
      // part is rewritten by the next tile; the last tile's barrier also ends the step.
      if (KL > 1u) { workgroupBarrier(); }
    }
    if (KL == 1u) { workgroupBarrier(); }
  }
  let last = (p.T % 2u) * n;
  for (var i = li; i < n; i += KL * UNITS) { hN[base + i] = hs[last + i]; }
}
