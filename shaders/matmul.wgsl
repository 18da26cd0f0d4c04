// matmul: C[z, M, N] = act(A[z, M, K] . B[z, K, N] + bias[N])
//
// Bindings: 0 params (uniform), 1 A, 2 B (f32, or a 16-bit weight: see below), 3 bias (a dummy when HAS_BIAS is false), 4 C, 5 bias2 (a
// second bias added to columns n < bias2Cols, a dummy when HAS_BIAS2 is false: a recurrent layer's
// input projection folds b_ih and b_hh into one GEMM this way).
// 6 res (a residual added after the activation, same layout as C; a dummy when HAS_RES is false).
// C(z, m, n) = C[cOffset + (z * M + m) * cRowStride + n]: rows may be wider than N, so two GEMMs can
// fill the column halves of one buffer.
// A and B are read through strides, so a transposed operand (torch .transpose(-1, -2)) costs no copy:
// A(m, k) = A[aOffset + m * aStrideM + k * aStrideK], B(k, n) = B[bOffset + k * bStrideK + n * bStrideN],
// bias(n) = bias[biasOffset + n]. The offsets let one dispatch compute a block of columns out of a
// weight held in parts (a tensor past the binding limit).
// Batch z is split over up to four broadcast batch dims; a broadcast dim has batch stride 0.
// B's binding and its readers, readB(i) (element i as f32) and readB4(i) (elements i..i+3, i a
// multiple of 4), are generated per B dtype by src/kernels/weight16.ts and joined after this file:
// f32 reads `b` / `b_vec4`; a 16-bit weight is read packed in pairs from u32 words (`unpack2x16float`
// for f16, a shift for bf16) or, where the device has shader-f16, as array<f16>. Strides and offsets
// count elements whatever the dtype; accumulation is f32 always.
//
// Entry points (variants):
//   matmul_naive      one thread per output, the baseline the tiled kernels are measured against.
//   matmul_tiled      TILE_M x TILE_N per workgroup, K in TILE_K slices staged in workgroup memory,
//                     a 4x4 register tile per thread; scalar global loads, any strides and sizes.
//   matmul_tiled_vec4 the same tiling with vec4 global loads along each operand's contiguous dim
//                     (that dim a multiple of 4, so a vec4 is wholly in or out of bounds).
//   matmul_register   an RM x RN tile of C per thread in registers, no workgroup memory, its sums
//                     started from the bias terms (see the entry).
// Tunables (override): TILE_M, TILE_N (multiples of 4, (TILE_M/4)*(TILE_N/4) threads), TILE_K,
// HAS_BIAS, HAS_BIAS2, HAS_RES, ACT (0 none, 1 relu, 2 tanh, 3 sigmoid), A_T / B_T (operand stored transposed:
// A as [K, M], B as [N, K]; chooses which dim the vec4 loads run along), WG_NAIVE, RM, RN.

