// Tuning in Node (Dawn): the checks of test/tune-checks.ts with the table in a JSON file, the
// tuneTable option, a new process reusing the file, and the signature's shape class.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Runtime, fileTuneStore, memoryTuneStore, type Feeds } from '../src/node';
import type { GpuExecutable } from '../src/graph/executor';
import { plainLimits } from '../src/runtime/gpu';
import { Tuner } from '../src/runtime/tune';
import { bucket, candidatesOf, feedScale, randomFeeds } from '../src/runtime/tune-graph';
import { randn } from './parity';
import { tuneLines } from '../bench/tune';
import type { BenchRow } from '../bench/suite';
import { TUNE_CHECKS, smallGraph, type TuneEnv } from './tune-checks';

const dir = mkdtempSync(join(tmpdir(), 'seqgpu-tune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const env: TuneEnv = {
  create: (opts) => Runtime.create(opts),
  store: async () => {
    const path = join(dir, `table-${files++}.json`);
    return { store: fileTuneStore(path), write: async (text) => writeFileSync(path, text) };
  },
};

describe('tuning in Node', () => {
  it.each(Object.keys(TUNE_CHECKS))('%s', async (name) => {
    const said = await TUNE_CHECKS[name](env);
    expect(said.length).toBeGreaterThan(0);
  }, 240_000);

  it('tuneTable names the file; a new Node process reuses it without timing', async () => {
    const path = join(dir, 'restart.json');
    const rt = await Runtime.create({ tuneTable: path, onWarning: () => {} });
    const { graph, feeds } = smallGraph();
    let steps: string[];
    try {
      const exe = await rt.compile(graph, { tune: true });
      steps = exe.steps;
      await exe.run(feeds);
      exe.destroy();
    } finally {
      rt.destroy();
    }
    const table = JSON.parse(readFileSync(path, 'utf8'));
    expect(Object.keys(table.entries)).toHaveLength(4);
    // A second process (Vite runs the TypeScript, as for the bench) reads the same file.
    const code = "import { runMain } from './bench/ts-main.mjs'; await runMain('/test/tune-reuse-main.ts', 'tune reuse');";
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: process.cwd(), encoding: 'utf8', timeout: 120_000, env: { ...process.env, SEQGPU_TUNE_TABLE: path },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.stats.candidatesTimed).toBe(0);
    expect(out.steps).toEqual(steps);
  }, 240_000);

  it('a candidate that fails its parity check is dropped with a warning, never chosen', async () => {
    const rt = await Runtime.create();
    const warnings: string[] = [];
    const store = memoryTuneStore();
    try {
      // The host compiles for real, but the tiled matmuls' first result element comes back wrong.
      const tuner = new Tuner({
        adapter: rt.info.adapter, limits: { ...plainLimits(rt.device!.limits), emulated: true } as never, store,
        warn: (m) => warnings.push(m),
        reference: (g) => Runtime.cpu().compile(g),
        compile: async (g, o) => {
          const exe = (await rt.compile(g, { ...o, tune: false, timestamps: true })) as GpuExecutable;
          if (o.variants?.matmul === 'tiled') {
            const run = exe.run.bind(exe) as (f: Feeds) => Promise<Record<string, Float32Array>>;
            Object.assign(exe, {
              run: async (f: Feeds) => {
                const r = await run(f);
                r.y[0] += 1;
                return r;
              },
            });
          }
          return exe;
        },
      });
      const g = new Graph();
      g.output('y', g.matmul(g.input('a', [8, 16]), g.input('b', [16, 12])));
      const choose = await tuner.chooser(g, {}, 'measure');
      // Two candidates (32 and 64 tiles) fail; the rule's choice and the rest are timed.
      expect(tuner.stats.parityFailures).toBe(2);
      expect(tuner.stats.candidatesTimed).toBeGreaterThanOrEqual(2);
      expect(warnings.join('\n')).toMatch(/matmul candidate tiled \{"TILE_M":32,"TILE_N":32,"TILE_K":16\} fails parity on matmul f32 \[8,16\]x\[16,16\].*element 0/);
      const table = await store.load();
      const [entry] = Object.values(table!.entries);
      expect(entry.variant).not.toBe('tiled');
      expect(choose).toBeDefined();
      const exe = await rt.compile(g);
      // The runtime's own table is empty, so its compile shows plain labels; the tuner's choice is the test's.
      expect(exe.steps[0]).not.toMatch(/tuned/);
      const feeds = { a: randn(128, 1), b: randn(192, 2) };
      const want = (await (await Runtime.cpu().compile(g)).run(feeds)).y;
      const got = (await exe.run(feeds)).y;
      expect(Math.max(...got.map((x, i) => Math.abs(x - want[i])))).toBeLessThan(1e-5);
    } finally {
      rt.destroy();
    }
  }, 120_000);

  it('bench --tune compares each tuned row with its untuned row, against the untuned run-to-run spread', () => {
    const row = (impl: string, medianMs: number, minMs: number, maxMs: number) => ({
      suite: 'lstm', name: 'lstm-x', shape: '16x8x64x64', impl, medianMs, minMs, maxMs, runs: 9, gpuMs: null, status: 'ok',
    }) as unknown as BenchRow;
    const lines = (tunedMs: number) => tuneLines([row('seqgpu', 10, 9, 12), row('seqgpu:tuned', tunedMs, tunedMs, tunedMs), row('cpu-reference', 50, 50, 50)]);
    expect(lines(8)).toEqual(['lstm-x 16x8x64x64: rule 10.000 ms, tuned 8.000 ms (1.25x; spread 3.000 ms over 9 runs): not slower']);
    expect(lines(12)[0]).toMatch(/0\.83x.*slower within the spread$/);
    expect(lines(14)[0]).toMatch(/SLOWER by 4\.000 ms, past the spread$/);
  });

  it("a recurrence is tuned on operands in torch's init range, 1/sqrt(H), and x in [-1, 1]; other ops on [-1, 1]", () => {
    const g = new Graph();
    for (const name of ['in0', 'in1', 'in2']) g.input(name, [400]);
    const max = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const rnn = randomFeeds(g, feedScale({ node: { op: 'rnn', hiddenSize: 64 } } as never));
    expect(max(rnn.in0 as Float32Array)).toBeGreaterThan(0.9);
    for (const w of [rnn.in1, rnn.in2] as Float32Array[]) {
      expect(max(w)).toBeLessThanOrEqual(1 / 8);
      expect(max(w)).toBeGreaterThan(0.9 / 8);
    }
    const mm = randomFeeds(g, feedScale({ node: { op: 'matmul' } } as never));
    expect(max(mm.in2 as Float32Array)).toBeGreaterThan(0.9);
    // The same seed gives the same draws, scaled.
    expect(Array.from(rnn.in1 as Float32Array).map((v) => v * 8)).toEqual(Array.from(mm.in1 as Float32Array).map((v) => Math.fround(v)));
  });

  it("a bidirectional recurrence's candidates try the other side of the rule's direction split (ONE_DIR)", () => {
    const g = new Graph();
    const H = 8, x = g.input('x', [5, 3, 4]);
    const w = (name: string, shape: number[]) => g.input(`${name}${g.inputs.size}`, shape);
    const p = (sfx: string) => ({ [`weight_ih_l0${sfx}`]: w(`wi${sfx}`, [4 * H, 4]), [`weight_hh_l0${sfx}`]: w(`wh${sfx}`, [4 * H, H]) });
    const bi = g.lstm(x, { ...p(''), ...p('_reverse') }, { hiddenSize: H, bidirectional: true, bias: false });
    const one = g.lstm(x, p(''), { hiddenSize: H, bias: false });
    g.output('bi', bi.output);
    g.output('one', one.output);
    const rnns = g.nodes.filter((n) => n.node.op === 'rnn');
    const split = (lim: { laneGathers?: boolean }, n: (typeof rnns)[number]) =>
      candidatesOf('lstm', n, g, lim).filter((c) => 'ONE_DIR' in c.constants).map((c) => `${c.variant} ${JSON.stringify(c.constants)}`);
    expect(split({ laneGathers: true }, rnns[0])).toEqual(['tiled-vec4 {"BT":3,"ONE_DIR":false}']);
    expect(split({}, rnns[0])).toEqual(['tiled-vec4 {"BT":3,"ONE_DIR":true}']);
    expect(split({ laneGathers: true }, rnns[1])).toEqual([]);
  });

  it('matmul candidates: the register tile of 32 rows where loads are gathered lane by lane (SwiftShader) only', () => {
    const g = new Graph();
    g.output('y', g.matmul(g.input('a', [64, 32]), g.input('b', [32, 48])));
    const mm = g.nodes.find((n) => n.node.op === 'matmul')!;
    const tall = (lim: { laneGathers?: boolean }) => candidatesOf('matmul', mm, g, lim).filter((c) => c.constants.RM === 32).length;
    expect([tall({ laneGathers: true }), tall({})]).toEqual([1, 0]);
  });

  it('the shape class buckets each dim: 1 stays, the rest round up to a power of two', () => {
    expect([1, 2, 3, 5, 8, 9, 64, 65, 1000].map(bucket)).toEqual([1, 2, 4, 8, 8, 16, 64, 128, 1024]);
  });
});
