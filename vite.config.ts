import { defineConfig } from 'vitest/config';

// wgsl_reflect's package "main" is CommonJS under "type": "module"; its ES build is the one to load.
const alias = { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' };

// `vite build` writes dist/seqgpu.js, one self-contained ES module (shaders and wgsl_reflect inlined)
// that a page imports as it is; `vite build --mode node` adds dist/node.js, the same engine with
// Dawn's 'webgpu' package (left external) as the default GPU; `vite build --mode testing` adds
// dist/testing.js (seqgpu/testing), which holds no engine code of its own.
const ENTRIES: Record<string, [string, string]> = {
  node: ['src/node.ts', 'node.js'],
  testing: ['src/testing.ts', 'testing.js'],
};

export default defineConfig(({ mode }) => ({
  resolve: { alias },
  server: { host: '127.0.0.1' },
  build: {
    outDir: 'dist',
    emptyOutDir: !(mode in ENTRIES),
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: {
      entry: ENTRIES[mode]?.[0] ?? 'src/index.ts',
      formats: ['es'],
      fileName: () => ENTRIES[mode]?.[1] ?? 'seqgpu.js',
    },
    rollupOptions: { external: ['webgpu', /^node:/] },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
}));
