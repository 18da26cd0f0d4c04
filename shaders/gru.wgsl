// gru: the recurrence of one layer of torch.nn.GRU (gates r, z, n), both directions at once:
//   r = σ(xr + W_hr·h), z = σ(xz + W_hz·h), n = tanh(xn + r ⊙ (W_hn·h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
// The input projection of every timestep is one GEMM before this (xproj); it folds b_ih and the r, z
// part of b_hh, while b_hn stays here because r multiplies it.
//
// Bindings: 0 params (uniform);
//   1 xproj [rows, D*3H]   row(t, b) = t*tStride + b*bStride (x's own row order), columns d*3H + g*H + j
//   2 whh0 [3H, H]         forward W_hh;  3 whh1 [3H, H] reverse (whh0 again when D = 1)
//   4 bhh0 [3H], 5 bhh1    b_hh of each direction; only b_hn (from 2H) is read (dummies unless HAS_BIAS)
//   6 h0 [D*L, B, H]       initial state (a dummy unless HAS_H0)
//   7 out [rows, D*H]      this layer's output; h_prev is read from the previous timestep's row
//   8 hN [D*L, B, H]       final state; element (d, b, j) of this layer at stateBase + (d*B + b)*H + j
//
// W_hh element (row r, k) sits at r*wStrideR + k*wStrideK (torch's contiguous [G*H, H]: wStrideR = H,
// wStrideK = 1; a transposed view is read as it is).
//
// Entry points (variants), as in lstm.wgsl:
//   gru_step        one dispatch per timestep; grid (ceil(H/UNITS), B, D); KL lanes per dot product.
//   gru_persistent  one dispatch per layer; grid (1, 1, D); h double-buffered in workgroup memory.
// Tunables (override): KL, UNITS, HAS_H0, HAS_BIAS, BH (B*H, the persistent variant's state size).

struct Params {
  T: u32, B: u32, H: u32, D: u32,
  step: u32, stateBase: u32, tStride: u32, bStride: u32,
  wStrideR: u32, wStrideK: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xproj: array<f32>;
@group(0) @binding(2) var<storage, read> whh0: array<f32>;
@group(0) @binding(3) var<storage, read> whh1: array<f32>;
@group(0) @binding(4) var<storage, read> bhh0: array<f32>;
@group(0) @binding(5) var<storage, read> bhh1: array<f32>;
@group(0) @binding(6) var<storage, read> h0: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> hN: array<f32>;

override KL: u32 = 16;
override UNITS: u32 = 8;
override HAS_H0: bool = false;
override HAS_BIAS: bool = true;
override BH: u32 = 1;

var<workgroup> part: array<vec4<f32>, KL * UNITS>;
var<workgroup> hs: array<f32, 2u * BH>;

fn timeAt(d: u32, s: u32) -> u32 { return select(s, p.T - 1u - s, d == 1u); }
fn rowAt(t: u32, b: u32) -> u32 { return t * p.tStride + b * p.bStride; }

// Column k of the three gate rows of unit j. d is uniform per workgroup, so the branch does not diverge.
fn wcol(d: u32, j: u32, k: u32) -> vec4<f32> {
  let i = j * p.wStrideR + k * p.wStrideK;
  let g = p.H * p.wStrideR;
  if (d == 0u) { return vec4<f32>(whh0[i], whh0[i + g], whh0[i + 2u * g], 0.0); }
  return vec4<f32>(whh1[i], whh1[i + g], whh1[i + 2u * g], 0.0);
}

fn reduce(u: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  for (var i = 0u; i < KL; i++) { acc += part[u * KL + i]; }
  return acc;
}

// gates = W_hh·h_prev (r, z, n in x, y, z); returns h'. sigmoid and tanh_safe (common.wgsl) keep NaN.
fn cell(d: u32, t: u32, b: u32, j: u32, gates: vec4<f32>, hPrev: f32) -> f32 {
  let H = p.H;
  let x = rowAt(t, b) * p.D * 3u * H + d * 3u * H + j;
  var bn = 0.0;
  if (HAS_BIAS) { bn = select(bhh0[2u * H + j], bhh1[2u * H + j], d == 1u); }
  let r = sigmoid(xproj[x] + gates.x);
  let z = sigmoid(xproj[x + H] + gates.y);
  let nn = tanh_safe(fma(r, gates.z + bn, xproj[x + 2u * H]));
  return fma(z, hPrev - nn, nn);
}

@compute @workgroup_size(KL, UNITS)
fn gru_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let d = wid.z;
  let b = wid.y;
  let j = wid.x * UNITS + lid.y;
  let H = p.H;
  let s = p.step;
  let t = timeAt(d, s);
  let st = p.stateBase + (d * p.B + b) * H;
  let prev = rowAt(select(t - 1u, t + 1u, d == 1u), b) * p.D * H + d * H;
  var acc = vec4<f32>(0.0);
  if (j < H) {
    if (s > 0u) {
      for (var k = lid.x; k < H; k += KL) { acc = fma(wcol(d, j, k), vec4<f32>(out[prev + k]), acc); }
    } else if (HAS_H0) {
      for (var k = lid.x; k < H; k += KL) { acc = fma(wcol(d, j, k), vec4<f32>(h0[st + k]), acc); }
    }
  }
  // Without a k split there is nothing to reduce, and no barrier: barriers are costly on CPU emulators.
  if (KL > 1u) {
    part[lid.y * KL + lid.x] = acc;
    workgroupBarrier();
    if (lid.x == 0u) { acc = reduce(lid.y); }
  }
  if (lid.x != 0u || j >= H) { return; }
  var hPrev = 0.0;
  if (s > 0u) { hPrev = out[prev + j]; } else if (HAS_H0) { hPrev = h0[st + j]; }
  let h = cell(d, t, b, j, acc, hPrev);
  out[rowAt(t, b) * p.D * H + d * H + j] = h;
  if (s + 1u == p.T) { hN[st + j] = h; }
}

@compute @workgroup_size(KL, UNITS)
fn gru_persistent(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
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
      var acc = vec4<f32>(0.0);
      if (j < H) {
        for (var k = lid.x; k < H; k += KL) { acc = fma(wcol(d, j, k), vec4<f32>(hs[cur + b * H + k]), acc); }
      }
      if (KL > 1u) {
        part[lid.y * KL + lid.x] = acc;
        workgroupBarrier();
        if (lid.x == 0u) { acc = reduce(lid.y); }
      }
      if (lid.x == 0u && j < H) {
        let h = cell(d, t, b, j, acc, hs[cur + b * H + j]);
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
