// sample: one token id per row of logits, greedy (argmax, first index on ties) or drawn with a
// temperature from the top k, exactly as the host's pickToken walks it (src/models/sampling.ts):
// tokens in order of logit descending, index ascending on ties; weights w = exp((l - max) / t), 1 for
// the max itself; the token is the first j whose running sum of weights passes u * total.
//
// Bindings: 0 params (uniform), 1 logits [rows, len] (f32, read as bits), 2 draws [rows] (u in [0, 1]),
// 3 temperature [1] (f32; 0 is greedy), 4 topk [1] (i32; 0 or >= len is all), 5 tokens [rows] (i32).
// One workgroup of WG threads per row; nothing is sorted or written out. Each element's place in
// the walk is a 64-bit key, its logit's bits mapped so that larger logits sort first (high word)
// and its index (low word); the walk is searched 4 bits of that key at a time, each pass summing
// per 16 buckets either a count (for the k-th key, the top-k cut) or the weights (for u's token):
//   greedy        2 passes over the row: the smallest key, then its first index;
//   top-k         1 + 8 (the k-th key) + 8 (u's key) + 1 (ties) passes, + 1 per 4 index bits when a
//                 tie needs the index searched (a tie cut by k, or u landing past a tie's first);
//   all (k = 0)   1 + 8 + 1 passes.
// Counts are held in f32, exact to 2^24 elements per row (the planner's limit); weight sums are f32,
// summed per thread then in a tree, so a draw within about 1e-5 * total of a boundary between two
// tokens may pick the neighbour that pickToken's f64 sum picks (tolerance stated in test/cases-sample.ts).
// Entry points: sample_main (any temperature, fed), sample_argmax (greedy only: logits and tokens).
// Tunables (override): WG, threads per row (a power of two, at most 128: red holds 16 sums a thread).

