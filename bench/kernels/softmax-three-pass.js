// A softmax variant in three passes, one thread per row: the row's max, the sum of exp(x - max),
// then the outputs. Registered as 'user:three-pass'; force it with
// rt.compile(g, { variants: { softmax: 'user:three-pass' } }).
export default function register(kernels) {
  kernels.register({
    op: 'softmax',
    name: 'user:three-pass',
    wgsl: /* wgsl */ `
      struct Params { rows: u32, len: u32, inner: u32 }
      @group(0) @binding(0) var<uniform> p: Params;
      @group(0) @binding(1) var<storage, read> x: array<f32>;
      @group(0) @binding(2) var<storage, read_write> out: array<f32>;

      @compute @workgroup_size(64)
      fn main(@builtin(global_invocation_id) id: vec3<u32>) {
        let row = id.x;
        if (row >= p.rows) { return; }
        // The tensor is [outer, len, inner]; this row is x[o, :, i].
        let base = (row / p.inner) * p.len * p.inner + row % p.inner;
        // nan_as_inf (from the prelude) turns NaN into +inf, so a row holding NaN or +inf has
        // max +inf and comes out NaN, as in torch; a row of -inf sums to 0 and is NaN too.
        var m = -3.4e38;
        for (var j = 0u; j < p.len; j++) { m = max(m, nan_as_inf(x[base + j * p.inner])); }
        var s = 0.0;
        for (var j = 0u; j < p.len; j++) { s += exp(x[base + j * p.inner] - m); }
        for (var j = 0u; j < p.len; j++) {
          let k = base + j * p.inner;
          out[k] = select(exp(x[k] - m) / s, nan_f32(), is_inf(m) || s == 0.0);
        }
      }`,
    plan({ inputs: [x], attrs: { dim } }) {
      const len = x.shape[dim];
      const inner = x.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      const rows = len === 0 ? 0 : x.shape.reduce((a, b) => a * b, 1) / len;
      return { grid: [Math.ceil(rows / 64)], uniforms: { rows, len, inner } };
    },
  });
}
