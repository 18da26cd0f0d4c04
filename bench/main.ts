// The benchmark runner behind `npm run bench` (loaded by bench/run.mjs): parses the command line,
// measures the roofline, then runs each selected (case, impl) in headless Chromium (bench/page.ts,
// driven by puppeteer, with the peer engines in the same page) or in Node on Dawn, printing progress,
// the table, the ratios against the peers and the targets, and optionally the JSON report (which
// bench/report/index.html draws).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RuntimeInfo } from '../src/index';
import { benchCases, caseImpls, isPeer, runKey, type BenchCase } from './cases';
import { MODELS_PENDING } from './models';
import { recurrentTargetLines } from './recurrent-targets';
import type { RooflineResult } from './roofline';
import { applyRoofline, bestRoofline, progressLine, ratioTable, rooflineLine, table, targetLines, type BenchEnv, type BenchReport } from './report';
import type { BenchResult, BenchRow, TimingOptions } from './suite';
import { sweepImpls, SWEEPS } from './sweep';
import { readKernelFile, SWEEP_OP, type KernelFile } from './kernel-file';
import { DEFAULT_TUNE_TABLE, TUNED_IMPL, tuneLines } from './tune';

const USAGE = `usage: npm run bench -- [options]
  --runtime chromium|node   where to run (default chromium: headless, WebGPU on its adapter, with the
                            TF.js and ONNX Runtime Web peers in the same page; node: Dawn, seqgpu only)
  --json FILE               write the JSON report (schema in the README) to FILE, and a copy to
                            bench/report/data.json, which bench/report/index.html draws
  --quick                   a smoke run (CI): the target cases, the GRU and layerNorm beside them and
                            one of each model, with the engine's own variant, the reference and the
                            peers only, and a 0.25 s budget
  --filter SUBSTR           only runs whose "suite name shape impl" contains SUBSTR
  --sweep KERNEL            time every tuning variant of KERNEL (${Object.keys(SWEEPS).join(', ')}) on its
                            cases, each parity-checked first; the fastest is marked *
  --no-peers                seqgpu and the CPU reference only
  --budget SECONDS          wall-time budget per (case, impl), at least 3 runs; a case's impls are timed
                            in turns within their budgets together (default 2; --quick 0.25)
  --cpu-max SECONDS         cpu-reference gets fewer than 3 runs when 3 would pass this (default 2 x budget)
  --kernel FILE             with --sweep: a user kernel module (README, "Write your own kernel"), each of
                            its kernels for the swept op timed beside the built-in variants
  --tune                    beside each seqgpu row, a seqgpu:tuned row: compiled with { tune: true }
                            (variants chosen by measurement, README "Tuning"), compared in one run
  --tune-table FILE         with --tune: the tuning table's JSON file (default ${DEFAULT_TUNE_TABLE});
                            a table already there is reused, only what it lacks is timed
  --list                    print the selected runs and exit`;

interface Args {
  runtime: 'chromium' | 'node';
  json?: string;
  quick: boolean;
  filter?: string;
  sweep?: string;
  peers: boolean;
  budget?: number;
  cpuMax?: number;
  list: boolean;
  kernel?: string;
  /** --tune: the table file (the tuned rows run only with it). */
  tuneTable?: string;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args | null {
  const args: Args = { runtime: 'chromium', quick: false, list: false, peers: true };
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
      case '--sweep': {
        const v = value(i++, a);
        if (!(v in SWEEPS)) throw new UsageError(`--sweep: no sweep for '${v}'; there are ${Object.keys(SWEEPS).join(', ')}`);
        args.sweep = v;
        break;
      }
      case '--budget': args.budget = seconds(value(i++, a), a); break;
      case '--cpu-max': args.cpuMax = seconds(value(i++, a), a); break;
      case '--quick': args.quick = true; break;
      case '--no-peers': args.peers = false; break;
      case '--list': args.list = true; break;
      case '--kernel': args.kernel = value(i++, a); break;
      case '--tune': args.tuneTable ??= DEFAULT_TUNE_TABLE; break;
      case '--tune-table': args.tuneTable = value(i++, a); break;
      case '--help': case '-h': return null;
      default: throw new UsageError(`unknown option '${a}'`);
    }
  }
  return args;
}

