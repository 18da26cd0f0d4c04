// Node 20 runs no TypeScript, so the bench and the examples start through this: Vite compiles the
// TS (and serves `?raw` shader imports) and loads `entry`, whose main(argv) gives the exit code.
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

export async function runMain(entry, what) {
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
    const { main } = await vite.ssrLoadModule(entry);
    code = await main(process.argv.slice(2));
  } catch (e) {
    console.error(`${what} failed: ${e instanceof Error ? e.stack ?? e.message : e}`);
  } finally {
    await vite.close();
  }
  process.exit(code);
}
