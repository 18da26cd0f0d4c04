// lstm: the recurrence of one layer of torch.nn.LSTM (gates i, f, g, o), both directions at once.
// The input projection x·W_ihᵀ + b_ih + b_hh of every timestep is one GEMM before this (xproj).
//
// Bindings: 0 params (uniform);
//   1 xproj [rows, D*4H]   row(t, b) = t*tStride + b*bStride (x's own row order: [T,B] or batchFirst [B,T]),
//                          columns d*4H + g*H + j
//   2 whh0 [4H, H]         forward W_hh;  3 whh1 [4H, H] reverse W_hh (whh0 again when D = 1)
//   4 h0, 5 c0 [D*L, B, H] initial state (dummies unless HAS_H0 / HAS_C0)
//   6 out [rows, D*H]      this layer's output; step s of direction d reads h_prev from out's row of
//                          the previous timestep, so h needs no buffer of its own
//   7 hN, 8 cN [D*L, B, H] final state; the step variant keeps c in cN, updated in place by its owner
// State element (d, b, j) of this layer sits at stateBase + (d*B + b)*H + j.
//
// W_hh element (row r, k) sits at r*wStrideR + k*wStrideK (torch's contiguous [G*H, H]: wStrideR = H,
// wStrideK = 1; a transposed view is read as it is).
//
// Entry points (variants):
//   lstm_step        one dispatch per timestep; grid (ceil(H/UNITS), B, D). A workgroup owns UNITS
//                    hidden units of one batch row; KL lanes split each dot product along k so the
//                    lanes read consecutive W_hh and h elements, then lane 0 reduces and updates.
//                    KL = 1 (the choice on CPU emulators) skips the reduction and its barrier.
//   lstm_persistent  one dispatch per layer; grid (1, 1, D). One workgroup per direction loops over
//                    all T steps with h (double-buffered) and c in workgroup memory, a barrier
//                    between steps: WGSL has no grid-wide barrier, so this only works in one workgroup.
//                    Tiles of UNITS units x B rows take turns within a step.
// Tunables (override): KL (lanes per dot product), UNITS (hidden units per tile), HAS_H0, HAS_C0,
//   BH (B*H: the size of the persistent variant's workgroup state).

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
@group(0) @binding(5) var<storage, read> c0: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read_write> hN: array<f32>;
@group(0) @binding(8) var<storage, read_write> cN: array<f32>;

override KL: u32 = 16;
override UNITS: u32 = 8;
override HAS_H0: bool = false;
override HAS_C0: bool = false;
override BH: u32 = 1;

var<workgroup> part: array<vec4<f32>, KL * UNITS>;
var<workgroup> hs: array<f32, 2u * BH>;
var<workgroup> cs: array<f32, BH>;

fn timeAt(d: u32, s: u32) -> u32 { return select(s, p.T - 1u - s, d == 1u); }
fn rowAt(t: u32, b: u32) -> u32 { return t * p.tStride + b * p.bStride; }

// Column k of the four gate rows of unit j. d is uniform per workgroup, so the branch does not diverge.
fn wcol(d: u32, j: u32, k: u32) -> vec4<f32> {
  let i = j * p.wStrideR + k * p.wStrideK;
  let g = p.H * p.wStrideR;
  if (d == 0u) { return vec4<f32>(whh0[i], whh0[i + g], whh0[i + 2u * g], whh0[i + 3u * g]); }
  return vec4<f32>(whh1[i], whh1[i + g], whh1[i + 2u * g], whh1[i + 3u * g]);
}

// Lane 0's reduction of the KL partial sums of one unit.
fn reduce(u: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  for (var i = 0u; i < KL; i++) { acc += part[u * KL + i]; }
  return acc;
}

// The cell update: gates = W_hh·h_prev, plus the projection; returns (h, c). sigmoid and tanh_safe
// (common.wgsl) keep a NaN, which W_hh then spreads to every unit of the row, as in torch.
fn cell(d: u32, t: u32, b: u32, j: u32, gates: vec4<f32>, cPrev: f32) -> vec2<f32> {
  let H = p.H;
  let x = rowAt(t, b) * p.D * 4u * H + d * 4u * H + j;
  let g = gates + vec4<f32>(xproj[x], xproj[x + H], xproj[x + 2u * H], xproj[x + 3u * H]);
  let c = sigmoid(g.y) * cPrev + sigmoid(g.x) * tanh_safe(g.z);
  return vec2<f32>(sigmoid(g.w) * tanh_safe(c), c);
}

@compute @workgroup_size(KL, UNITS)
fn lstm_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let d = wid.z;
  let b = wid.y;
  let j = wid.x * UNITS + lid.y;
  let H = p.H;
  let s = p.step;
  let t = timeAt(d, s);
  var acc = vec4<f32>(0.0);
  if (j < H) {
    if (s > 0u) {
      let prev = rowAt(select(t - 1u, t + 1u, d == 1u), b) * p.D * H + d * H;
      for (var k = lid.x; k < H; k += KL) { acc = fma(wcol(d, j, k), vec4<f32>(out[prev + k]), acc); }
    } else if (HAS_H0) {
      let prev = p.stateBase + (d * p.B + b) * H;
      for (var k = lid.x; k < H; k += KL) { acc = fma(wcol(d, j, k), vec4<f32>(h0[prev + k]), acc); }
    }
  }
  // Without a k split there is nothing to reduce, and no barrier: barriers are costly on CPU emulators.
  if (KL > 1u) {
    part[lid.y * KL + lid.x] = acc;
    workgroupBarrier();
    if (lid.x == 0u) { acc = reduce(lid.y); }
  }
  if (lid.x != 0u || j >= H) { return; }
  let st = p.stateBase + (d * p.B + b) * H + j;
  var cPrev = 0.0;
  if (s > 0u) { cPrev = cN[st]; } else if (HAS_C0) { cPrev = c0[st]; }
  let hc = cell(d, t, b, j, acc, cPrev);
  cN[st] = hc.y;
  out[rowAt(t, b) * p.D * H + d * H + j] = hc.x;
  if (s + 1u == p.T) { hN[st] = hc.x; }
}

@compute @workgroup_size(KL, UNITS)
fn lstm_persistent(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                   @builtin(local_invocation_index) li: u32) {
  let d = wid.z;
  let H = p.H;
  let n = p.B * H;
  let base = p.stateBase + d * n;
  for (var i = li; i < n; i += KL * UNITS) {
    var h = 0.0;
    var c = 0.0;
    if (HAS_H0) { h = h0[base + i]; }
    if (HAS_C0) { c = c0[base + i]; }
    hs[i] = h;
    cs[i] = c;
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
        let hc = cell(d, t, b, j, acc, cs[b * H + j]);
        hs[nxt + b * H + j] = hc.x;
        cs[b * H + j] = hc.y;
        out[rowAt(t, b) * p.D * H + d * H + j] = hc.x;
      }
      // part is rewritten by the next tile; the last tile's barrier also ends the step.
      if (KL > 1u) { workgroupBarrier(); }
    }
    if (KL == 1u) { workgroupBarrier(); }
  }
  let last = (p.T % 2u) * n;
  for (var i = li; i < n; i += KL * UNITS) {
    hN[base + i] = hs[last + i];
    cN[base + i] = cs[i];
  }
}
