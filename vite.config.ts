import { defineConfig } from 'vitest/config';

// wgsl_reflect's package "main" is CommonJS under "type": "module"; its ES build is the one to load.
const alias = { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' };

export default defineConfig({
  resolve: { alias },
  server: { host: '127.0.0.1' },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