struct Params {
  M: u32, N: u32, K: u32, batch: u32,
  tilesM: u32, tilesN: u32, aStrideM: u32, aStrideK: u32,
  bStrideK: u32, bStrideN: u32, cOffset: u32, cRowStride: u32,
  bias2Cols: u32, aOffset: u32, bOffset: u32, biasOffset: u32,
  batchShape: vec4<u32>,
  aBatchStride: vec4<u32>,
  bBatchStride: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> a_vec4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<storage, read> bias2: array<f32>;
@group(0) @binding(6) var<storage, read> res: array<f32>;

override TILE_M: u32 = 64;
override TILE_N: u32 = 64;
override TILE_K: u32 = 16;
override HAS_BIAS: bool = false;
override HAS_BIAS2: bool = false;
override HAS_RES: bool = false;
override ACT: u32 = 0;
override A_T: bool = false;
override B_T: bool = false;
override WG_NAIVE: u32 = 64;

override NT_X: u32 = TILE_N / 4u;
override NT_Y: u32 = TILE_M / 4u;

// As[k][m / 4] holds rows m..m+3 of column k of the A tile; Bs[k][n / 4] likewise for B.
var<workgroup> As: array<vec4<f32>, TILE_K * TILE_M / 4u>;
var<workgroup> Bs: array<vec4<f32>, TILE_K * TILE_N / 4u>;

// The activations of common.wgsl: NaN stays NaN, as torch.
fn activate(x: f32) -> f32 {
  switch ACT {
    case 1u: { return relu(x); }
    case 2u: { return tanh_safe(x); }
    case 3u: { return sigmoid(x); }
    default: { return x; }
  }
}

fn epilogue(m: u32, n: u32, z: u32, acc: f32) {
  if (n < p.N) { store(m, n, z, acc + biasOf(n)); }
}

// C(m, n) from its sum with the biases in: the activation, the residual, the write.
fn store(m: u32, n: u32, z: u32, v: f32) {
  if (m >= p.M || n >= p.N) { return; }
  let at = p.cOffset + (z * p.M + m) * p.cRowStride + n;
  var y = activate(v);
  if (HAS_RES) { y += res[at]; }
  c[at] = y;
}

// Column n's bias terms: bias, and bias2 where n < bias2Cols; 0 without either.
fn biasOf(n: u32) -> f32 {
  var v = 0.0;
  if (HAS_BIAS) { v += bias[p.biasOffset + n]; }
  if (HAS_BIAS2 && n < p.bias2Cols) { v += bias2[n]; }
  return v;
}

// The bias terms of columns n..n+3, those past N re-reading the last (their sums are never written).
fn biasQuad(n: u32) -> vec4<f32> {
  let last = p.N - 1u;
  return vec4<f32>(biasOf(min(n, last)), biasOf(min(n + 1u, last)), biasOf(min(n + 2u, last)), biasOf(min(n + 3u, last)));
}

// Offsets of batch z in A and B, from the (up to) four batch dims, innermost in .w.
fn batchOffsets(z: u32) -> vec2<u32> {
  var rest = z;
  var off = vec2<u32>(p.aOffset, p.bOffset);
  for (var d = 3; d >= 0; d--) {
    let i = rest % p.batchShape[d];
    rest = rest / p.batchShape[d];
    off += vec2<u32>(i * p.aBatchStride[d], i * p.bBatchStride[d]);
  }
  return off;
}

// The output tile of the tiled variants' workgroup g: batch z (p.batch or more for a workgroup past
// the grid), the batch's offsets into A and B, and the tile's first row and column.
struct Tile { z: u32, off: vec2<u32>, m0: u32, n0: u32 }

fn tileOf(g: u32) -> Tile {
  let z = g / (p.tilesN * p.tilesM);
  return Tile(z, batchOffsets(z), ((g / p.tilesN) % p.tilesM) * TILE_M, (g % p.tilesN) * TILE_N);
}

@compute @workgroup_size(WG_NAIVE)
fn matmul_naive(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let idx = flat_workgroup(wid, nwg) * WG_NAIVE + lid;
  if (idx >= p.M * p.N * p.batch) { return; }
  let n = idx % p.N;
  let m = (idx / p.N) % p.M;
  let z = idx / (p.N * p.M);
  let off = batchOffsets(z);
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    acc += a[off.x + m * p.aStrideM + k * p.aStrideK] * readB(off.y + k * p.bStrideK + n * p.bStrideN);
  }
  epilogue(m, n, z, acc);
}

fn loadA(off: u32, m: u32, k: u32) -> f32 {
  if (m < p.M && k < p.K) { return a[off + m * p.aStrideM + k * p.aStrideK]; }
  return 0.0;
}

fn loadB(off: u32, k: u32, n: u32) -> f32 {
  if (k < p.K && n < p.N) { return readB(off + k * p.bStrideK + n * p.bStrideN); }
  return 0.0;
}

// The shared inner loop: each thread owns rows 4*ty..+3 and columns 4*tx..+3 of the tile.
fn accumulate(tx: u32, ty: u32, acc: ptr<function, array<vec4<f32>, 4>>) {
  for (var k = 0u; k < TILE_K; k++) {
    let av = As[k * NT_Y + ty];
    let bv = Bs[k * NT_X + tx];
    (*acc)[0] = fma(vec4<f32>(av.x), bv, (*acc)[0]);
    (*acc)[1] = fma(vec4<f32>(av.y), bv, (*acc)[1]);
    (*acc)[2] = fma(vec4<f32>(av.z), bv, (*acc)[2]);
    (*acc)[3] = fma(vec4<f32>(av.w), bv, (*acc)[3]);
  }
}

fn writeTile(m0: u32, n0: u32, z: u32, acc: array<vec4<f32>, 4>) {
  for (var r = 0u; r < 4u; r++) {
    for (var j = 0u; j < 4u; j++) {
      epilogue(m0 + r, n0 + j, z, acc[r][j]);
    }
  }
}

