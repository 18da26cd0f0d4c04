// attention: out[b, i, :] = softmax_j(scale * q[b, i, :] . k[b, j, :] + mask[b, i, j]) . v[b, j, :]
// (torch.nn.functional.scaled_dot_product_attention), one fused dispatch, never writing the scores.
//
// Shapes, in B,H,T,D notation: q [B, H, Tq, D], k [B, H, Tk, D], v [B, H, Tk, Dv], mask broadcast to
// [B, H, Tq, Tk], out [B, H, Tq, Dv] contiguous. The batch dims (B, H, or any others) are collapsed to
// at most four, each operand with its own batch strides (0 where it broadcasts), so a mask of
// [B, 1, 1, Tk] or [Tq, Tk] is read in place. q, k, v and the mask are read through element strides
// (qStrideT, qStrideD, ...), so a [B, T, H, D] tensor transposed to [B, H, T, D] costs no copy.
//
// Bindings: 0 params (uniform), 1 q, 2 k, 3 v, 4 mask (u32 words: a bool mask holds 0 / 1, a float
// mask its f32 bits; a dummy when MASK is 0), 5 out.
//
// Masking: a key is dropped when the bool mask is false, the float mask is -inf, the key is past the
// query (CAUSAL, aligned top-left as torch: query i sees keys j <= i), or past Tk. A dropped key takes
// no part: its score is the sentinel MASKED (the lowest f32) and its v is selected away, not times 0
// (padding may hold NaN). A query row whose keys are all dropped gives ZEROS, by choice (torch gives
// NaN: 0 / 0). Kept scores (keptScore): finite ones are clamped up to FLOOR, so a float mask of
// finfo.min still counts as a (tiny) score; -inf becomes KEPT_NEG_INF; NaN and +inf become +inf,
// which max() keeps (it may drop a NaN). As in torch, a row with a NaN or +inf score, or with only
// -inf ones, is NaN (rowScale), and NaN or inf in a kept key's v reaches the row, even at weight 0.
//
// Softmax is online (flash-attention style): keys are walked in tiles of BK; each row keeps a running
// max m and sum l, and when the max grows, l and the output accumulator are rescaled by exp(m - m').
// The scale is folded into q as it is staged.
//
// Entry points (variants):
//   attention_flash  a workgroup owns BQ = RG * RQ query rows of one batch; each K/V tile is staged in
//                    workgroup memory (K transposed, [d][key]) and shared by all BQ rows. Thread
//                    (g, c) of RG x TPR scores rows g*RQ.. against keys c, c+TPR, ... (KB at a time),
//                    then accumulates P.V for its columns dv = c + TPR * n (4 * NCH of them, as NCH
//                    vec4s per row): neighbouring threads touch neighbouring words, or one shared word.
//                    The row max comes from the shared score tile, so a row's threads rescale alike.
//   attention_split  for few query rows (decode, Tq = 1): a workgroup owns RQ rows; its KG x TPR
//                    threads split each tile's keys into KG groups, each group keeping its own running
//                    (m, l, acc); K and V are read straight from memory (each is used once per row),
//                    and the KG partial states are merged at the end (a tree over KG, a power of two).
//   attention_rows   no workgroup memory and no barriers, for CPU-emulated adapters (SwiftShader,
//                    llvmpipe), where those cost more than the loads they save: see the entry point.
//
// Tunables (override): RQ (rows per thread, <= 4), RG (row groups, flash), TPR (threads per group;
// NCH = ceil(Dv / (4 TPR)) <= 4), BK (keys per tile; split: a multiple of KG), KB (flash: keys scored
// at once per thread, <= 4, dividing ceil(BK / TPR)), KG (split: key groups, a power of two),
// WG_ROWS (rows: threads per workgroup). Set by the planner: HEAD_D, HEAD_DV (D, Dv <= 256; flash
// and split only), MASK (0 none, 1 bool, 2 float), CAUSAL. Loops as long as D, Dv or BK run to
// uniform bounds (nD, nDV, nBK, nKG: the same numbers), not override ones: a JIT that sees a constant
// trip count unrolls them fully, and Mesa's llvmpipe then spends tens of seconds on one pipeline.

