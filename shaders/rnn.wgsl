// rnn: the recurrence of one layer of torch.nn.LSTM, GRU or RNN (Elman), both directions at once. The
// cell is the override CELL: its branches fold away at pipeline creation, so every cell shares one
// skeleton (grid, time order, W_hh·h_prev, state reads and writes) and differs only in `update`.
// The input projection x·W_ihᵀ + b_ih + b_hh of every timestep is one GEMM before this (xproj); GRU's
// b_hn stays out of it, because r multiplies it.
//
// Per cell, with x_g the projection's and W_g·h the recurrent part of gate g:
//   LSTM (G = 4: i, f, g, o)  gate_g = x_g + W_g·h
//                             c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),  h' = σ(o) ⊙ tanh(c')
//   GRU  (G = 3: r, z, n)     r = σ(x_r + W_r·h),  z = σ(x_z + W_z·h),  n = tanh(x_n + r ⊙ (W_n·h + b_hn))
//                             h' = (1 − z) ⊙ n + z ⊙ h
//   RNN  (G = 1)              h' = tanh(x + W·h) or relu(x + W·h)
// sigmoid, tanh_safe and relu (common.wgsl) keep a NaN, which W_hh then spreads to every unit of the
// row, as in torch.
//
// Shapes: T timesteps, B batch rows, H hidden units, D directions, L layers, G gates (above).
// Bindings (by name; p is the uniform Params):
//   xproj [T*B, D*G*H]   row(t, b) = t*tStride + b*bStride (x's own row order: [T, B] or batchFirst
//                        [B, T]), column d*G*H + g*H + j
//   whh0, whh1 [G*H, H]  W_hh of the forward and the reverse direction (whh0 again when D = 1); element
//                        (row r, k) at r*wStrideR + k*wStrideK, so a transposed view is read as it is.
//                        With ONE_DIR, a dispatch runs one direction, p.dir0, and binds its W_hh as whh0
//                        (and its b_hh as bhh0)
//   bhh0, bhh1 [G*H]     GRU: b_hh of each direction; only b_hn (from 2H) is read (dummies unless HAS_BIAS)
//   h0, c0 [D*L, B, H]   initial state, c0 for LSTM (dummies unless HAS_H0 / HAS_C0)
//   out [T*B, D*H]       this layer's output; rnn_step reads h_prev from out's row of the previous
//                        timestep, so h needs no buffer of its own
//   hN, cN [D*L, B, H]   final state, cN for LSTM; the per-step variants keep c in cN, updated in place
//   hprev, hnext         the tiled variants' state, [D*L, B, H] each: step s reads h_prev from hprev
//   [D*L, B, H]          (h0 at step 0) and writes h to hnext; kernels/rnn.ts alternates two buffers so
//                        that the last step's hnext is hN. Read as rows of vec4, h_prev needs a buffer
//                        the step does not write (out is written as scalars).
// State element (d, b, j) of this layer sits at stateBase + (d*B + b)*H + j.
// A binding counts as used wherever it is named, even in a branch CELL folds away, so kernels/rnn.ts
// turns the declarations of the operands a cell lacks (c0, cN; bhh0, bhh1) into private stand-ins: an
// LSTM or GRU entry binds 8 storage buffers, the WebGPU default limit, and an RNN 6. whh0_vec4,
// whh1_vec4 and hprev_vec4 read whh0, whh1 and hprev as vec4 (an entry names one of each pair).
//
// Entry points (variants):
//   rnn_step        one dispatch per timestep; grid (ceil(H/UNITS), B, D). A workgroup owns UNITS
//                   hidden units of one batch row; KL lanes split each dot product along k so the
//                   lanes read consecutive W_hh and h elements, then lane 0 reduces and updates.
//                   KL = 1 skips the reduction and its barrier. W_hh is read once per batch row.
//   rnn_tiled       one dispatch per timestep, batch-tiled: the step is the GEMM [B, H] x [H, G*H]
//                   with the cell in its epilogue. A thread holds a register tile of BT batch rows x
//                   UT hidden units' G gates, so each W_hh element it loads serves BT rows and each
//                   h_prev element UT units: W_hh is read once per BT rows, not once per row; grid
//                   (ceil(H/(UNITS*UT)), ceil(B/(ROWS*BT)), D), no workgroup memory, no barrier.
//   rnn_tiled_vec4  rnn_tiled with W_hh and h_prev loaded as vec4 along k: a quarter of the loads
//                   (H % 4 == 0, W_hh rows contiguous and 4-aligned).
//   rnn_persistent  one dispatch per layer; grid (1, 1, D). One workgroup per direction loops over
//                   all T steps with h (double-buffered) and c in workgroup memory, a barrier between
//                   steps: WGSL has no grid-wide barrier, so this only works in one workgroup. Tiles
//                   of UNITS units x B rows take turns within a step.
// Tunables (override): CELL (LSTM, GRU, RNN_TANH, RNN_RELU), KL (lanes per dot product), UNITS (hidden
//   units per tile), HAS_H0, HAS_C0, HAS_BIAS, ONE_DIR (whh0 and bhh0 are this dispatch's direction's:
//   D = 1, or a dispatch per direction; the grids above then have z = 1, and the choice between whh0
//   and whh1 at every load, which SwiftShader pays for even though it never diverges, folds away),
//   BH (B*H: the persistent variant's workgroup state),
//   BT (the tiled variants: batch rows per thread, 1 to 16), UT (theirs: hidden units per thread, 1, 2
//   or 4), ROWS (theirs: threads along the batch).

