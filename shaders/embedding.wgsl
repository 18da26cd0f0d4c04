// embedding: y[i, :] = weight[ids[i], :] (torch.nn.functional.embedding).
//
// Bindings: 0 params (uniform), 1 ids [n] i32, 2 weight [num, dim], 3 y [n, dim].
// Ids are range-checked on the CPU before dispatch (an InputError); the clamp here only keeps a
// stray id from reading outside the buffer.
// Tunables (override): WG, threads per workgroup; one thread per output element.

struct Params {
  total: u32, dim: u32, num: u32, pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn embedding_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
  if (i >= p.total) { return; }
  let row = i / p.dim;
  let id = u32(clamp(ids[row], 0, i32(p.num) - 1));
  y[i] = weight[id * p.dim + i % p.dim];
}
