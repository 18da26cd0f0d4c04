// `npm run example -- <model>`: the runner is bench/examples/main.ts.
import { runMain } from '../ts-main.mjs';

await runMain('/bench/examples/main.ts', 'example');