struct Params {
  T: u32, B: u32, H: u32, D: u32,
  step: u32, stateBase: u32, tStride: u32, bStride: u32,
  wStrideR: u32, wStrideK: u32, dir0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xproj: array<f32>;
@group(0) @binding(2) var<storage, read> whh0: array<f32>;
@group(0) @binding(3) var<storage, read> whh1: array<f32>;
@group(0) @binding(2) var<storage, read> whh0_vec4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> whh1_vec4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bhh0: array<f32>;
@group(0) @binding(5) var<storage, read> bhh1: array<f32>;
@group(0) @binding(6) var<storage, read> h0: array<f32>;
@group(0) @binding(7) var<storage, read> c0: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;
@group(0) @binding(9) var<storage, read_write> hN: array<f32>;
@group(0) @binding(10) var<storage, read_write> cN: array<f32>;
@group(0) @binding(11) var<storage, read> hprev: array<f32>;
@group(0) @binding(11) var<storage, read> hprev_vec4: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read_write> hnext: array<f32>;

// The values of CELL, as kernels/rnn.ts sets them.
const LSTM = 0u;
const GRU = 1u;
const RNN_TANH = 2u;
const RNN_RELU = 3u;

override CELL: u32 = LSTM;
override KL: u32 = 16;
override UNITS: u32 = 8;
override HAS_H0: bool = false;
override HAS_C0: bool = false;
override HAS_BIAS: bool = true;
override ONE_DIR: bool = false;
override BH: u32 = 1;
override BT: u32 = 4;
override ROWS: u32 = 1;
override UT: u32 = 1;
override G: u32 = select(select(1u, 3u, CELL == GRU), 4u, CELL == LSTM);

// Gate sums are vec4 for every cell (lanes past G unused), so one reduction serves all.
var<workgroup> part: array<vec4<f32>, KL * UNITS>;
var<workgroup> hs: array<f32, 2u * BH>;
var<workgroup> cs: array<f32, select(1u, BH, CELL == LSTM)>;

// One unit's state; c is LSTM's cell state, 0 for the others.
struct State { h: f32, c: f32 }

// The direction of workgroup row wid.z: p.dir0 is the first direction of this dispatch.
fn dirOf(wid: vec3<u32>) -> u32 { return wid.z + p.dir0; }
// Whether direction d reads W_hh and b_hh from whh1 and bhh1; with ONE_DIR every dispatch reads whh0
// and bhh0, and the choice folds away.
fn reverseW(d: u32) -> bool { return !ONE_DIR && d == 1u; }
fn timeAt(d: u32, s: u32) -> u32 { return select(s, p.T - 1u - s, d == 1u); }
fn rowAt(t: u32, b: u32) -> u32 { return t * p.tStride + b * p.bStride; }
// Where direction d's h of row (t, b) starts in out.
fn outAt(d: u32, t: u32, b: u32) -> u32 { return rowAt(t, b) * p.D * p.H + d * p.H; }

// Column k of unit j's G gate rows; lanes past G stay 0, and G folds their loads away. d is uniform
// per workgroup, so the branch does not diverge.
fn wcol(d: u32, j: u32, k: u32) -> vec4<f32> {
  let i = j * p.wStrideR + k * p.wStrideK;
  let g = p.H * p.wStrideR;
  let r = vec4<u32>(i, i + g, i + 2u * g, i + 3u * g);
  let has = vec4<bool>(true, G > 1u, G > 2u, G > 3u);
  if (!reverseW(d)) { return select(vec4<f32>(0.0), vec4<f32>(whh0[r.x], whh0[r.y], whh0[r.z], whh0[r.w]), has); }
  return select(vec4<f32>(0.0), vec4<f32>(whh1[r.x], whh1[r.y], whh1[r.z], whh1[r.w]), has);
}

// acc + w·h in the cell's G lanes; the lanes past G stay 0 and cost no multiply-add.
fn madd(acc: vec4<f32>, w: vec4<f32>, h: f32) -> vec4<f32> {
  if (G == 1u) { return vec4<f32>(fma(w.x, h, acc.x), acc.yzw); }
  if (G == 3u) { return vec4<f32>(fma(w.xyz, vec3<f32>(h), acc.xyz), acc.w); }
  return fma(w, vec4<f32>(h), acc);
}

// Lane 0 of each unit gets the sum of its KL lanes' partial dot products. Without a k split there is
// nothing to reduce, and no barrier: barriers are costly on CPU emulators. Call in uniform control flow.
fn reduceLanes(lid: vec3<u32>, acc: vec4<f32>) -> vec4<f32> {
  if (KL == 1u) { return acc; }
  part[lid.y * KL + lid.x] = acc;
  workgroupBarrier();
  var sum = acc;
  if (lid.x == 0u) {
    sum = vec4<f32>(0.0);
    for (var i = 0u; i < KL; i++) { sum += part[lid.y * KL + i]; }
  }
  return sum;
}

// The state before step 0 at state index i: h0 and c0 where given, else zeros.
fn initial(i: u32) -> State {
  var st = State(0.0, 0.0);
  if (HAS_H0) { st.h = h0[i]; }
  if (HAS_C0) { st.c = c0[i]; }
  return st;
}

// The cell: unit j's state after timestep t, from gates = W_hh·h_prev (gate g in lane g) and prev.
fn update(d: u32, t: u32, b: u32, j: u32, gates: vec4<f32>, prev: State) -> State {
  let H = p.H;
  let x = rowAt(t, b) * p.D * G * H + d * G * H + j;
  if (CELL == LSTM) {
    let g = gates + vec4<f32>(xproj[x], xproj[x + H], xproj[x + 2u * H], xproj[x + 3u * H]);
    let c = sigmoid(g.y) * prev.c + sigmoid(g.x) * tanh_safe(g.z);
    return State(sigmoid(g.w) * tanh_safe(c), c);
  }
  if (CELL == GRU) {
    var bn = 0.0;
    if (HAS_BIAS) { bn = select(bhh0[2u * H + j], bhh1[2u * H + j], reverseW(d)); }
    let r = sigmoid(xproj[x] + gates.x);
    let z = sigmoid(xproj[x + H] + gates.y);
    let n = tanh_safe(fma(r, gates.z + bn, xproj[x + 2u * H]));
    return State(fma(z, prev.h - n, n), 0.0);
  }
  let a = gates.x + xproj[x];
  return State(select(tanh_safe(a), relu(a), CELL == RNN_RELU), 0.0);
}

@compute @workgroup_size(KL, UNITS)
fn rnn_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let d = dirOf(wid);
  let b = wid.y;
  let j = wid.x * UNITS + lid.y;
  let H = p.H;
  let s = p.step;
  let t = timeAt(d, s);
  let st = p.stateBase + (d * p.B + b) * H;
  // h_prev's row in out (read from step 1 on; at step 0 the index wraps unused).
  let hp = outAt(d, select(t - 1u, t + 1u, d == 1u), b);
  var acc = vec4<f32>(0.0);
  if (j < H) {
    if (s > 0u) {
      for (var k = lid.x; k < H; k += KL) { acc = madd(acc, wcol(d, j, k), out[hp + k]); }
    } else if (HAS_H0) {
      for (var k = lid.x; k < H; k += KL) { acc = madd(acc, wcol(d, j, k), h0[st + k]); }
    }
  }
  acc = reduceLanes(lid, acc);
  if (lid.x != 0u || j >= H) { return; }
  var prev = initial(st + j);
  if (s > 0u) { prev = State(out[hp + j], cN[st + j]); }
  let h = finish(d, t, b, j, st + j, acc, prev);
  if (s + 1u == p.T) { hN[st + j] = h; }
}

