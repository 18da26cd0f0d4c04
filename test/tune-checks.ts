// Tuning through the public API, shared by Node (test/tune.test.ts, the table in a JSON file) and
// Chromium (test/tune-chromium.test.ts, the table in a JSON file on the Node side reached through
// page.exposeFunction): tune a small graph, reuse the table without timing (same runtime and a new
// one), parity of tuned against untuned and the CPU reference, and every kind of bad table.
// Plain asserts, so the page runs them as they are.
import { Graph, Runtime, type CompileOptions, type Feeds, type RuntimeOptions, type TuneStore, type TuneTable } from '../src/index';
import { randn } from './parity';

/** What a runtime (Node or page) gives the checks. */
export interface TuneEnv {
  /** A GPU runtime with these options. */
  create(opts: RuntimeOptions): Promise<Runtime>;
  /** A fresh store holding nothing, and a way to overwrite what it holds with raw text. */
  store(): Promise<{ store: TuneStore; write(text: string): Promise<void> }>;
}

export type TuneCheck = (env: TuneEnv) => Promise<string>;

function assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** LSTM (T 5, B 3, I 8, H 8) -> linear -> softmax, and a matmul [16, 12] x [12, 20]. */
export function smallGraph(): { graph: Graph; feeds: Feeds } {
  const T = 5, B = 3, I = 8, H = 8;
  const g = new Graph();
  const x = g.input('x', [T, B, I]);
  const shapes: Record<string, number[]> = { weight_ih_l0: [4 * H, I], weight_hh_l0: [4 * H, H], bias_ih_l0: [4 * H], bias_hh_l0: [4 * H] };
  const params = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, g.input(k, s)]));
  const { output } = g.lstm(x, params, { hiddenSize: H });
  const w = g.input('w', [12, H]);
  g.output('y', g.softmax(g.linear(output, w), -1));
  const a = g.input('a', [16, 12]), b = g.input('b', [12, 20]);
  g.output('m', g.matmul(a, b));
  const feeds: Feeds = {};
  let seed = 1;
  for (const [name, id] of g.inputs) feeds[name] = randn(g.nodes[id].shape.reduce((p, q) => p * q, 1), seed++, 0.5);
  return { graph: g, feeds };
}

/** softmax(matmul(a, b)) with a [8, 16], b [16, 8]: two signatures, quick to tune. */
function tinyGraph(): { graph: Graph; feeds: Feeds } {
  const g = new Graph();
  const a = g.input('a', [8, 16]), b = g.input('b', [16, 8]);
  g.output('y', g.softmax(g.matmul(a, b), -1));
  return { graph: g, feeds: { a: randn(128, 7), b: randn(128, 8) } };
}

