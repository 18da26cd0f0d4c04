// copy: strided moves between views, for slice, concat, assign (a KV-cache write) and torch.gather.
//
// strided_copy  dst[dstBase + sum_d i_d * dstStride_d] = src[srcBase + sum_d i_d * srcStride_d] for
//               every index i of `shape` (rank <= 8). With DYN, offset[0] * dynStride is added to
//               dstBase (DYN_DST) or srcBase: a position fed at run, so a decode step writes its
//               cache row with no recompile and no re-upload.
//               Bindings: 0 params, 1 src, 2 dst (read_write), 3 offset (i32; a dummy without DYN).
// gather_main   out[i] = x[sum_{d != dim} i_d * xStride_d + index[i] * xStride_dim] (torch.gather).
//               Bindings: 0 params, 1 x, 2 index (i32), 3 out, 4 flags (u32 pairs). Fed indices are
//               range-checked on the CPU before dispatch; one computed in the graph and out of range
//               gives 0 and, with p.flag = k > 0, sets flags[2(k-1)] = 1 and flags[2(k-1)+1] = it.
//               An x past the binding limit is held in parts of whole rows (dim 0): one dispatch per
//               part, bound as src, writing the elements whose x row lies in [rowStart, rowStart +
//               rows); the zeros of bad indices come from the part at row 0.
// Values move as raw 32-bit words, so i32 and bool tensors copy unchanged.
// Tunables (override): WG, threads per workgroup; DYN, DYN_DST.

struct Params {
  numel: u32, rank: u32, srcBase: u32, dstBase: u32,
  dynStride: u32, dim: u32, dimSize: u32, flag: u32,
  rowStart: u32, rows: u32, pad0: u32, pad1: u32,
  shape: array<vec4<u32>, 2>,
  srcStride: array<vec4<u32>, 2>,
  dstStride: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(3) var<storage, read> offset: array<i32>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<storage, read_write> flags: array<atomic<u32>>;

override WG: u32 = 256;
override DYN: bool = false;
override DYN_DST: bool = true;

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

fn flatIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return flat_workgroup(wid, nwg) * WG + lid;
}

@compute @workgroup_size(WG)
fn strided_copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.numel) { return; }
  var s = p.srcBase;
  var d = p.dstBase;
  if (DYN) {
    let o = u32(max(offset[0], 0)) * p.dynStride;
    if (DYN_DST) { d += o; } else { s += o; }
  }
  var rest = i;
  for (var k = i32(p.rank) - 1; k >= 0; k--) {
    let n = at(p.shape, u32(k));
    let c = rest % n;
    rest /= n;
    s += c * at(p.srcStride, u32(k));
    d += c * at(p.dstStride, u32(k));
  }
  dst[d] = src[s];
}

@compute @workgroup_size(WG)
fn gather_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.numel) { return; }
  var s = 0u;
  var ix = 0u;
  var rest = i;
  var c0 = 0u;
  for (var k = i32(p.rank) - 1; k >= 0; k--) {
    let n = at(p.shape, u32(k));
    let c = rest % n;
    rest /= n;
    ix += c * at(p.dstStride, u32(k));
    if (u32(k) != p.dim) { s += c * at(p.srcStride, u32(k)); }
    c0 = c;
  }
  let j = index[ix];
  if (j < 0 || j >= i32(p.dimSize)) {
    if (p.rowStart == 0u) {
      if (p.flag > 0u) {
        atomicStore(&flags[2u * (p.flag - 1u)], 1u);
        atomicStore(&flags[2u * (p.flag - 1u) + 1u], bitcast<u32>(j));
      }
      out[i] = 0u;
    }
    return;
  }
  // The x row this element reads, and its row in this part (below rowStart it wraps past any count).
  var jj = u32(j);
  if (p.dim == 0u) {
    jj -= p.rowStart;
    if (jj >= p.rows) { return; }
  } else {
    if (c0 - p.rowStart >= p.rows) { return; }
    s -= p.rowStart * at(p.srcStride, 0u);
  }
  out[i] = src[s + jj * at(p.srcStride, p.dim)];
}