struct Params {
  Tq: u32, Tk: u32, batch: u32, qBlocks: u32,
  scale: f32, nD: u32, nDV: u32, nBK: u32,
  nKG: u32, qStrideT: u32, qStrideD: u32, kStrideT: u32,
  kStrideD: u32, vStrideT: u32, vStrideD: u32, mStrideQ: u32,
  mStrideK: u32, pad0: u32, pad1: u32, pad2: u32,
  batchShape: vec4<u32>,
  qBatchStride: vec4<u32>,
  kBatchStride: vec4<u32>,
  vBatchStride: vec4<u32>,
  mBatchStride: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

override HEAD_D: u32 = 64;
override HEAD_DV: u32 = 64;
override MASK: u32 = 0;
override CAUSAL: bool = false;
override RQ: u32 = 4;
override RG: u32 = 8;
override TPR: u32 = 4;
override BK: u32 = 16;
override KB: u32 = 4;
override KG: u32 = 16;
override WG_ROWS: u32 = 64;

override NCH: u32 = (HEAD_DV + 4u * TPR - 1u) / (4u * TPR);
override DVP: u32 = 4u * NCH * TPR;
override BQ: u32 = RG * RQ;
override WG_FLASH: u32 = RG * TPR;
override WG_SPLIT: u32 = KG * TPR;

const MASKED = -0x1.fffffep+127f;
const KEPT_NEG_INF = -0x1.fffffcp+127f;
const FLOOR = -0x1.fffffap+127f;
const MASKED_BITS = 0xff7fffffu;
const KEPT_NEG_INF_BITS = 0xff7ffffeu;
const NEG_INF_BITS = 0xff800000u;

var<workgroup> Qs: array<f32, BQ * HEAD_D>;   // [row][d], scaled
var<workgroup> Ks: array<f32, HEAD_D * BK>;   // [d][key]: transposed
var<workgroup> Vs: array<f32, BK * DVP>;      // [key][dv], padded to DVP columns
var<workgroup> Ss: array<f32, BQ * BK>;       // scores [row][key]
var<workgroup> Ps: array<f32, BQ * BK>;       // weights [row][key]
var<workgroup> Mx: array<f32, KG * BQ>;
var<workgroup> Lx: array<f32, KG * BQ>;
var<workgroup> Red: array<f32, max(KG / 2u, 1u) * BQ * DVP>;

struct Bases { q: u32, k: u32, v: u32, m: u32 }

// Offsets of batch b in q, k, v and the mask, from the (up to) four batch dims, innermost in .w.
fn bases(b: u32) -> Bases {
  var rest = b;
  var o = Bases(0u, 0u, 0u, 0u);
  for (var d = 3; d >= 0; d--) {
    let i = rest % p.batchShape[d];
    rest = rest / p.batchShape[d];
    o.q += i * p.qBatchStride[d];
    o.k += i * p.kBatchStride[d];
    o.v += i * p.vBatchStride[d];
    o.m += i * p.mBatchStride[d];
  }
  return o;
}

// Element d of a row, zero past the row's end or past the last row. Branch-free: an index past the
// buffer is safe to read in WebGPU (it is clamped), and the value is selected away.
fn loadQ(base: u32, row: u32, d: u32) -> f32 {
  return select(0.0, q[base + row * p.qStrideT + d * p.qStrideD], row < p.Tq && d < HEAD_D);
}

fn loadK(base: u32, key: u32, d: u32) -> f32 {
  return select(0.0, k[base + key * p.kStrideT + d * p.kStrideD], key < p.Tk && d < HEAD_D);
}

fn loadV(base: u32, key: u32, d: u32) -> f32 {
  return select(0.0, v[base + key * p.vStrideT + d * p.vStrideD], key < p.Tk && d < HEAD_DV);
}

// A kept score x as the online softmax holds it (see Masking above).
fn keptScore(x: vec4<f32>) -> vec4<f32> {
  let bits = bitcast<vec4<u32>>(x);
  let poison = is_nan4(x) | (bits == vec4<u32>(F32_INF_BITS));
  let low = select(max(x, vec4<f32>(FLOOR)), vec4<f32>(KEPT_NEG_INF), bits == vec4<u32>(NEG_INF_BITS));
  return select(low, vec4<f32>(inf_f32()), poison);
}

fn isMasked(s: f32) -> bool { return bitcast<u32>(s) == MASKED_BITS; }

// The score of (row, key) after scaling (in q), the mask and causality: MASKED when the key is dropped.
fn maskScore(s: f32, row: u32, key: u32, mBase: u32) -> f32 {
  if (key >= p.Tk || row >= p.Tq || (CAUSAL && key > row)) { return MASKED; }
  var x = s;
  if (MASK != 0u) {
    let w = mask[mBase + row * p.mStrideQ + key * p.mStrideK];
    if (MASK == 1u && w == 0u) { return MASKED; }
    if (MASK == 2u) {
      if (w == NEG_INF_BITS) { return MASKED; }
      x += bitcast<f32>(w);
    }
  }
  return keptScore(vec4<f32>(x)).x;
}

// exp(s - m), 0 for a dropped score (so a row of dropped keys adds nothing, whatever m is).
fn weight(s: f32, m: f32) -> f32 {
  return select(exp(s - m), 0.0, isMasked(s));
}

// 1 / l for a row with running max m: 0 when every key was dropped (m = MASKED, l = 0), NaN when a
// score was NaN or +inf (m = +inf) or every kept one was -inf (m = KEPT_NEG_INF).
fn rowScale(m: f32, l: f32) -> f32 {
  let bits = bitcast<u32>(m);
  let nan = bits == F32_INF_BITS || bits == KEPT_NEG_INF_BITS;
  return select(select(1.0 / l, 0.0, bits == MASKED_BITS), nan_f32(), nan);
}

// Thread c's column n (of 4 * NCH): component n % 4 of accumulator n / 4.
fn column(c: u32, n: u32) -> u32 {
  return c + TPR * n;
}

// Row `row` (of the batch at `b`) gets acc / l, zeros or NaN (rowScale).
fn writeRow(b: u32, row: u32, c: u32, m: f32, l: f32, acc: ptr<function, array<vec4<f32>, 16>>, r: u32) {
  if (row >= p.Tq) { return; }
  let inv = rowScale(m, l);
  let o = (b * p.Tq + row) * HEAD_DV;
  for (var i = 0u; i < NCH; i++) {
    let val = (*acc)[r * 4u + i] * inv;
    for (var e = 0u; e < 4u; e++) {
      let dv = column(c, 4u * i + e);
      if (dv < HEAD_DV) { out[o + dv] = val[e]; }
    }
  }
}

// Causal: keys past the block's last row are dropped for every row of the block.
fn keyEnd(row0: u32, rows: u32) -> u32 {
  if (CAUSAL) { return min(p.Tk, row0 + rows); }
  return p.Tk;
}

@compute @workgroup_size(WG_FLASH)
fn attention_flash(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let wg = flat_workgroup(wid, nwg);
  if (wg >= p.batch * p.qBlocks) { return; }
  let b = wg / p.qBlocks;
  let row0 = (wg % p.qBlocks) * BQ;
  let base = bases(b);
  let g = lid / TPR;
  let c = lid % TPR;
  for (var i = lid; i < BQ * HEAD_D; i += WG_FLASH) {
    Qs[i] = loadQ(base.q, row0 + i / HEAD_D, i % HEAD_D) * p.scale;
  }
  var m: array<f32, 4>;
  var l: array<f32, 4>;
  var acc: array<vec4<f32>, 16>;
  for (var r = 0u; r < 4u; r++) { m[r] = MASKED; }
  let kEnd = keyEnd(row0, BQ);
  for (var t0 = 0u; t0 < kEnd; t0 += BK) {
    workgroupBarrier(); // the previous tile's readers are done (and Qs is staged)
    // Consecutive threads read consecutive elements of k and v.
    for (var i = lid; i < BK * HEAD_D; i += WG_FLASH) {
      let key = i / HEAD_D;
      let d = i % HEAD_D;
      Ks[d * BK + key] = loadK(base.k, t0 + key, d);
    }
    for (var i = lid; i < BK * DVP; i += WG_FLASH) { Vs[i] = loadV(base.v, t0 + i / DVP, i % DVP); }
    workgroupBarrier();

    // Scores: KB keys at a time, so each Qs load serves KB keys and each Ks load RQ rows. Thread c
    // takes keys c, c + TPR, ... below BK (BK need not be a multiple of TPR).
    let slots = (p.nBK + TPR - 1u) / TPR;
    for (var k0 = 0u; k0 < slots; k0 += KB) {
      var s: array<f32, 16>;
      for (var i = 0u; i < 16u; i++) { s[i] = 0.0; } // explicit: a loop-body var is not reliably re-zeroed
      for (var d = 0u; d < p.nD; d++) {
        var kv: array<f32, 4>;
        for (var kk = 0u; kk < KB; kk++) { kv[kk] = Ks[d * BK + min(c + (k0 + kk) * TPR, BK - 1u)]; }
        for (var r = 0u; r < RQ; r++) {
          let qv = Qs[(g * RQ + r) * HEAD_D + d];
          for (var kk = 0u; kk < KB; kk++) { s[r * 4u + kk] = fma(qv, kv[kk], s[r * 4u + kk]); }
        }
      }
      for (var kk = 0u; kk < KB; kk++) {
        let j = c + (k0 + kk) * TPR;
        if (j < BK) {
          for (var r = 0u; r < RQ; r++) {
            let row = g * RQ + r;
            Ss[row * BK + j] = maskScore(s[r * 4u + kk], row0 + row, t0 + j, base.m);
          }
        }
      }
    }
    workgroupBarrier();

    // The new row max from the whole tile; this thread's keys become weights against it.
    for (var r = 0u; r < RQ; r++) {
      let row = g * RQ + r;
      var mt = m[r];
      for (var j = 0u; j < p.nBK; j++) { mt = max(mt, Ss[row * BK + j]); }
      for (var j = c; j < p.nBK; j += TPR) { Ps[row * BK + j] = weight(Ss[row * BK + j], mt); }
      let alpha = weight(m[r], mt);
      m[r] = mt;
      l[r] *= alpha;
      for (var i = 0u; i < NCH; i++) { acc[r * 4u + i] *= alpha; }
    }
    workgroupBarrier();

    for (var j = 0u; j < p.nBK; j++) {
      var vv: array<vec4<f32>, 4>;
      for (var i = 0u; i < NCH; i++) {
        for (var e = 0u; e < 4u; e++) { vv[i][e] = Vs[j * DVP + column(c, 4u * i + e)]; }
      }
      for (var r = 0u; r < RQ; r++) {
        let pr = Ps[(g * RQ + r) * BK + j];
        // Only a mask or causality drops a key below Tk (past Tk, v is staged as 0).
        let keep = (MASK == 0u && !CAUSAL) || !isMasked(Ss[(g * RQ + r) * BK + j]);
        l[r] += pr;
        for (var i = 0u; i < NCH; i++) {
          acc[r * 4u + i] = fma(vec4<f32>(pr), select(vec4<f32>(0.0), vv[i], keep), acc[r * 4u + i]);
        }
      }
    }
  }
  for (var r = 0u; r < RQ; r++) { writeRow(b, row0 + g * RQ + r, c, m[r], l[r], &acc, r); }
}

@compute @workgroup_size(WG_SPLIT)
fn attention_split(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let wg = flat_workgroup(wid, nwg);
  if (wg >= p.batch * p.qBlocks) { return; }
  let b = wg / p.qBlocks;
  let row0 = (wg % p.qBlocks) * RQ;
  let base = bases(b);
  let g = lid / TPR;
  let c = lid % TPR;
  for (var i = lid; i < RQ * HEAD_D; i += WG_SPLIT) {
    Qs[i] = loadQ(base.q, row0 + i / HEAD_D, i % HEAD_D) * p.scale;
  }
  var m: array<f32, 4>;
  var l: array<f32, 4>;
  var acc: array<vec4<f32>, 16>;
  for (var r = 0u; r < 4u; r++) { m[r] = MASKED; }
  let kEnd = keyEnd(row0, RQ);
  let kpg = p.nBK / p.nKG;
  for (var t0 = 0u; t0 < kEnd; t0 += BK) {
    workgroupBarrier(); // the previous tile's scores are consumed (and Qs is staged)
    for (var i = lid; i < RQ * BK; i += WG_SPLIT) {
      let r = i / BK;
      let key = t0 + i % BK;
      var s = 0.0;
      if (key < kEnd) {
        for (var d = 0u; d < p.nD; d++) { s = fma(Qs[r * HEAD_D + d], loadK(base.k, key, d), s); }
      }
      Ss[i] = maskScore(s, row0 + r, key, base.m);
    }
    workgroupBarrier();

    // This group's kpg keys of the tile, against its own running max.
    let j0 = g * kpg;
    for (var r = 0u; r < RQ; r++) {
      var mt = m[r];
      for (var j = 0u; j < kpg; j++) { mt = max(mt, Ss[r * BK + j0 + j]); }
      let alpha = weight(m[r], mt);
      m[r] = mt;
      l[r] *= alpha;
      for (var i = 0u; i < NCH; i++) { acc[r * 4u + i] *= alpha; }
    }
    let jEnd = min(kpg, max(kEnd, t0 + j0) - (t0 + j0));
    for (var j = 0u; j < jEnd; j++) {
      var vv: array<vec4<f32>, 4>;
      for (var i = 0u; i < NCH; i++) {
        for (var e = 0u; e < 4u; e++) { vv[i][e] = loadV(base.v, t0 + j0 + j, column(c, 4u * i + e)); }
      }
      for (var r = 0u; r < RQ; r++) {
        let sc = Ss[r * BK + j0 + j];
        let pr = weight(sc, m[r]);
        let keep = (MASK == 0u && !CAUSAL) || !isMasked(sc);
        l[r] += pr;
        for (var i = 0u; i < NCH; i++) {
          acc[r * 4u + i] = fma(vec4<f32>(pr), select(vec4<f32>(0.0), vv[i], keep), acc[r * 4u + i]);
        }
      }
    }
  }

  // Merge the KG groups: rescale each to the common max, then sum the accumulators in a tree.
  if (c == 0u) {
    for (var r = 0u; r < RQ; r++) {
      Mx[g * RQ + r] = m[r];
      Lx[g * RQ + r] = l[r];
    }
  }
  workgroupBarrier();
  var lTot: array<f32, 4>;
  var mAll: array<f32, 4>;
  for (var r = 0u; r < RQ; r++) {
    mAll[r] = MASKED;
    for (var h = 0u; h < p.nKG; h++) { mAll[r] = max(mAll[r], Mx[h * RQ + r]); }
    for (var h = 0u; h < p.nKG; h++) { lTot[r] += Lx[h * RQ + r] * weight(Mx[h * RQ + r], mAll[r]); }
    let f = weight(m[r], mAll[r]);
    for (var i = 0u; i < NCH; i++) { acc[r * 4u + i] *= f; }
  }
  for (var hw = KG / 2u; hw > 0u; hw /= 2u) {
    if (g >= hw && g < 2u * hw) {
      for (var r = 0u; r < RQ; r++) {
        for (var i = 0u; i < NCH; i++) {
          for (var e = 0u; e < 4u; e++) { Red[((g - hw) * RQ + r) * DVP + column(c, 4u * i + e)] = acc[r * 4u + i][e]; }
        }
      }
    }
    workgroupBarrier();
    if (g < hw) {
      for (var r = 0u; r < RQ; r++) {
        for (var i = 0u; i < NCH; i++) {
          for (var e = 0u; e < 4u; e++) { acc[r * 4u + i][e] += Red[(g * RQ + r) * DVP + column(c, 4u * i + e)]; }
        }
      }
    }
    workgroupBarrier();
  }
  if (g == 0u) {
    for (var r = 0u; r < RQ; r++) { writeRow(b, row0 + r, c, mAll[r], lTot[r], &acc, r); }
  }
}

// Scores of the four rows (.x .. .w) against one key; MASKED where dropped. Branch-free: Subzero
// (SwiftShader's JIT) hung compiling a causal version in which each of the 16 scores had branches.
fn maskScores(s: vec4<f32>, row0: u32, key: u32, kEnd: u32, mBase: u32) -> vec4<f32> {
  let rows = vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u);
  let keys = vec4<u32>(key);
  var drop = (keys >= vec4<u32>(kEnd)) | (rows >= vec4<u32>(p.Tq));
  if (CAUSAL) { drop = drop | (keys > rows); }
  var x = s;
  if (MASK != 0u) {
    let at = vec4<u32>(mBase + key * p.mStrideK) + rows * p.mStrideQ;
    let w = vec4<u32>(mask[at.x], mask[at.y], mask[at.z], mask[at.w]);
    if (MASK == 1u) { drop = drop | (w == vec4<u32>(0u)); }
    if (MASK == 2u) {
      drop = drop | (w == vec4<u32>(NEG_INF_BITS));
      x += bitcast<vec4<f32>>(w);
    }
  }
  return select(keptScore(x), vec4<f32>(MASKED), drop);
}