@compute @workgroup_size(NT_X, NT_Y)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = tileOf(flat_workgroup(wid, nwg));
  if (tile.z >= p.batch) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TILE_K) {
    // Consecutive threads walk the operand's contiguous dim, so their loads coalesce.
    for (var e = lid; e < TILE_M * TILE_K; e += NT_X * NT_Y) {
      var mm = e / TILE_K;
      var kk = e % TILE_K;
      if (A_T) { mm = e % TILE_M; kk = e / TILE_M; }
      As[kk * NT_Y + mm / 4u][mm % 4u] = loadA(tile.off.x, tile.m0 + mm, k0 + kk);
    }
    for (var e = lid; e < TILE_N * TILE_K; e += NT_X * NT_Y) {
      var nn = e % TILE_N;
      var kk = e / TILE_N;
      if (B_T) { nn = e / TILE_K; kk = e % TILE_K; }
      Bs[kk * NT_X + nn / 4u][nn % 4u] = loadB(tile.off.y, k0 + kk, tile.n0 + nn);
    }
    workgroupBarrier();
    accumulate(lid3.x, lid3.y, &acc);
    workgroupBarrier();
  }
  writeTile(tile.m0 + 4u * lid3.y, tile.n0 + 4u * lid3.x, tile.z, acc);
}

// vec4 loads. Strides and offsets are in elements; the contiguous dim is a multiple of 4, so every
// vec4 index below is the float index / 4.
fn loadA4(off: u32, m: u32, k: u32) -> vec4<f32> {
  if (m < p.M && k < p.K) { return a_vec4[(off + m * p.aStrideM + k * p.aStrideK) / 4u]; }
  return vec4<f32>(0.0);
}

fn loadB4(off: u32, k: u32, n: u32) -> vec4<f32> {
  if (k < p.K && n < p.N) { return readB4(off + k * p.bStrideK + n * p.bStrideN); }
  return vec4<f32>(0.0);
}

@compute @workgroup_size(NT_X, NT_Y)
fn matmul_tiled_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = tileOf(flat_workgroup(wid, nwg));
  if (tile.z >= p.batch) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TILE_K) {
    for (var e = lid; e < TILE_M * TILE_K / 4u; e += NT_X * NT_Y) {
      if (A_T) {
        // A stored [K, M]: a vec4 is 4 rows of one column, stored as it is.
        let mq = e % NT_Y;
        let kk = e / NT_Y;
        As[kk * NT_Y + mq] = loadA4(tile.off.x, tile.m0 + 4u * mq, k0 + kk);
      } else {
        // A stored [M, K]: a vec4 is 4 columns of one row, scattered over 4 k slots.
        let mm = e / (TILE_K / 4u);
        let kq = e % (TILE_K / 4u);
        let v = loadA4(tile.off.x, tile.m0 + mm, k0 + 4u * kq);
        for (var j = 0u; j < 4u; j++) { As[(4u * kq + j) * NT_Y + mm / 4u][mm % 4u] = v[j]; }
      }
    }
    for (var e = lid; e < TILE_N * TILE_K / 4u; e += NT_X * NT_Y) {
      if (B_T) {
        let nn = e / (TILE_K / 4u);
        let kq = e % (TILE_K / 4u);
        let v = loadB4(tile.off.y, k0 + 4u * kq, tile.n0 + nn);
        for (var j = 0u; j < 4u; j++) { Bs[(4u * kq + j) * NT_X + nn / 4u][nn % 4u] = v[j]; }
      } else {
        let nq = e % NT_X;
        let kk = e / NT_X;
        Bs[kk * NT_X + nq] = loadB4(tile.off.y, k0 + kk, tile.n0 + 4u * nq);
      }
    }
    workgroupBarrier();
    accumulate(lid3.x, lid3.y, &acc);
    workgroupBarrier();
  }
  writeTile(tile.m0 + 4u * lid3.y, tile.n0 + 4u * lid3.x, tile.z, acc);
}