interface Run {
  c: BenchCase;
  impl: string;
}

/** The (case, impl) pairs to run, and notes on what is left out and why. */
function selectRuns(args: Args, user: string[] = []): { runs: Run[]; notes: string[] } {
  const notes: string[] = [];
  const withPeers = args.peers && args.runtime === 'chromium';
  if (args.peers && args.runtime === 'node') {
    notes.push('peers: TF.js and ONNX Runtime Web are browser engines; they run in the Chromium page only (--runtime chromium)');
  }
  if (MODELS_PENDING) notes.push(MODELS_PENDING);
  let cases = benchCases();
  if (args.sweep) cases = cases.filter((c) => c.suite === args.sweep);
  const runs: Run[] = [];
  for (const c of cases) {
    if (args.quick && !c.quick) continue;
    // --quick keeps the engine's own choice, the reference and the peers; variant rows are for full runs.
    let impls = args.sweep ? [...sweepImpls(args.sweep), ...user.map((n) => `seqgpu:${n}`), 'cpu-reference'] : caseImpls(c, withPeers).filter((i) => !args.quick || !i.startsWith('seqgpu:'));
    if (args.tuneTable) impls = impls.flatMap((i) => (i === 'seqgpu' ? [i, TUNED_IMPL] : [i]));
    for (const impl of impls) if (!args.filter || runKey(c, impl).includes(args.filter)) runs.push({ c, impl });
  }
  return { runs, notes };
}

/** Where the rows run: the same calls in a page or in this process. */
interface Target {
  info: RuntimeInfo;
  roofline(): Promise<RooflineResult>;
  runCase(name: string, impls: string[], opts: TimingOptions): Promise<BenchResult[]>;
  peers(): Promise<BenchReport['peers']>;
  /** The device's limits (the adapter's: the engine asks for all of them) and the browser's version. */
  env(): Promise<{ limits: Record<string, number>; browser: string | null }>;
  close(): Promise<void>;
}

async function nodeTarget(kernel?: KernelFile, tuneTable?: string): Promise<Target> {
  const [{ Runtime }, { measureRoofline }, { BenchRunner }, { plainLimits }] = await Promise.all([
    import('../src/node'), import('./roofline'), import('./suite'), import('../src/runtime/gpu'),
  ]);
  const rt = await Runtime.create({ tuneTable }); // throws if Dawn gives no adapter: no silent CPU fallback
  if (kernel) (await import(/* @vite-ignore */ pathToFileURL(kernel.path).href)).default(rt.kernels);
  const runner = new BenchRunner(rt, new Map(benchCases().map((c) => [c.name, c])));
  return {
    info: rt.info,
    roofline: () => measureRoofline(rt.device!),
    runCase: (name, impls, opts) => runner.runCase(name, impls, opts),
    peers: async () => [],
    env: async () => ({ limits: plainLimits(rt.device!.limits), browser: null }),
    close: async () => rt.destroy(),
  };
}

