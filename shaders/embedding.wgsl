// embedding: y[i, :] = weight[ids[i], :] (torch.nn.functional.embedding).
//
// Bindings: 0 params (uniform), 1 ids [n] i32, 2 weight [num, dim], 3 y [n, dim], 4 flags (u32 pairs).
// Fed ids are range-checked on the CPU before dispatch (an InputError). Ids computed in the graph
// cannot be: one out of range reads a zero row and, with p.flag = k > 0, sets flags[2(k-1)] = 1 and
// flags[2(k-1)+1] = the id, which the run reads back with the outputs and reports.
// Tunables (override): WG, threads per workgroup; one thread per output element.

struct Params {
  total: u32, dim: u32, num: u32, flag: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> flags: array<atomic<u32>>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn embedding_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
  if (i >= p.total) { return; }
  let row = i / p.dim;
  let id = ids[row];
  if (id < 0 || id >= i32(p.num)) {
    if (p.flag > 0u) {
      atomicStore(&flags[2u * (p.flag - 1u)], 1u);
      atomicStore(&flags[2u * (p.flag - 1u) + 1u], bitcast<u32>(id));
    }
    y[i] = 0.0;
    return;
  }
  y[i] = weight[u32(id) * p.dim + i % p.dim];
}
