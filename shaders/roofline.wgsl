// roofline: the adapter's own limits, measured by the benchmark (planned by bench/roofline.ts) so a
// kernel's throughput can be read as a fraction of what the device does at best.
//
// Entry points:
//   fma_peak   each thread runs 8 independent vec4 fma chains for `iters` steps (64 flops a step),
//              so the rate is bound by arithmetic, not by latency or memory. out[i] is the sum of
//              every lane of every chain, which keeps the chains alive and gives the test a value:
//              chain k starts at (k, k+1, k+2, k+3) and steps a = a * mul + add.
//   copy_vec4  dst[i] = src[i] over vec4 elements: one read and one write per element.
//   empty      does nothing: the cost of a dispatch itself.
// Bindings: fma_peak 0 params (uniform), 1 out [threads]; copy_vec4 2 src, 3 dst (equal lengths, in vec4s).
// The grid may be folded into x and y (x workgroups per row); the flat index is x + y * (nwg.x * WG).
// Tunables (override): WG, threads per workgroup (fma_peak, copy_vec4).

struct FmaParams {
  iters: u32, mul: f32, add: f32, pad: u32,
}

@group(0) @binding(0) var<uniform> fp: FmaParams;
@group(0) @binding(1) var<storage, read_write> fmaOut: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4<f32>>;

override WG: u32 = 64;

fn flatIndex(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn fma_peak(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  // mul and add come from a uniform, so the compiler cannot fold the chains away.
  let m = vec4<f32>(fp.mul);
  let c = vec4<f32>(fp.add);
  let lane = vec4<f32>(0.0, 1.0, 2.0, 3.0);
  var a0 = lane;
  var a1 = lane + 1.0;
  var a2 = lane + 2.0;
  var a3 = lane + 3.0;
  var a4 = lane + 4.0;
  var a5 = lane + 5.0;
  var a6 = lane + 6.0;
  var a7 = lane + 7.0;
  for (var it = 0u; it < fp.iters; it++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  let s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
  if (i < arrayLength(&fmaOut)) {
    fmaOut[i] = (s.x + s.y) + (s.z + s.w);
  }
}

@compute @workgroup_size(WG)
fn copy_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i < arrayLength(&dst)) {
    dst[i] = src[i];
  }
}

@compute @workgroup_size(1)
fn empty() {
}
