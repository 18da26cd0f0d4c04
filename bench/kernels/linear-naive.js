// linear (y = x · weightᵀ + bias) with one thread per output element: the plain kernel the tiled ones
// are measured against. Two entry points, with and without the bias binding; plan picks one.
// Force it with rt.compile(g, { variants: { linear: 'user:naive-linear' } }).
export default function register(kernels) {
  kernels.register({
    op: 'linear',
    name: 'user:naive-linear',
    wgsl: /* wgsl */ `
      struct Params { rows: u32, inF: u32, outF: u32 }
      @group(0) @binding(0) var<uniform> p: Params;
      @group(0) @binding(1) var<storage, read> x: array<f32>;
      @group(0) @binding(2) var<storage, read> weight: array<f32>;
      @group(0) @binding(3) var<storage, read> bias: array<f32>;
      @group(0) @binding(4) var<storage, read_write> out: array<f32>;

      fn dot_row(i: u32) -> f32 {
        let r = i / p.outF;
        let o = i % p.outF;
        var s = 0.0;
        for (var k = 0u; k < p.inF; k++) { s += x[r * p.inF + k] * weight[o * p.inF + k]; }
        return s;
      }

      @compute @workgroup_size(64)
      fn main(@builtin(global_invocation_id) id: vec3<u32>) {
        if (id.x < p.rows * p.outF) { out[id.x] = dot_row(id.x) + bias[id.x % p.outF]; }
      }

      @compute @workgroup_size(64)
      fn main_no_bias(@builtin(global_invocation_id) id: vec3<u32>) {
        if (id.x < p.rows * p.outF) { out[id.x] = dot_row(id.x); }
      }`,
    plan({ inputs: [x, weight], attrs: { hasBias } }) {
      const [outF, inF] = weight.shape;
      const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const n = rows * outF;
      return { grid: [Math.ceil(n / 64)], uniforms: { rows, inF, outF }, entry: hasBias ? 'main' : 'main_no_bias' };
    },
  });
}