async function runOnce(rt: Runtime, graph: Graph, feeds: Feeds, opts: CompileOptions = {}) {
  const exe = await rt.compile(graph, opts);
  try {
    return { steps: exe.steps, out: await exe.run(feeds) };
  } finally {
    exe.destroy();
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert(a.length === b.length, `lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The steps of the tuned kernels: the LSTM's, the linear's, the softmax's and the matmul's. */
const TUNED_OPS = /^(lstm|linear|softmax|matmul)#/;

async function tunedTable(env: TuneEnv) {
  const { store, write } = await env.store();
  const warnings: string[] = [];
  const rt = await env.create({ tuneStore: store, onWarning: (m) => warnings.push(m) });
  const { graph, feeds } = tinyGraph();
  try {
    await runOnce(rt, graph, feeds, { tune: true });
  } finally {
    rt.destroy();
  }
  const table = await store.load();
  assert(table !== null && Object.keys(table.entries).length === 2, `tuning softmax(matmul) stored ${JSON.stringify(table)}`);
  return { store, write, table: table!, graph, feeds };
}

/** Runs the tiny graph with the store holding `text`; the warnings and steps. */
async function withTable(env: TuneEnv, store: TuneStore, graph: Graph, feeds: Feeds) {
  const warnings: string[] = [];
  const rt = await env.create({ tuneStore: store, onWarning: (m) => warnings.push(m) });
  try {
    const { steps } = await runOnce(rt, graph, feeds);
    assert(rt.tuneStats.candidatesTimed === 0, `a reusing compile timed ${rt.tuneStats.candidatesTimed} candidates`);
    return { warnings, steps };
  } finally {
    rt.destroy();
  }
}

const mutate = (t: TuneTable, f: (t: TuneTable) => void): string => {
  const c = JSON.parse(JSON.stringify(t)) as TuneTable;
  f(c);
  return JSON.stringify(c);
};

export const TUNE_CHECKS: Record<string, TuneCheck> = {
  'tune a graph, then reuse the table without timing, in the same runtime and a new one': async (env) => {
    const { store } = await env.store();
    const warnings: string[] = [];
    const { graph, feeds } = smallGraph();
    const rt = await env.create({ tuneStore: store, onWarning: (m) => warnings.push(m) });
    let first: { steps: string[]; out: Record<string, Float32Array> };
    try {
      first = await runOnce(rt, graph, feeds, { tune: true });
      const timed = rt.tuneStats;
      assert(timed.candidatesTimed >= 8 && timed.signaturesTimed === 4, `tuning timed ${JSON.stringify(timed)}; want 4 signatures`);
      const table = await store.load();
      assert(table !== null && Object.keys(table.entries).length === 4, `the store holds ${JSON.stringify(table)}`);
      assert(JSON.stringify(table!.adapter) === JSON.stringify(rt.info.adapter), `table adapter ${JSON.stringify(table!.adapter)}`);
      const tunedSteps = first.steps.filter((s) => TUNED_OPS.test(s));
      assert(tunedSteps.length >= 4 && tunedSteps.every((s) => s.endsWith(', tuned)')), `steps:\n${first.steps.join('\n')}`);

      // Parity: tuned equals the rule's choice and the CPU reference within the ops' tolerance.
      const untuned = await runOnce(rt, graph, feeds, { tune: false });
      assert(untuned.steps.every((s) => !/, (tuned|rule)\)$/.test(s)), `tune: false steps:\n${untuned.steps.join('\n')}`);
      const ref = await runOnce(Runtime.cpu(), graph, feeds);
      for (const name of ['y', 'm']) {
        const d = Math.max(maxDiff(first.out[name], ref.out[name]), maxDiff(untuned.out[name], ref.out[name]));
        assert(d <= 2e-5, `output ${name}: tuned or untuned differs from the reference by ${d}`);
      }

      // A variant compile forces wins over the table for its kernel; the other kernels keep theirs.
      const forced = await runOnce(rt, graph, feeds, { variants: { matmul: 'tiled' } });
      const mm = forced.steps.filter((s) => /^(linear|matmul)#/.test(s)), lstm = forced.steps.filter((s) => s.startsWith('lstm#'));
      assert(mm.length === 2 && mm.every((s) => s.endsWith('(tiled)')) && lstm.every((s) => s.endsWith(', tuned)')), `forced steps:\n${forced.steps.join('\n')}`);

      const again = await runOnce(rt, graph, feeds);
      const retuned = await runOnce(rt, graph, feeds, { tune: true });
      assert(rt.tuneStats.candidatesTimed === timed.candidatesTimed, `later compiles timed ${rt.tuneStats.candidatesTimed - timed.candidatesTimed} more candidates`);
      assert(again.steps.join('\n') === first.steps.join('\n') && retuned.steps.join('\n') === first.steps.join('\n'), `reused steps:\n${again.steps.join('\n')}`);
    } finally {
      rt.destroy();
    }
    const rt2 = await env.create({ tuneStore: store, onWarning: (m) => warnings.push(m) });
    try {
      const reused = await runOnce(rt2, graph, feeds);
      assert(rt2.tuneStats.candidatesTimed === 0, `a new runtime timed ${rt2.tuneStats.candidatesTimed} candidates`);
      assert(reused.steps.join('\n') === first.steps.join('\n'), `a new runtime's steps:\n${reused.steps.join('\n')}\nfirst:\n${first.steps.join('\n')}`);
      for (const name of ['y', 'm']) assert(maxDiff(reused.out[name], first.out[name]) === 0, `output ${name} differs after reuse`);
    } finally {
      rt2.destroy();
    }
    assert(!warnings.some((w) => /ignoring|cannot|bad entry|does not fit/.test(w)), `warnings: ${warnings.join('\n')}`);
    return first.steps.filter((s) => TUNED_OPS.test(s)).join('\n');
  },

  'compiles tuning at once time each signature once, and choose alike': async (env) => {
    const { graph, feeds } = tinyGraph();
    // The count of candidates one compile times, on a runtime of its own.
    const { store: alone } = await env.store();
    const rt1 = await env.create({ tuneStore: alone, onWarning: () => {} });
    let once: number;
    try {
      await runOnce(rt1, graph, feeds, { tune: true });
      once = rt1.tuneStats.candidatesTimed;
    } finally {
      rt1.destroy();
    }
    // Three compiles at once: the graph twice, and its matmul alone (one signature shared).
    const { store } = await env.store();
    const warnings: string[] = [];
    const rt = await env.create({ tuneStore: store, onWarning: (m) => warnings.push(m) });
    try {
      const mm = new Graph();
      mm.output('y', mm.matmul(mm.input('a', [8, 16]), mm.input('b', [16, 8])));
      const exes = await Promise.all([rt.compile(graph, { tune: true }), rt.compile(graph, { tune: true }), rt.compile(mm, { tune: true })]);
      try {
        const stats = rt.tuneStats;
        assert(stats.signaturesTimed === 2 && stats.candidatesTimed === once, `three compiles at once timed ${JSON.stringify(stats)}; one alone timed ${once} candidates`);
        assert(exes[0].steps.join('\n') === exes[1].steps.join('\n'), `the two compiles chose\n${exes[0].steps.join('\n')}\nand\n${exes[1].steps.join('\n')}`);
        assert(exes[0].steps[0] === exes[2].steps[0], `the matmul: ${exes[0].steps[0]} and ${exes[2].steps[0]}`);
        const table = await store.load();
        assert(table !== null && Object.keys(table.entries).length === 2, `the store holds ${JSON.stringify(table)}`);
        const ref = await runOnce(Runtime.cpu(), graph, feeds);
        for (const exe of exes.slice(0, 2)) assert(maxDiff((await exe.run(feeds)).y as Float32Array, ref.out.y) <= 2e-5, 'a tuned output differs from the reference');
      } finally {
        for (const exe of exes) exe.destroy();
      }
    } finally {
      rt.destroy();
    }
    assert(warnings.length === 0, `warnings: ${warnings.join('\n')}`);
    return `one compile alone and three at once each timed ${once} candidates over 2 signatures`;
  },

  'attention and layerNorm are tuned too, and the tuned graph matches the reference': async (env) => {
    const g = new Graph();
    const [q, k, v] = ['q', 'k', 'v'].map((name) => g.input(name, [2, 2, 7, 8]));
    const w = g.input('w', [8]), bias = g.input('bias', [8]);
    g.output('y', g.layerNorm(g.scaledDotProductAttention(q, k, v, { isCausal: true }), [8], w, bias));
    const feeds: Feeds = { q: randn(224, 21), k: randn(224, 22), v: randn(224, 23), w: randn(8, 24), bias: randn(8, 25) };
    const { store } = await env.store();
    const rt = await env.create({ tuneStore: store, onWarning: () => {} });
    try {
      const tuned = await runOnce(rt, g, feeds, { tune: true });
      const want = (await runOnce(Runtime.cpu(), g, feeds)).out.y;
      for (const op of ['attention#', 'layerNorm#']) {
        assert(tuned.steps.some((s) => s.startsWith(op) && s.endsWith(', tuned)')), `no tuned ${op} step:\n${tuned.steps.join('\n')}`);
      }
      const d = maxDiff(tuned.out.y, want);
      assert(d <= 1e-4, `tuned attention + layerNorm differs from the reference by ${d}`);
      assert(rt.tuneStats.signaturesTimed === 2, `signatures ${JSON.stringify(rt.tuneStats)}`);
      return tuned.steps.join('\n');
    } finally {
      rt.destroy();
    }
  },

  'a table from another adapter is ignored with a warning': async (env) => {
    const { store, write, table, graph, feeds } = await tunedTable(env);
    await write(mutate(table, (t) => (t.adapter = { ...t.adapter, vendor: 'elsewhere' })));
    const { warnings, steps } = await withTable(env, store, graph, feeds);
    assert(warnings.some((w) => w.includes(store.name) && /another adapter/.test(w)), `warnings: ${warnings.join('\n')}`);
    assert(steps.every((s) => !/, (tuned|rule)\)$/.test(s)), `steps:\n${steps.join('\n')}`);
    return warnings.join('\n');
  },

  'a table of other shaders is ignored with a warning': async (env) => {
    const { store, write, table, graph, feeds } = await tunedTable(env);
    await write(mutate(table, (t) => (t.shaderHash = '0000000000000:1')));
    const { warnings, steps } = await withTable(env, store, graph, feeds);
    assert(warnings.some((w) => w.includes(store.name) && /other shaders/.test(w)), `warnings: ${warnings.join('\n')}`);
    assert(steps.every((s) => !/, (tuned|rule)\)$/.test(s)), `steps:\n${steps.join('\n')}`);
    return warnings.join('\n');
  },

  'a corrupt table gets a warning naming where it is, and the rule': async (env) => {
    const { store, write } = await env.store();
    await write('{"version": 1, "adapter": {');
    const { graph, feeds } = tinyGraph();
    const { warnings, steps } = await withTable(env, store, graph, feeds);
    assert(warnings.length === 1 && warnings[0].includes(store.name), `warnings: ${warnings.join('\n')} (store ${store.name})`);
    assert(steps.every((s) => !/, (tuned|rule)\)$/.test(s)), `steps:\n${steps.join('\n')}`);
    // Tuning over it writes a good table.
    const rt = await env.create({ tuneStore: store, onWarning: () => {} });
    try {
      const tuned = await runOnce(rt, graph, feeds, { tune: true });
      assert(tuned.steps.every((s) => !TUNED_OPS.test(s) || s.endsWith(', tuned)')), `steps:\n${tuned.steps.join('\n')}`);
    } finally {
      rt.destroy();
    }
    const t = await store.load();
    assert(t !== null && Object.keys(t.entries).length === 2, `after tuning the store holds ${JSON.stringify(t)}`);
    return warnings[0];
  },

  'an entry naming an unknown variant is ignored, the rule chooses that kernel': async (env) => {
    const { store, write, table, graph, feeds } = await tunedTable(env);
    const key = Object.keys(table.entries).find((k) => k.startsWith('softmax '))!;
    await write(mutate(table, (t) => (t.entries[key].variant = 'warp-speed')));
    const { warnings, steps } = await withTable(env, store, graph, feeds);
    assert(warnings.some((w) => w.includes("unknown softmax variant 'warp-speed'")), `warnings: ${warnings.join('\n')}`);
    const sm = steps.find((s) => s.startsWith('softmax#')), mm = steps.find((s) => s.startsWith('matmul#'));
    assert(!!sm?.endsWith(', rule)') && !!mm?.endsWith(', tuned)'), `steps:\n${steps.join('\n')}`);
    return warnings.join('\n');
  },

  'an entry past the device limits is ignored, the rule chooses that kernel': async (env) => {
    const { store, write, table, graph, feeds } = await tunedTable(env);
    const key = Object.keys(table.entries).find((k) => k.startsWith('matmul '))!;
    // A K tile of 65536: 2 MiB of workgroup memory, past any adapter's limit.
    await write(mutate(table, (t) => (t.entries[key] = { ...t.entries[key], variant: 'tiled', constants: { TILE_M: 4, TILE_N: 4, TILE_K: 65536 } })));
    const { warnings, steps } = await withTable(env, store, graph, feeds);
    assert(warnings.some((w) => /does not fit/.test(w) && w.includes('TILE_M')), `warnings: ${warnings.join('\n')}`);
    const sm = steps.find((s) => s.startsWith('softmax#')), mm = steps.find((s) => s.startsWith('matmul#'));
    assert(!!mm?.endsWith(', rule)') && !!sm?.endsWith(', tuned)'), `steps:\n${steps.join('\n')}`);
    return warnings.join('\n');
  },

  'a store that fails is a warning, never a compile error': async (env) => {
    const warnings: string[] = [];
    const broken: TuneStore = {
      name: 'broken store',
      load: () => Promise.reject(new Error('disk on fire')),
      save: () => Promise.reject(new Error('disk still on fire')),
    };
    const rt = await env.create({ tuneStore: broken, onWarning: (m) => warnings.push(m) });
    const { graph, feeds } = tinyGraph();
    try {
      const tuned = await runOnce(rt, graph, feeds, { tune: true });
      assert(tuned.steps.some((s) => s.endsWith(', tuned)')), `steps:\n${tuned.steps.join('\n')}`);
      const again = await runOnce(rt, graph, feeds);
      assert(again.steps.join('\n') === tuned.steps.join('\n'), 'the table measured is kept for the runtime');
    } finally {
      rt.destroy();
    }
    assert(warnings.some((w) => /cannot read .*broken store.*disk on fire/.test(w)) && warnings.some((w) => /cannot save .*broken store/.test(w)), `warnings: ${warnings.join('\n')}`);
    return warnings.join('\n');
  },
};