// The per-step variants' epilogue for unit j of row b at timestep t: the cell from the gate sums and
// the previous state, h written to out and c to cN (LSTM), in place. Returns h. si: the state index
// of (d, b, j).
fn finish(d: u32, t: u32, b: u32, j: u32, si: u32, gates: vec4<f32>, prev: State) -> f32 {
  let next = update(d, t, b, j, gates, prev);
  if (CELL == LSTM) { cN[si] = next.c; }
  out[outAt(d, t, b) + j] = next.h;
  return next.h;
}

// The tiled variants' register tile: up to 16 batch rows x up to 4 units. A row's sums are a mat4x4,
// column u holding unit j0 + u's gate sums (gate g in lane g). Every index into the tile below is a
// constant, and UT and BT fold the columns and rows past them away: a CPU emulator keeps such a tile
// in registers, but turns a loop over it into memory traffic.
const MAX_BT = 16u;
const MAX_UT = 4u;

// A tiled thread's work: units j0..j0+UT-1 of BT batch rows from b0 on; r[i]: where row b0 + i's
// h_prev starts in hprev. Rows past B point at the last valid row and units past H at the last valid
// unit, so their loads stay in bounds; their results are never written.
struct RowTile { ok: bool, j0: u32, b0: u32, r: array<u32, MAX_BT>, j: array<u32, MAX_UT> }