fn masked4(s: vec4<f32>) -> vec4<bool> { return bitcast<vec4<u32>>(s) == vec4<u32>(MASKED_BITS); }

fn weights(s: vec4<f32>, m: vec4<f32>) -> vec4<f32> {
  return select(exp(s - m), vec4<f32>(0.0), masked4(s));
}

// attention_rows: no workgroup memory and no barriers (for CPU-emulated adapters, where a barrier or
// a gather costs more than the loads it saves). A thread owns four query rows, held transposed: qT[d]
// and accT[dv] are vec4s over the rows, so a scalar of k or v (the same address in every thread of a
// batch: one broadcast load on a SIMD emulator) updates all four rows with one vec4 fma. Keys go four
// at a time: S_j (vec4 over rows) for keys j..j+3, the block's row max, one rescale, then P.V. The
// four keys are written out by hand: Subzero does not unroll loops, and crashed on an eight-key form.
@compute @workgroup_size(WG_ROWS)
fn attention_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let idx = flat_workgroup(wid, nwg) * WG_ROWS + lid;
  if (idx >= p.batch * p.qBlocks) { return; }
  let b = idx / p.qBlocks;
  let row0 = (idx % p.qBlocks) * 4u;
  let base = bases(b);
  var qT: array<vec4<f32>, 256>;
  for (var d = 0u; d < p.nD; d++) {
    let at = base.q + row0 * p.qStrideT + d * p.qStrideD;
    let x = vec4<f32>(q[at], q[at + p.qStrideT], q[at + 2u * p.qStrideT], q[at + 3u * p.qStrideT]);
    qT[d] = select(vec4<f32>(0.0), x * p.scale, vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.Tq));
  }
  var accT: array<vec4<f32>, 256>;
  var m = vec4<f32>(MASKED);
  var l = vec4<f32>(0.0);
  let kEnd = keyEnd(row0, 4u);
  let last = max(p.Tk, 1u) - 1u;
  for (var t0 = 0u; t0 < kEnd; t0 += 4u) {
    let k0 = base.k + t0 * p.kStrideT;
    let k1 = base.k + min(t0 + 1u, last) * p.kStrideT;
    let k2 = base.k + min(t0 + 2u, last) * p.kStrideT;
    let k3 = base.k + min(t0 + 3u, last) * p.kStrideT;
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    var s2 = vec4<f32>(0.0);
    var s3 = vec4<f32>(0.0);
    for (var d = 0u; d < p.nD; d++) {
      let x = qT[d];
      let dk = d * p.kStrideD;
      s0 = fma(x, vec4<f32>(k[k0 + dk]), s0);
      s1 = fma(x, vec4<f32>(k[k1 + dk]), s1);
      s2 = fma(x, vec4<f32>(k[k2 + dk]), s2);
      s3 = fma(x, vec4<f32>(k[k3 + dk]), s3);
    }
    s0 = maskScores(s0, row0, t0, kEnd, base.m);
    s1 = maskScores(s1, row0, t0 + 1u, kEnd, base.m);
    s2 = maskScores(s2, row0, t0 + 2u, kEnd, base.m);
    s3 = maskScores(s3, row0, t0 + 3u, kEnd, base.m);
    // Dropped keys (the mask, causality, and the re-read keys past Tk) must add nothing, not 0 * v:
    // their v is selected away. A block of only dropped keys changes nothing.
    let d0 = masked4(s0);
    let d1 = masked4(s1);
    let d2 = masked4(s2);
    let d3 = masked4(s3);
    if (all(d0 & d1 & d2 & d3)) { continue; }
    let mt = max(m, max(max(s0, s1), max(s2, s3)));
    let alpha = weights(m, mt);
    m = mt;
    let w0 = weights(s0, mt);
    let w1 = weights(s1, mt);
    let w2 = weights(s2, mt);
    let w3 = weights(s3, mt);
    l = l * alpha + (w0 + w1) + (w2 + w3);
    let v0 = base.v + t0 * p.vStrideT;
    let v1 = base.v + min(t0 + 1u, last) * p.vStrideT;
    let v2 = base.v + min(t0 + 2u, last) * p.vStrideT;
    let v3 = base.v + min(t0 + 3u, last) * p.vStrideT;
    for (var d = 0u; d < p.nDV; d++) {
      let dv = d * p.vStrideD;
      var a = accT[d] * alpha;
      a = fma(w0, select(vec4<f32>(v[v0 + dv]), vec4<f32>(0.0), d0), a);
      a = fma(w1, select(vec4<f32>(v[v1 + dv]), vec4<f32>(0.0), d1), a);
      a = fma(w2, select(vec4<f32>(v[v2 + dv]), vec4<f32>(0.0), d2), a);
      a = fma(w3, select(vec4<f32>(v[v3 + dv]), vec4<f32>(0.0), d3), a);
      accT[d] = a;
    }
  }
  let inv = vec4<f32>(rowScale(m.x, l.x), rowScale(m.y, l.y), rowScale(m.z, l.z), rowScale(m.w, l.w));
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + r;
    if (row < p.Tq) {
      let o = (b * p.Tq + row) * p.nDV;
      for (var d = 0u; d < p.nDV; d++) { out[o + d] = accT[d][r] * inv[r]; }
    }
  }
}