// matmul_register: no workgroup memory and no barriers; each thread loads its RM rows of A and RN
// columns of B as vec4 straight from memory and keeps an RM x RN tile of C in registers: row r's sums
// are a mat4x4, column v holding columns n0 + 4v .. n0 + 4v + 3. A GPU wants small tiles (4 x 4) and
// many threads; a CPU emulator (SwiftShader) gathers every buffer load lane by lane, so there large
// tiles (16 x 16: 256 sums from 32 loaded values per k) pay for the loads. Every index into the tile
// is a constant, and RM and RN fold the rows and columns past them away: the emulator keeps such a
// tile in registers, but turns a loop over it into memory traffic. Needs A stored [M, K] with
// K % 4 == 0, and B stored [K, N] with N % 4 == 0 or (B_T) [N, K] with K % 4 == 0. Threads: WG_NAIVE
// per workgroup. RM: 4, 8, 16 or 32 (as two blocks of 16 rows); RN: 4, 8 or 16.
override RM: u32 = 4;
override RN: u32 = 4;

// B(k..k+3, n..n+3) as a mat4x4 whose column u is row k + u: a row's quad of sums gains q * a.
// Columns past N re-read the last one (B_T, where N may be any size; otherwise N % 4 == 0 and the
// quad is whole); their sums are never written.
fn bQuad(base: u32, k: u32, n: u32) -> mat4x4<f32> {
  if (B_T) {
    // Columns of B as vec4 over k, transposed into rows over n.
    let at = vec4<u32>(n, min(n + 1u, p.N - 1u), min(n + 2u, p.N - 1u), min(n + 3u, p.N - 1u)) * p.bStrideN + base + k;
    return transpose(mat4x4<f32>(readB4(at.x), readB4(at.y), readB4(at.z), readB4(at.w)));
  }
  let at = base + k * p.bStrideK + n;
  return mat4x4<f32>(readB4(at), readB4(at + p.bStrideK), readB4(at + 2u * p.bStrideK), readB4(at + 3u * p.bStrideK));
}

// The thread's RN columns of B at k..k+3; quads wholly past N re-read the last valid column.
struct BTile { q: array<mat4x4<f32>, 4> }

fn bTile(base: u32, k: u32, n0: u32) -> BTile {
  // Without B_T, N % 4 == 0: a quad is whole or wholly past N. With it, a quad may straddle N, and
  // bQuad clamps its columns one by one.
  let last = select(p.N - 4u, p.N - 1u, B_T);
  var t: BTile;
  t.q[0] = bQuad(base, k, n0);
  if (RN > 4u) { t.q[1] = bQuad(base, k, min(n0 + 4u, last)); }
  if (RN > 8u) { t.q[2] = bQuad(base, k, min(n0 + 8u, last)); t.q[3] = bQuad(base, k, min(n0 + 12u, last)); }
  return t;
}

// One row's sums plus a(k..k+3) · B(k..k+3, its columns). (Locals are never named like a binding:
// the reflection that lists an entry's bindings goes by name.)
fn rowFma(acc: mat4x4<f32>, a4: vec4<f32>, bt: BTile) -> mat4x4<f32> {
  var r = acc;
  r[0] += bt.q[0] * a4;
  if (RN > 4u) { r[1] += bt.q[1] * a4; }
  if (RN > 8u) { r[2] += bt.q[2] * a4; r[3] += bt.q[3] * a4; }
  return r;
}

// Up to sixteen rows of a thread's tile: each row's sums, and where its row of A starts (in vec4s).
struct Rows { acc: array<mat4x4<f32>, 16>, at: array<u32, 16> }

// Rows m .. m + n - 1 of the tile from column n0, their sums started from the bias terms, so a thread
// loads each column's once, not once per row (on SwiftShader those loads took a tenth of an LSTM's
// input projection). Rows past M re-read the last one; their results are never written.
fn rowsInit(rs: ptr<function, Rows>, n: u32, aBase: u32, m: u32, n0: u32) {
  for (var r = 0u; r < n; r++) { (*rs).at[r] = (aBase + min(m + r, p.M - 1u) * p.aStrideM) / 4u; }
  if (!HAS_BIAS && !HAS_BIAS2) { return; }
  var b0: mat4x4<f32>;
  b0[0] = biasQuad(n0);
  if (RN > 4u) { b0[1] = biasQuad(n0 + 4u); }
  if (RN > 8u) { b0[2] = biasQuad(n0 + 8u); b0[3] = biasQuad(n0 + 12u); }
  // Constant indices only, as in rowsFma.
  (*rs).acc[0] = b0; (*rs).acc[1] = b0; (*rs).acc[2] = b0; (*rs).acc[3] = b0;
  if (n > 4u) { (*rs).acc[4] = b0; (*rs).acc[5] = b0; (*rs).acc[6] = b0; (*rs).acc[7] = b0; }
  if (n > 8u) {
    (*rs).acc[8] = b0; (*rs).acc[9] = b0; (*rs).acc[10] = b0; (*rs).acc[11] = b0;
    (*rs).acc[12] = b0; (*rs).acc[13] = b0; (*rs).acc[14] = b0; (*rs).acc[15] = b0;
  }
}

