// The benchmark runner behind `npm run bench` (loaded by bench/run.mjs): parses the command line,
// measures the roofline, then runs each selected (case, impl) in headless Chromium (bench/page.ts,
// driven by puppeteer) or in Node on Dawn, printing progress, a table, and optionally the JSON report.
import { writeFileSync } from 'node:fs';
import type { RuntimeInfo } from '../src/index';
import type { RooflineResult } from './roofline';
import { progressLine, rooflineLine, table, type BenchReport } from './report';
import { benchCases, selectRuns, type BenchResult, type BenchRow, type Impl, type TimingOptions } from './suite';

const USAGE = `usage: npm run bench -- [options]
  --runtime chromium|node   where to run (default chromium: headless, WebGPU on its adapter)
  --json FILE               write the report (DESIGN.md, "Benchmark output") to FILE
  --quick                   fewer cases and a small budget (CI smoke)
  --filter SUBSTR           only runs whose "suite name shape impl" contains SUBSTR
  --budget SECONDS          wall-time budget per (case, impl), at least 3 runs (default 2; --quick 0.25)
  --cpu-max SECONDS         cpu-reference gets fewer than 3 runs when 3 would pass this (default 2 x budget)
  --list                    print the selected runs and exit`;

interface Args {
  runtime: 'chromium' | 'node';
  json?: string;
  quick: boolean;
  filter?: string;
  budget?: number;
  cpuMax?: number;
  list: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args | null {
  const args: Args = { runtime: 'chromium', quick: false, list: false };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const seconds = (v: string, flag: string) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new UsageError(`${flag} wants seconds, got '${v}'`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--runtime': {
        const v = value(i++, a);
        if (v !== 'chromium' && v !== 'node') throw new UsageError(`--runtime is chromium or node, got '${v}'`);
        args.runtime = v;
        break;
      }
      case '--json': args.json = value(i++, a); break;
      case '--filter': args.filter = value(i++, a); break;
      case '--budget': args.budget = seconds(value(i++, a), a); break;
      case '--cpu-max': args.cpuMax = seconds(value(i++, a), a); break;
      case '--quick': args.quick = true; break;
      case '--list': args.list = true; break;
      case '--help': case '-h': return null;
      default: throw new UsageError(`unknown option '${a}'`);
    }
  }
  return args;
}

/** Where the rows run: the same three calls in a page or in this process. */
interface Target {
  info: RuntimeInfo;
  roofline(): Promise<RooflineResult>;
  run(name: string, impl: Impl, opts: TimingOptions): Promise<BenchResult>;
  close(): Promise<void>;
}

async function nodeTarget(): Promise<Target> {
  const [{ Runtime }, { measureRoofline }, { BenchRunner }] = await Promise.all([
    import('../src/node'), import('./roofline'), import('./suite'),
  ]);
  const rt = await Runtime.create(); // throws if Dawn gives no adapter: no silent CPU fallback
  const runner = new BenchRunner(rt);
  return {
    info: rt.info,
    roofline: () => measureRoofline(rt.device!),
    run: (name, impl, opts) => runner.run(name, impl, opts),
    close: async () => rt.destroy(),
  };
}

async function chromiumTarget(): Promise<Target> {
  const { launchChromium, openPage, startServer } = await import('./chromium');
  const { server, url } = await startServer();
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const close = async () => {
    await browser?.close();
    await server.close();
  };
  try {
    browser = await launchChromium();
    const page = await openPage(browser, url, '/bench/page.html', '__benchRun');
    const info = await page.evaluate(() => window.__benchInit());
    return {
      info,
      roofline: () => page.evaluate(() => window.__benchRoofline()),
      run: (name, impl, opts) => page.evaluate((n, i, o) => window.__benchRun(n, i, o), name, impl, opts),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

export async function main(argv: string[]): Promise<number> {
  let args: Args | null;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (!args) {
    console.log(USAGE);
    return 0;
  }
  const budgetS = args.budget ?? (args.quick ? 0.25 : 2);
  const runs = selectRuns(benchCases(), { quick: args.quick, filter: args.filter });
  if (args.list || runs.length === 0) {
    for (const { c, impl } of runs) console.log(`${c.suite} ${c.name} ${c.shape} ${impl}`);
    if (runs.length === 0) console.error(`bench: no runs match${args.filter ? ` --filter '${args.filter}'` : ''}`);
    return runs.length === 0 ? 1 : 0;
  }

  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  console.log(`bench: ${runs.length} runs in ${args.runtime}, budget ${budgetS} s per run${args.quick ? ' (quick)' : ''}`);
  const target = args.runtime === 'node' ? await nodeTarget() : await chromiumTarget();
  const rows: BenchRow[] = [];
  try {
    const { adapter, features } = target.info;
    console.log(`adapter: ${JSON.stringify(adapter)}; features: ${features.join(' ') || '(none)'}`);
    const roof = await target.roofline();
    console.log(rooflineLine(roof));
    const opts: TimingOptions = { budgetMs: budgetS * 1000, roofline: roof.roofline, cpuMaxMs: (args.cpuMax ?? 2 * budgetS) * 1000 };
    for (const [i, { c, impl }] of runs.entries()) {
      const r = await target.run(c.name, impl, opts);
      rows.push(r.row);
      console.log(progressLine(r, i + 1, runs.length));
    }
    console.log(`\n${args.runtime} on ${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trimEnd());
    console.log(table(rows));
    if (args.json) {
      const report: BenchReport = { adapter, runtime: args.runtime, startedAt, roofline: roof.roofline, rows };
      writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`wrote ${args.json}`);
    }
  } finally {
    await target.close();
  }
  console.log(`bench: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}
