// `npm run bench`: the runner is bench/main.ts.
import { runMain } from './ts-main.mjs';

await runMain('/bench/main.ts', 'bench');