fn rowTile(wid: vec3<u32>, lid: vec3<u32>) -> RowTile {
  var tl = RowTile(false, (wid.x * UNITS + lid.x) * UT, (wid.y * ROWS + lid.y) * BT, array<u32, MAX_BT>(), array<u32, MAX_UT>());
  tl.ok = tl.j0 < p.H && tl.b0 < p.B;
  let last = min(tl.b0 + BT, p.B) - 1u;
  for (var i = 0u; i < BT; i++) { tl.r[i] = p.stateBase + (dirOf(wid) * p.B + min(tl.b0 + i, last)) * p.H; }
  for (var u = 0u; u < UT; u++) { tl.j[u] = min(tl.j0 + u, p.H - 1u); }
  return tl;
}

// Column k of the tile's units' G gate rows (wcol per unit).
fn wtile(d: u32, j: array<u32, MAX_UT>, k: u32) -> mat4x4<f32> {
  var w: mat4x4<f32>;
  w[0] = wcol(d, j[0], k);
  if (UT > 1u) { w[1] = wcol(d, j[1], k); }
  if (UT > 2u) { w[2] = wcol(d, j[2], k); w[3] = wcol(d, j[3], k); }
  return w;
}

// One row's tile sums plus w·h for one k.
fn maddTile(acc: mat4x4<f32>, w: mat4x4<f32>, h: f32) -> mat4x4<f32> {
  var r = acc;
  r[0] = madd(r[0], w[0], h);
  if (UT > 1u) { r[1] = madd(r[1], w[1], h); }
  if (UT > 2u) { r[2] = madd(r[2], w[2], h); r[3] = madd(r[3], w[3], h); }
  return r;
}

