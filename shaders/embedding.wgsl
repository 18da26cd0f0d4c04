// embedding: y[i, :] = weight[ids[i], :] (torch.nn.functional.embedding).
//
// Bindings: 0 params (uniform), 1 ids [n] i32, 2 weight [rows, dim], 3 y [total / dim, dim], 4 flags
// (u32 pairs). The table's binding and readWeight(i) (element i as f32) are generated per dtype by
// src/kernels/weight16.ts and joined after this file: f32, or a 16-bit table (f16, bf16) read packed
// in pairs from u32 words or, with shader-f16, as array<f16>. A table past the binding limit is held in parts of whole rows: one dispatch per
// part, each writing the outputs whose id lies in rows [rowStart, rowStart + rows) of the table
// (a table in one buffer is one part). An output past the limit is written in parts of whole rows
// too: this dispatch's y holds output elements [outBase, outBase + total).
// Fed ids are range-checked on the CPU before dispatch (an InputError). Ids computed in the graph
// cannot be: one out of range reads a zero row (written by the dispatch of the first part) and,
// with p.flag = k > 0, sets flags[2(k-1)] = 1 and flags[2(k-1)+1] = the id, which the run reads
// back with the outputs and reports.
// Tunables (override): WG, threads per workgroup; one thread per output element.

struct Params {
  total: u32, dim: u32, num: u32, flag: u32,
  rowStart: u32, rows: u32, outBase: u32, pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> flags: array<atomic<u32>>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn embedding_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i >= p.total) { return; }
  let at = p.outBase + i;
  let id = ids[at / p.dim];
  if (id < 0 || id >= i32(p.num)) {
    if (p.rowStart == 0u) {
      if (p.flag > 0u) {
        atomicStore(&flags[2u * (p.flag - 1u)], 1u);
        atomicStore(&flags[2u * (p.flag - 1u) + 1u], bitcast<u32>(id));
      }
      y[i] = 0.0;
    }
    return;
  }
  // Below rowStart the difference wraps past any row count.
  let row = u32(id) - p.rowStart;
  if (row >= p.rows) { return; }
  y[i] = readWeight(row * p.dim + at % p.dim);
}
