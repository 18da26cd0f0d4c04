import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// wgsl_reflect's package "main" is CommonJS under "type": "module"; its ES build is the one to load.
const alias = { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' };

// `vite build` writes dist/seqgpu.js, one self-contained ES module (shaders and wgsl_reflect inlined)
// that a page imports as it is; `vite build --mode node` adds dist/node.js, the same engine with
// Dawn's 'webgpu' package (left external) as the default GPU; `vite build --mode testing` adds
// dist/testing.js (seqgpu/testing), which holds no engine code of its own (it imports 'seqgpu').
// The bundles are not minified, so they ship without source maps. `npm run build` then bundles
// the declarations, one .d.ts per entry (scripts/build-types.mjs).
const ENTRIES: Record<string, [string, string]> = {
  node: ['src/node.ts', 'node.js'],
  testing: ['src/testing.ts', 'testing.js'],
};

// seqgpu/testing's case lists build graphs with the engine: in dist/testing.js that engine is the
// package's own entry ('seqgpu'), the copy the user's page or script holds, not a second one.
const engineAsPackage: Plugin = {
  name: 'seqgpu-testing-engine-external',
  enforce: 'pre',
  async resolveId(source, importer) {
    if (!importer) return null;
    const r = await this.resolve(source, importer, { skipSelf: true });
    return r && r.id.endsWith('/src/index.ts') ? { id: 'seqgpu', external: true } : null;
  },
};

export default defineConfig(({ mode }) => ({
  plugins: mode === 'testing' ? [engineAsPackage] : [],
  resolve: { alias },
  server: { host: '127.0.0.1' },
  build: {
    outDir: 'dist',
    emptyOutDir: !(mode in ENTRIES),
    target: 'es2022',
    minify: false,
    sourcemap: false,
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