// The tiled variants' epilogue: the tile's rows and units, from their gate sums and their h_prev
// (hj[i][u]: row b0 + i at unit j0 + u), h written to out and hnext.
fn finishRows(d: u32, tl: RowTile, acc: array<mat4x4<f32>, MAX_BT>, hj: array<vec4<f32>, MAX_BT>) {
  let s = p.step;
  let t = timeAt(d, s);
  for (var i = 0u; i < BT; i++) {
    let b = tl.b0 + i;
    if (b >= p.B) { break; }
    for (var u = 0u; u < UT; u++) {
      let j = tl.j0 + u;
      if (j >= p.H) { break; }
      let si = p.stateBase + (d * p.B + b) * p.H + j;
      var prev = State(hj[i][u], 0.0);
      if (s > 0u) { prev.c = cN[si]; } else if (HAS_C0) { prev.c = c0[si]; }
      hnext[si] = finish(d, t, b, j, si, acc[i][u], prev);
    }
  }
}

// h_prev of the tile's rows at its units, for the epilogue; hUnits4 reads it through hprev_vec4 (an
// entry names one of the two).
fn hUnits(tl: RowTile) -> array<vec4<f32>, MAX_BT> {
  var hj: array<vec4<f32>, MAX_BT>;
  for (var i = 0u; i < BT; i++) {
    for (var u = 0u; u < UT; u++) { hj[i][u] = hprev[tl.r[i] + tl.j[u]]; }
  }
  return hj;
}

fn hUnits4(tl: RowTile) -> array<vec4<f32>, MAX_BT> {
  var hj: array<vec4<f32>, MAX_BT>;
  for (var i = 0u; i < BT; i++) {
    for (var u = 0u; u < UT; u++) {
      let e = tl.r[i] + tl.j[u];
      hj[i][u] = hprev_vec4[e / 4u][e % 4u];
    }
  }
  return hj;
}

// No barrier in the tiled entries, so threads past the edge leave at once. h_prev is read from
// step 1 on, and at step 0 when there is an h0 (hprev is h0 then). The row loop of the k loop is
// written out, a line per row, so the tile stays in registers; BT folds the rows past it away.
@compute @workgroup_size(UNITS, ROWS)
fn rnn_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tl = rowTile(wid, lid);
  if (!tl.ok) { return; }
  let r = tl.r;
  var acc: array<mat4x4<f32>, MAX_BT>;
  var hj: array<vec4<f32>, MAX_BT>;
  if (p.step > 0u || HAS_H0) {
    for (var k = 0u; k < p.H; k++) {
      let w = wtile(dirOf(wid), tl.j, k);
      acc[0] = maddTile(acc[0], w, hprev[r[0] + k]);
      if (BT > 1u) { acc[1] = maddTile(acc[1], w, hprev[r[1] + k]); }
      if (BT > 2u) { acc[2] = maddTile(acc[2], w, hprev[r[2] + k]); }
      if (BT > 3u) { acc[3] = maddTile(acc[3], w, hprev[r[3] + k]); }
      if (BT > 4u) { acc[4] = maddTile(acc[4], w, hprev[r[4] + k]); }
      if (BT > 5u) { acc[5] = maddTile(acc[5], w, hprev[r[5] + k]); }
      if (BT > 6u) { acc[6] = maddTile(acc[6], w, hprev[r[6] + k]); }
      if (BT > 7u) { acc[7] = maddTile(acc[7], w, hprev[r[7] + k]); }
      if (BT > 8u) { acc[8] = maddTile(acc[8], w, hprev[r[8] + k]); }
      if (BT > 9u) { acc[9] = maddTile(acc[9], w, hprev[r[9] + k]); }
      if (BT > 10u) { acc[10] = maddTile(acc[10], w, hprev[r[10] + k]); }
      if (BT > 11u) { acc[11] = maddTile(acc[11], w, hprev[r[11] + k]); }
      if (BT > 12u) { acc[12] = maddTile(acc[12], w, hprev[r[12] + k]); }
      if (BT > 13u) { acc[13] = maddTile(acc[13], w, hprev[r[13] + k]); }
      if (BT > 14u) { acc[14] = maddTile(acc[14], w, hprev[r[14] + k]); }
      if (BT > 15u) { acc[15] = maddTile(acc[15], w, hprev[r[15] + k]); }
    }
    hj = hUnits(tl);
  }
  finishRows(dirOf(wid), tl, acc, hj);
}

