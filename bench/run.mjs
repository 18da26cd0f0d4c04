// `npm run bench`: Node 20 runs no TypeScript, so this bootstrap starts Vite (which compiles TS and
// serves `?raw` shader imports) and loads the runner, bench/main.ts, through it.
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const vite = await createServer({
  root,
  configFile: `${root}/vite.config.ts`,
  logLevel: 'warn',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false },
});
let code = 1;
try {
  const { main } = await vite.ssrLoadModule('/bench/main.ts');
  code = await main(process.argv.slice(2));
} catch (e) {
  console.error(`bench failed: ${e instanceof Error ? e.stack ?? e.message : e}`);
} finally {
  await vite.close();
}
process.exit(code);