// loStart: where the index's significant digits start in the 64-bit key; half: WG / 2, a uniform
// so the reduction loop is not unrolled (drivers that inline and unroll everything, lavapipe
// among them, otherwise take minutes to compile this file).
struct Params {
  rows: u32, len: u32, loStart: u32, half: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<u32>;
@group(0) @binding(2) var<storage, read> draws: array<f32>;
@group(0) @binding(3) var<storage, read> temperature: array<f32>;
@group(0) @binding(4) var<storage, read> topk: array<i32>;
@group(0) @binding(5) var<storage, read_write> tokens: array<i32>;

override WG: u32 = 128;

const BUCKETS = 16u;
const ALL = 0xffffffffu;
// Phases of sample_main's search.
const CUT = 0u;
const WEIGH = 1u;
const LO = 2u;

// Per-thread bucket sums, then reduced in place: red[lid * BUCKETS + b].
var<workgroup> red: array<f32, 2048>;
var<workgroup> minKey: atomic<u32>;
var<workgroup> minIdx: atomic<u32>;
var<workgroup> groupCount: atomic<u32>;

// What thread 0 decided, read by every thread with workgroupUniformLoad (a barrier and a uniform value).
struct Pick {
  a: u32, b: u32, r: f32, s: f32,
}
var<workgroup> pick: Pick;

var<private> lid: u32;
var<private> base: u32;

// Larger logits get smaller keys: NaN first (torch.argmax finds NaN), then +inf .. +0 (= -0) .. -inf.
fn sort_key(bits: u32) -> u32 {
  if ((bits & F32_ABS_MASK) > F32_INF_BITS) { return 0u; }
  if (bits == 0x80000000u) { return 0x7fffffffu; }
  if ((bits & 0x80000000u) != 0u) { return bits; }
  return bits ^ 0x7fffffffu;
}

// The logit of a (non-NaN) key.
fn key_value(key: u32) -> f32 {
  if (key >= 0x80000000u) { return f32_of(key); }
  return f32_of(key ^ 0x7fffffffu);
}

// The top `pos` bits of key (hi, lo) equal those of (pHi, pLo); pos is a multiple of 4 in 0..64.
fn in_prefix(hi: u32, lo: u32, pos: u32, pHi: u32, pLo: u32) -> bool {
  if (pos == 0u) { return true; }
  if (pos <= 32u) { return (hi >> (32u - pos)) == (pHi >> (32u - pos)); }
  return hi == pHi && (lo >> (64u - pos)) == (pLo >> (64u - pos));
}

fn digit(hi: u32, lo: u32, pos: u32) -> u32 {
  if (pos < 32u) { return (hi >> (28u - pos)) & 15u; }
  return (lo >> (60u - pos)) & 15u;
}

// Within the top-k cut: key (hi, lo) <= (kHi, kLo).
fn kept(hi: u32, lo: u32, kHi: u32, kLo: u32) -> bool {
  return hi < kHi || (hi == kHi && lo <= kLo);
}

// Weight of a logit against the row's max: 1 at the max (so +inf and an all -inf row work), else
// exp((l - max) / t), which is 0 for -inf and wherever l - max overflows.
fn weight(bits: u32, key: u32, top: u32, mx: f32, t: f32) -> f32 {
  if (key == top) { return 1.0; }
  return exp((f32_of(bits) - mx) / t);
}

// Per bucket of digit `pos`, over kept elements whose key has the prefix: a count, or (weighted) a
// weight sum; left in red[0 .. BUCKETS). Each thread sums into its own BUCKETS slots, then a tree.
fn histogram(pos: u32, pHi: u32, pLo: u32, kHi: u32, kLo: u32, weighted: bool, top: u32, mx: f32, t: f32) {
  let own = lid * BUCKETS;
  for (var b = 0u; b < BUCKETS; b++) { red[own + b] = 0.0; }
  for (var i = lid; i < p.len; i += WG) {
    let bits = logits[base + i];
    let hi = sort_key(bits);
    if (!in_prefix(hi, i, pos, pHi, pLo) || !kept(hi, i, kHi, kLo)) { continue; }
    let d = digit(hi, i, pos);
    if (weighted) { red[own + d] += weight(bits, hi, top, mx, t); } else { red[own + d] += 1.0; }
  }
  workgroupBarrier();
  for (var step = p.half; step > 0u; step >>= 1u) {
    for (var e = lid; e < step * BUCKETS; e += WG) { red[e] += red[e + step * BUCKETS]; }
    workgroupBarrier();
  }
}

// After histogram: the first bucket whose running sum passes r (strictly), r made relative to it,
// and the bucket's sum. With `scaled`, r is first u times the sum of every bucket (the first
// weighted pass sees every kept element, so that sum is the total). Past the last sum (rounding),
// the last bucket that holds anything, with r = +inf so every later choice is the last one too.
// Returns a = bucket, r = what remains of r, s = the bucket's sum.
fn choose(r0: f32, scaled: bool) -> Pick {
  if (lid == 0u) {
    var r = r0;
    if (scaled) {
      var total = 0.0;
      for (var b = 0u; b < BUCKETS; b++) { total += red[b]; }
      r = r0 * total;
    }
    var cum = 0.0;
    var out = Pick(BUCKETS, 0u, r, 0.0);
    var last = Pick(0u, 0u, inf_f32(), 0.0);
    for (var b = 0u; b < BUCKETS; b++) {
      let s = red[b];
      if (s > 0.0) { last = Pick(b, 0u, inf_f32(), s); }
      if (out.a == BUCKETS && r < cum + s) { out = Pick(b, 0u, r - cum, s); }
      cum += s;
    }
    if (out.a == BUCKETS) { out = last; }
    pick = out;
  }
  return workgroupUniformLoad(&pick);
}

// The smallest key of the row.
fn smallest_key() -> u32 {
  if (lid == 0u) { atomicStore(&minKey, ALL); }
  workgroupBarrier();
  var m = ALL;
  for (var i = lid; i < p.len; i += WG) { m = min(m, sort_key(logits[base + i])); }
  atomicMin(&minKey, m);
  workgroupBarrier();
  if (lid == 0u) { pick = Pick(atomicLoad(&minKey), 0u, 0.0, 0.0); }
  return workgroupUniformLoad(&pick).a;
}

// How many kept elements have key hi == h, and the first of their indices.
fn group(h: u32, kHi: u32, kLo: u32) -> vec2<u32> {
  if (lid == 0u) {
    atomicStore(&minIdx, ALL);
    atomicStore(&groupCount, 0u);
  }
  workgroupBarrier();
  var n = 0u;
  var first = ALL;
  for (var i = lid; i < p.len; i += WG) {
    if (sort_key(logits[base + i]) == h && kept(h, i, kHi, kLo)) {
      n++;
      first = min(first, i);
    }
  }
  atomicAdd(&groupCount, n);
  atomicMin(&minIdx, first);
  workgroupBarrier();
  if (lid == 0u) { pick = Pick(atomicLoad(&groupCount), atomicLoad(&minIdx), 0.0, 0.0); }
  let g = workgroupUniformLoad(&pick);
  return vec2<u32>(g.a, g.b);
}

// Greedy: the first index of the largest logit (of the first NaN, if any).
fn argmax_row() -> u32 {
  let top = smallest_key();
  return group(top, ALL, ALL).y;
}

@compute @workgroup_size(WG)
fn sample_argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) local: u32) {
  let row = flat_workgroup(wid, nwg);
  if (row >= p.rows) { return; }
  lid = local;
  base = row * p.len;
  let token = argmax_row();
  if (lid == 0u) { tokens[row] = i32(token); }
}