// k..k+3 of unit j's G gate rows of W_hh, gate g in column g (columns past G stay 0).
fn wquad(d: u32, j: u32, k: u32) -> mat4x4<f32> {
  let i = (j * p.wStrideR + k) / 4u;
  let g = p.H * p.wStrideR / 4u;
  var w: mat4x4<f32>;
  if (!reverseW(d)) {
    w[0] = whh0_vec4[i];
    if (G > 1u) { w[1] = whh0_vec4[i + g]; w[2] = whh0_vec4[i + 2u * g]; }
    if (G > 3u) { w[3] = whh0_vec4[i + 3u * g]; }
  } else {
    w[0] = whh1_vec4[i];
    if (G > 1u) { w[1] = whh1_vec4[i + g]; w[2] = whh1_vec4[i + 2u * g]; }
    if (G > 3u) { w[3] = whh1_vec4[i + 3u * g]; }
  }
  return w;
}

// The G gate sums of one row over four k: gate g is dot(w column g, h).
fn gateDots(w: mat4x4<f32>, h: vec4<f32>) -> vec4<f32> {
  if (G == 1u) { return vec4<f32>(dot(w[0], h), 0.0, 0.0, 0.0); }
  if (G == 3u) { return vec4<f32>(dot(w[0], h), dot(w[1], h), dot(w[2], h), 0.0); }
  return h * w;
}

// k..k+3 of the tile's units (wquad per unit).
struct QuadTile { w: array<mat4x4<f32>, MAX_UT> }

fn wquadTile(d: u32, j: array<u32, MAX_UT>, k: u32) -> QuadTile {
  var q: QuadTile;
  q.w[0] = wquad(d, j[0], k);
  if (UT > 1u) { q.w[1] = wquad(d, j[1], k); }
  if (UT > 2u) { q.w[2] = wquad(d, j[2], k); q.w[3] = wquad(d, j[3], k); }
  return q;
}

// One row's tile sums plus its gate dots over four k.
fn dotsTile(acc: mat4x4<f32>, q: QuadTile, h: vec4<f32>) -> mat4x4<f32> {
  var r = acc;
  r[0] += gateDots(q.w[0], h);
  if (UT > 1u) { r[1] += gateDots(q.w[1], h); }
  if (UT > 2u) { r[2] += gateDots(q.w[2], h); r[3] += gateDots(q.w[3], h); }
  return r;
}