// The first n rows' sums plus their A(k..k+3) (vec4 q of each row) times the B tile.
fn rowsFma(rs: ptr<function, Rows>, n: u32, q: u32, bt: BTile) {
  (*rs).acc[0] = rowFma((*rs).acc[0], a_vec4[(*rs).at[0] + q], bt);
  (*rs).acc[1] = rowFma((*rs).acc[1], a_vec4[(*rs).at[1] + q], bt);
  (*rs).acc[2] = rowFma((*rs).acc[2], a_vec4[(*rs).at[2] + q], bt);
  (*rs).acc[3] = rowFma((*rs).acc[3], a_vec4[(*rs).at[3] + q], bt);
  if (n > 4u) {
    (*rs).acc[4] = rowFma((*rs).acc[4], a_vec4[(*rs).at[4] + q], bt);
    (*rs).acc[5] = rowFma((*rs).acc[5], a_vec4[(*rs).at[5] + q], bt);
    (*rs).acc[6] = rowFma((*rs).acc[6], a_vec4[(*rs).at[6] + q], bt);
    (*rs).acc[7] = rowFma((*rs).acc[7], a_vec4[(*rs).at[7] + q], bt);
  }
  if (n > 8u) {
    (*rs).acc[8] = rowFma((*rs).acc[8], a_vec4[(*rs).at[8] + q], bt);
    (*rs).acc[9] = rowFma((*rs).acc[9], a_vec4[(*rs).at[9] + q], bt);
    (*rs).acc[10] = rowFma((*rs).acc[10], a_vec4[(*rs).at[10] + q], bt);
    (*rs).acc[11] = rowFma((*rs).acc[11], a_vec4[(*rs).at[11] + q], bt);
    (*rs).acc[12] = rowFma((*rs).acc[12], a_vec4[(*rs).at[12] + q], bt);
    (*rs).acc[13] = rowFma((*rs).acc[13], a_vec4[(*rs).at[13] + q], bt);
    (*rs).acc[14] = rowFma((*rs).acc[14], a_vec4[(*rs).at[14] + q], bt);
    (*rs).acc[15] = rowFma((*rs).acc[15], a_vec4[(*rs).at[15] + q], bt);
  }
}

fn rowsStore(rs: ptr<function, Rows>, n: u32, m: u32, n0: u32, z: u32) {
  for (var r = 0u; r < n; r++) {
    for (var j = 0u; j < RN; j++) { store(m + r, n0 + j, z, (*rs).acc[r][j / 4u][j % 4u]); }
  }
}

@compute @workgroup_size(WG_NAIVE)
fn matmul_register(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let idx = flat_workgroup(wid, nwg) * WG_NAIVE + lid;
  let tilesN = (p.N + RN - 1u) / RN;
  let tilesM = (p.M + RM - 1u) / RM;
  if (idx >= tilesN * tilesM * p.batch) { return; }
  let n0 = RN * (idx % tilesN);
  let m0 = RM * ((idx / tilesN) % tilesM);
  let z = idx / (tilesN * tilesM);
  let off = batchOffsets(z);
  // Rows m0..m0+15 in lo; with RM = 32, m0+16..m0+31 in hi (which RM <= 16 leaves unused).
  let nLo = min(RM, 16u);
  var lo: Rows;
  var hi: Rows;
  rowsInit(&lo, nLo, off.x, m0, n0);
  if (RM > 16u) { rowsInit(&hi, 16u, off.x, m0 + 16u, n0); }
  for (var k = 0u; k < p.K; k += 4u) {
    let bt = bTile(off.y, k, n0);
    let q = k / 4u;
    rowsFma(&lo, nLo, q, bt);
    if (RM > 16u) { rowsFma(&hi, 16u, q, bt); }
  }
  rowsStore(&lo, nLo, m0, n0, z);
  if (RM > 16u) { rowsStore(&hi, 16u, m0 + 16u, n0, z); }
}