@compute @workgroup_size(WG)
fn sample_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) local: u32) {
  let row = flat_workgroup(wid, nwg);
  if (row >= p.rows) { return; }
  lid = local;
  base = row * p.len;
  // The run's settings, made uniform: a = k (0: all), r = t, s = u.
  if (lid == 0u) {
    let k = topk[0];
    pick = Pick(select(0u, u32(k), k > 0 && u32(k) < p.len), 0u, temperature[0], clamp(draws[row], 0.0, 1.0));
  }
  let settings = workgroupUniformLoad(&pick);
  let k = settings.a;
  let t = settings.r;
  let u = settings.s;
  let top = smallest_key();
  if (top == 0u || (bitcast<u32>(t) & F32_ABS_MASK) == 0u || k == 1u) {
    let token = group(top, ALL, ALL).y;
    if (lid == 0u) { tokens[row] = i32(token); }
    return;
  }
  let mx = key_value(top);

  // One loop of passes, so the histogram is inlined once. Phases: CUT finds the k-th key's logit
  // (counting, 8 passes; none when every element is kept); WEIGH finds u's logit (weighing within
  // the cut, 8 passes), then its ties are counted (group); LO finds, by counting 4 index bits a
  // pass, the rank-th index among a logit's kept ties: the cut's last index when k falls among
  // ties, or u's token when u lands past the first of its ties.
  var phase = select(WEIGH, CUT, k != 0u);
  var toToken = false;
  var pos = 0u;
  var pHi = 0u;
  var pLo = 0u;
  var r = select(u, f32(k) - 1.0, k != 0u);
  var kHi = ALL;
  var kLo = ALL;
  var token = 0u;
  loop {
    let weighted = phase == WEIGH;
    histogram(pos, pHi, pLo, kHi, kLo, weighted, top, mx, t);
    let c = choose(r, weighted && pos == 0u);
    r = c.r;
    if (phase == LO) {
      pLo |= c.a << (60u - pos);
      if (pos == 60u) {
        if (toToken) {
          token = pLo;
          break;
        }
        kLo = pLo;
        phase = WEIGH;
        pos = 0u;
        pHi = 0u;
        pLo = 0u;
        r = u;
        continue;
      }
    } else {
      pHi |= c.a << (28u - pos);
      if (pos == 28u) {
        if (phase == CUT) {
          kHi = pHi;
          if (r < c.s - 1.0) {
            // k falls among this logit's ties: the cut ends at the r-th of their indices.
            phase = LO;
            pos = p.loStart;
            continue;
          }
          phase = WEIGH;
          pos = 0u;
          pHi = 0u;
          r = u;
          continue;
        }
        // u's logit is pHi; its kept ties weigh w each, in index order.
        let g = group(pHi, kHi, kLo);
        let w = select(exp((key_value(pHi) - mx) / t), 1.0, pHi == top);
        let rank = u32(min(floor(r / w), f32(g.x - 1u)));
        if (rank == 0u) {
          token = g.y;
          break;
        }
        phase = LO;
        toToken = true;
        pos = p.loStart;
        r = f32(rank);
        continue;
      }
    }
    pos += 4u;
  }
  if (lid == 0u) { tokens[row] = i32(token); }
}