async function chromiumTarget(ortRuns: [string, string][], kernel?: KernelFile, tuneTable?: string): Promise<Target> {
  const { launchChromium, openPage, startServer } = await import('./chromium');
  const { server, url } = await startServer();
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const close = async () => {
    await browser?.close();
    await server.close();
  };
  try {
    browser = await launchChromium();
    let placements: Record<string, string> = {};
    if (ortRuns.length) {
      // ORT's verbose log says where it placed each node; it slows the page it is on, so it gets its own.
      const probe = await openPage(browser, url, '/bench/page.html', '__benchProbe');
      placements = await probe.evaluate((r) => window.__benchProbe(r), ortRuns);
      await probe.close();
      const summary = [...new Set(Object.values(placements))].join('; ');
      console.log(`ORT placement (verbose log, ${ortRuns.length} models): ${summary}`);
    }
    const page = await openPage(browser, url, '/bench/page.html', '__benchRunCase');
    if (tuneTable) {
      // The page's table is the Node-side file: the page reads and writes it through these.
      const file = resolve(tuneTable);
      await page.exposeFunction('__benchTuneRead', () => (existsSync(file) ? readFileSync(file, 'utf8') : null));
      await page.exposeFunction('__benchTuneWrite', (text: string) => {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      });
    }
    const info = await page.evaluate((p, t) => window.__benchInit(p, t), placements, tuneTable ? resolve(tuneTable) : null);
    if (kernel) await page.evaluate((t) => window.__benchKernel(t), kernel.text);
    return {
      info,
      roofline: () => page.evaluate(() => window.__benchRoofline()),
      runCase: (name, impls, opts) => page.evaluate((n, i, o) => window.__benchRunCase(n, i, o), name, impls, opts),
      peers: () => page.evaluate(() => window.__benchPeers()),
      env: async () => ({ limits: await page.evaluate(() => window.__benchLimits()), browser: await browser!.version() }),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The seqgpu version and git commit the run measured (git's answers are null outside a checkout). */
function checkout(): BenchEnv['seqgpu'] {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  const status = git('status', '--porcelain', '--untracked-files=no');
  return {
    version: pkg.version,
    repository: url ? url.replace(/^git\+/, '').replace(/\.git$/, '') : null,
    commit: git('rev-parse', 'HEAD'),
    commitDate: git('log', '-1', '--format=%cI'),
    dirty: status === null ? null : status.length > 0,
  };
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
  let kernel: KernelFile | undefined;
  if (args.kernel) {
    if (!args.sweep) {
      console.error(`bench: --kernel needs --sweep OP (the op its kernels are variants of)\n${USAGE}`);
      return 2;
    }
    try {
      kernel = await readKernelFile(args.kernel);
    } catch (e) {
      console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
      return 2;
    }
  }
  const op = args.sweep ? SWEEP_OP[args.sweep] : undefined;
  const user = (kernel?.kernels ?? []).filter((k) => k.op === op).map((k) => k.name);
  const { runs, notes } = selectRuns(args, user);
  for (const k of kernel?.kernels ?? []) {
    if (k.op !== op) notes.push(`--kernel: ${k.name} is a kernel for ${k.op}; the ${args.sweep} sweep times ${op ?? 'no op a user kernel can replace'}, so it is left out`);
  }
  if (args.list || runs.length === 0) {
    for (const { c, impl } of runs) console.log(runKey(c, impl));
    if (runs.length === 0) console.error(`bench: no runs match${args.filter ? ` --filter '${args.filter}'` : ''}`);
    return runs.length === 0 ? 1 : 0;
  }

  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  console.log(`bench: ${runs.length} runs in ${args.runtime}, budget ${budgetS} s per run${args.quick ? ' (quick)' : ''}`);
  for (const n of notes) console.log(`note: ${n}`);
  const ortRuns = runs.filter((r) => r.impl.startsWith('ort-webgpu')).map((r): [string, string] => [r.c.name, r.impl]);
  if (args.tuneTable) console.log(`tune: ${TUNED_IMPL} rows beside the seqgpu rows; table ${resolve(args.tuneTable)}`);
  const target = args.runtime === 'node' ? await nodeTarget(kernel, args.tuneTable) : await chromiumTarget(ortRuns, kernel, args.tuneTable);
  const rows: BenchRow[] = [];
  try {
    const { adapter, features } = target.info;
    console.log(`adapter: ${JSON.stringify(adapter)}; features: ${features.join(' ') || '(none)'}`);
    const roof = await target.roofline();
    console.log(rooflineLine(roof));
    const opts: TimingOptions = { budgetMs: budgetS * 1000, roofline: roof.roofline, cpuMaxMs: (args.cpuMax ?? 2 * budgetS) * 1000 };
    // One call per case: its impls are checked, then timed in turns (bench/suite.ts).
    const byCase = new Map<string, string[]>();
    for (const { c, impl } of runs) byCase.set(c.name, [...(byCase.get(c.name) ?? []), impl]);
    for (const [name, impls] of byCase) {
      for (const r of await target.runCase(name, impls, opts)) {
        rows.push(r.row);
        console.log(progressLine(r, rows.length, runs.length));
      }
    }
    const end = await target.roofline();
    console.log(`end of run: ${rooflineLine(end)}`);
    const roofline = bestRoofline([roof.roofline, end.roofline]);
    const cases = [...new Map(runs.map((r) => [r.c.name, r.c])).values()];
    applyRoofline(rows, cases, roofline);
    console.log(`roofline used for %roof (best of start and end): fma ${roofline.fmaGflops.toFixed(2)} GFLOP/s, ` +
      `copy ${roofline.copyGbps.toFixed(2)} GB/s, dispatch ${roofline.dispatchUs.toFixed(1)} us, round trip ${roofline.roundTripMs.toFixed(3)} ms`);
    const peers = await target.peers();
    console.log(`\n${args.runtime} on ${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trimEnd());
    for (const p of peers) console.log(`  ${'error' in p ? `${p.impl}: ${p.error}` : `${p.impl} ${p.version} (${p.backend}) on ${p.adapter}`}`);
    console.log(table(rows));
    const ratios = ratioTable(rows, cases);
    if (ratios) console.log(`\n${ratios}`);
    const targets = targetLines(rows, cases, roofline);
    if (targets.length) console.log(`\ntargets (ratios from this run, same adapter):\n${targets.map((t) => `  ${t}`).join('\n')}`);
    const tuned = tuneLines(rows);
    if (tuned.length) console.log(`\ntuned against untuned (this run; spread = the untuned row's max - min run time):\n${tuned.map((t) => `  ${t}`).join('\n')}`);
    const recurrent = recurrentTargetLines(rows, cases);
    if (recurrent.length) console.log(`\nrecurrent targets (ratios from this run, same adapter):\n${recurrent.map((t) => `  ${t}`).join('\n')}`);
    for (const n of notes) console.log(`note: ${n}`);
    if (args.json) {
      const report: BenchReport = {
        adapter, runtime: args.runtime, startedAt, roofline, rows, peers,
        targets: Object.fromEntries(cases.filter((c) => c.target).map((c) => [c.name, c.target!])), notes,
        env: { features, ...(await target.env()), node: process.version, seqgpu: checkout() },
      };
      const text = `${JSON.stringify(report, null, 2)}\n`;
      writeFileSync(args.json, text);
      const copy = fileURLToPath(new URL('./report/data.json', import.meta.url));
      mkdirSync(fileURLToPath(new URL('./report/', import.meta.url)), { recursive: true });
      writeFileSync(copy, text);
      console.log(`wrote ${args.json} and bench/report/data.json (open bench/report/index.html to draw it)`);
    }
  } finally {
    await target.close();
  }
  console.log(`bench: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // A seqgpu result that failed its check, or an error of the engine's own choice, fails the run; a
  // peer's never does, nor a swept config the device cannot take (an error row naming the limit).
  const failed = rows.filter((r) => !isPeer(r.impl) && (r.status === 'wrong' || (r.status === 'error' && !r.impl.startsWith('seqgpu:') && !r.impl.startsWith('seqgpu/'))));
  if (failed.length) {
    console.error(`bench: ${failed.length} seqgpu/cpu-reference rows failed: ${failed.map((r) => `${r.name} ${r.impl} (${r.status})`).join(', ')}`);
    return 1;
  }
  return 0;
}