// rnn_tiled with vec4 loads along k: a quarter of the load instructions, and four multiply-adds
// per sum between the accumulator's loop updates (H % 4 == 0, W_hh rows contiguous and 4-aligned).
@compute @workgroup_size(UNITS, ROWS)
fn rnn_tiled_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tl = rowTile(wid, lid);
  if (!tl.ok) { return; }
  var r: array<u32, MAX_BT>;
  for (var i = 0u; i < BT; i++) { r[i] = tl.r[i] / 4u; }
  var acc: array<mat4x4<f32>, MAX_BT>;
  var hj: array<vec4<f32>, MAX_BT>;
  if (p.step > 0u || HAS_H0) {
    for (var q = 0u; q < p.H / 4u; q++) {
      let w = wquadTile(dirOf(wid), tl.j, 4u * q);
      acc[0] = dotsTile(acc[0], w, hprev_vec4[r[0] + q]);
      if (BT > 1u) { acc[1] = dotsTile(acc[1], w, hprev_vec4[r[1] + q]); }
      if (BT > 2u) { acc[2] = dotsTile(acc[2], w, hprev_vec4[r[2] + q]); }
      if (BT > 3u) { acc[3] = dotsTile(acc[3], w, hprev_vec4[r[3] + q]); }
      if (BT > 4u) { acc[4] = dotsTile(acc[4], w, hprev_vec4[r[4] + q]); }
      if (BT > 5u) { acc[5] = dotsTile(acc[5], w, hprev_vec4[r[5] + q]); }
      if (BT > 6u) { acc[6] = dotsTile(acc[6], w, hprev_vec4[r[6] + q]); }
      if (BT > 7u) { acc[7] = dotsTile(acc[7], w, hprev_vec4[r[7] + q]); }
      if (BT > 8u) { acc[8] = dotsTile(acc[8], w, hprev_vec4[r[8] + q]); }
      if (BT > 9u) { acc[9] = dotsTile(acc[9], w, hprev_vec4[r[9] + q]); }
      if (BT > 10u) { acc[10] = dotsTile(acc[10], w, hprev_vec4[r[10] + q]); }
      if (BT > 11u) { acc[11] = dotsTile(acc[11], w, hprev_vec4[r[11] + q]); }
      if (BT > 12u) { acc[12] = dotsTile(acc[12], w, hprev_vec4[r[12] + q]); }
      if (BT > 13u) { acc[13] = dotsTile(acc[13], w, hprev_vec4[r[13] + q]); }
      if (BT > 14u) { acc[14] = dotsTile(acc[14], w, hprev_vec4[r[14] + q]); }
      if (BT > 15u) { acc[15] = dotsTile(acc[15], w, hprev_vec4[r[15] + q]); }
    }
    hj = hUnits4(tl);
  }
  finishRows(dirOf(wid), tl, acc, hj);
}

@compute @workgroup_size(KL, UNITS)
fn rnn_persistent(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                  @builtin(local_invocation_index) li: u32) {
  let d = dirOf(wid);
  let H = p.H;
  let n = p.B * H;
  let base = p.stateBase + d * n;
  for (var i = li; i < n; i += KL * UNITS) {
    let s0 = initial(base + i);
    hs[i] = s0.h;
    if (CELL == LSTM) { cs[i] = s0.c; }
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
        for (var k = lid.x; k < H; k += KL) { acc = madd(acc, wcol(d, j, k), hs[cur + b * H + k]); }
      }
      acc = reduceLanes(lid, acc);
      if (lid.x == 0u && j < H) {
        let next = update(d, t, b, j, acc, State(hs[cur + b * H + j], cs[b * H + j]));
        hs[nxt + b * H + j] = next.h;
        if (CELL == LSTM) { cs[b * H + j] = next.c; }
        out[outAt(d, t, b) + j] = next.h;
      }
      // part is rewritten by the next tile; the last tile's barrier also ends the step.
      if (KL > 1u) { workgroupBarrier(); }
    }
    if (KL == 1u) { workgroupBarrier(); }
  }
  let last = (p.T % 2u) * n;
  for (var i = li; i < n; i += KL * UNITS) {
    hN[base + i] = hs[last + i];
    if (CELL == LSTM) { cN[base + i] = cs[i]; }
  }
}
