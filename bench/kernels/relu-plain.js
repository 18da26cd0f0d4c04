// relu on f32, one thread per element, NaN kept (torch.relu(NaN) is NaN): relu from the prelude.
// Force it with rt.compile(g, { variants: { relu: 'user:relu' } }).
export default function register(kernels) {
  kernels.register({
    op: 'relu',
    name: 'user:relu',
    wgsl: /* wgsl */ `
      struct Params { n: u32 }
      @group(0) @binding(0) var<uniform> p: Params;
      @group(0) @binding(1) var<storage, read> x: array<f32>;
      @group(0) @binding(2) var<storage, read_write> out: array<f32>;

      @compute @workgroup_size(256)
      fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
        let i = (wid.x + wid.y * nwg.x) * 256u + lid;
        if (i < p.n) { out[i] = relu(x[i]); }
      }`,
    plan({ out }) {
      const n = out.shape.reduce((a, b) => a * b, 1);
      const groups = Math.ceil(n / 256);
      // Fold the grid past the per-dimension limit: x up to 65535, the rest in y.
      const x = Math.min(groups, 65535);
      return { grid: [Math.max(x, 1), Math.ceil(groups / 65535) || 1], uniforms: { n } };
    },
  });
}
