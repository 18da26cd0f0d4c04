// `npm run example -- <model>`: starts Vite (Node 20 runs no TypeScript) and loads the example
// runner, bench/examples/main.ts, through it.
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const root = fileURLToPath(new URL('../..', import.meta.url));
const vite = await createServer({
  root,
  configFile: `${root}/vite.config.ts`,
  logLevel: 'warn',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false },
});
let code = 1;
try {
  const { main } = await vite.ssrLoadModule('/bench/examples/main.ts');
  code = await main(process.argv.slice(2));
} catch (e) {
  console.error(`example failed: ${e instanceof Error ? e.stack ?? e.message : e}`);
} finally {
  await vite.close();
}
process.exit(code);
