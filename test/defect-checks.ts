// Run-time defect checks shared by Node (test/defects.test.ts) and Chromium (the defects page): each
// takes a runtime (GPU or CPU reference) and throws on the first thing that is not as it should be.
// Plain asserts, no vitest, so the page can run them as they are.
import { DestroyedError, GPT2LMHeadModel, GptDecoder, Graph, InputError, LimitError, Runtime, SeqgpuError } from '../src/index';
import { liveBuffers } from '../src/testing';
import { randn } from './parity';

export interface RuntimeKit {
  rt: Runtime;
  /** A fresh runtime of the same kind (GPU or CPU), for checks that destroy one. */
  fresh: () => Promise<Runtime>;
}

export function eq(got: ArrayLike<number> | number[][], want: ArrayLike<number> | number[][], what: string): void {
  const g = JSON.stringify(Array.from(got as ArrayLike<unknown>)), w = JSON.stringify(Array.from(want as ArrayLike<unknown>));
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

export async function rejects(p: () => unknown, cls: new (...a: never[]) => Error, message: RegExp, what: string): Promise<void> {
  let err: unknown;
  try {
    await p();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof cls) || !(err instanceof SeqgpuError) || !message.test(err.message)) {
    const got = err instanceof Error ? `${err.constructor.name}: ${err.message}` : `no error (${String(err)})`;
    throw new Error(`${what}: want a ${cls.name} matching ${message}, got ${got}`);
  }
}

function reluGraph(): Graph {
  const g = new Graph();
  g.output('y', g.relu(g.input('x', [4])));
  return g;
}

function stateGraph(): Graph {
  const g = new Graph();
  g.output('y', g.assign(g.state('s', [2]), g.input('x', [2]), { dim: 0, offset: 0 }));
  return g;
}

export const DEFECT_CHECKS: Record<string, (kit: RuntimeKit) => Promise<void>> = {
  async 'a feed changed after run() returns does not change that run'({ rt }) {
    const exe = await rt.compile(reluGraph());
    const x = new Float32Array([1, 2, 3, 4]);
    const a = exe.run({ x });
    x.set([5, 6, 7, 8]);
    const b = exe.run({ x });
    x.fill(-1);
    const [ra, rb] = await Promise.all([a, b]);
    eq(ra.y, [1, 2, 3, 4], 'first run');
    eq(rb.y, [5, 6, 7, 8], 'second run');
    exe.destroy();
  },

  async 'a Float32Array on a SharedArrayBuffer is a valid feed and constant'({ rt }) {
    if (typeof SharedArrayBuffer === 'undefined') throw new Error('this context has no SharedArrayBuffer (the page needs cross-origin isolation)');
    const shared = new Float32Array(new SharedArrayBuffer(16));
    shared.set([-1, 2, -3, 4]);
    const exe = await rt.compile(reluGraph());
    eq((await exe.run({ x: shared })).y, [0, 2, 0, 4], 'shared feed');
    exe.destroy();
    const g = new Graph();
    g.output('y', g.add(g.input('x', [4]), g.constant(shared, [4])));
    const e2 = await rt.compile(g);
    eq((await e2.run({ x: new Float32Array(4) })).y, [-1, 2, -3, 4], 'shared constant');
    e2.destroy();
  },

  async "an unfed input named 'constructor' is missing, not mistyped"({ rt }) {
    const g = new Graph();
    g.output('y', g.relu(g.input('constructor', [2])));
    const exe = await rt.compile(g);
    await rejects(() => exe.run({}), InputError, /^run: missing input 'constructor' \(f32 \[2\]\)/, 'empty feeds');
    eq((await exe.run({ constructor: new Float32Array([-1, 1]) })).y, [0, 1], 'fed');
    exe.destroy();
  },

  async 'after exe.destroy(): run, readState and resetState throw DestroyedError'({ rt }) {
    const exe = await rt.compile(stateGraph());
    await exe.run({ x: new Float32Array([1, 2]) });
    exe.destroy();
    exe.destroy(); // twice is harmless
    await rejects(() => exe.run({ x: new Float32Array(2) }), DestroyedError, /^run: this executable was destroyed/, 'run');
    await rejects(() => exe.readState('s'), DestroyedError, /^readState: this executable was destroyed/, 'readState');
    await rejects(() => exe.resetState(), DestroyedError, /^resetState: this executable was destroyed/, 'resetState');
  },

  async 'after rt.destroy(): compile, run, readState and resetState throw DestroyedError'({ fresh }) {
    const rt = await fresh();
    const exe = await rt.compile(stateGraph());
    rt.destroy();
    await rejects(() => rt.compile(stateGraph()), DestroyedError, /^compile: the runtime was destroyed/, 'compile');
    await rejects(() => exe.run({ x: new Float32Array(2) }), DestroyedError, /^run: the runtime was destroyed/, 'run');
    await rejects(() => exe.readState('s'), DestroyedError, /^readState: the runtime was destroyed/, 'readState');
    await rejects(() => exe.resetState(), DestroyedError, /^resetState: the runtime was destroyed/, 'resetState');
  },

  async 'linear with in_features 0 gives the bias broadcast'({ rt }) {
    const g = new Graph();
    g.output('y', g.linear(g.input('x', [2, 0]), g.input('w', [3, 0]), g.input('b', [3])));
    const exe = await rt.compile(g);
    eq((await exe.run({ x: new Float32Array(0), w: new Float32Array(0), b: new Float32Array([1, -2, 3]) })).y, [1, -2, 3, 1, -2, 3], 'y');
    exe.destroy();
  },

  async 'embedding ids computed in the graph run; one out of range rejects after the state write'({ rt }) {
    const g = new Graph();
    const e = g.embedding(g.slice(g.input('ids', [3], 'i32'), 0, 0, 2), g.input('w', [4, 2]));
    g.output('y', g.assign(g.state('s', [2, 2]), e, { dim: 0, offset: 0 }));
    const exe = await rt.compile(g);
    const w = new Float32Array([0, 1, 10, 11, 20, 21, 30, 31]);
    eq((await exe.run({ ids: new Int32Array([3, 0, 9]), w })).y, [30, 31, 0, 1], 'in range');
    await rejects(() => exe.run({ ids: new Int32Array([1, 7, 0]), w }), InputError,
      /^embedding: ids \[2\] computed in the graph hold 7; valid values are 0\.\.3/, 'id 7');
    await rejects(() => exe.run({ ids: new Int32Array([-2, 3, 0]), w }), InputError, /hold -2/, 'id -2');
    eq(await exe.readState('s'), [0, 0, 30, 31], 'state after the rejected run');
    eq((await exe.run({ ids: new Int32Array([2, 1, 0]), w })).y, [20, 21, 10, 11], 'a run after the rejection');
    exe.destroy();
  },

  async 'gather indices computed in the graph run; one out of range rejects'({ rt }) {
    const g = new Graph();
    g.output('y', g.gather(g.input('x', [5]), 0, g.slice(g.input('index', [4], 'i32'), 0, 1, 3)));
    const exe = await rt.compile(g);
    const x = new Float32Array([10, 11, 12, 13, 14]);
    eq((await exe.run({ index: new Int32Array([0, 4, 2, 0]), x })).y, [14, 12], 'in range');
    await rejects(() => exe.run({ index: new Int32Array([0, 5, 2, 0]), x }), InputError, /^gather: index \[2\] computed in the graph hold 5/, 'index 5');
    exe.destroy();
  },

  async "timestamps 'dispatch' time each step, sum to gpuMs and change no output; bad modes and too many dispatches are rejected"({ rt }) {
    const g = new Graph();
    const w = g.constant(randn(17 * 33, 7), [17, 33]);
    g.output('y', g.softmax(g.linear(g.input('x', [5, 33]), w), -1));
    const feeds = { x: randn(5 * 33, 8, 10) };
    const plain = await rt.compile(g, { timestamps: true });
    const timed = await rt.compile(g, { timestamps: 'dispatch' });
    const want = (await plain.run(feeds)).y;
    for (let i = 0; i < 2; i++) eq((await timed.run(feeds)).y, want, `run ${i + 1} timed per dispatch`);
    const s = timed.stats;
    if (!rt.device || !rt.device.features.has('timestamp-query')) {
      // The CPU reference, or an adapter without timestamps: nothing is timed, and nothing says it was.
      const got = JSON.stringify([s.gpuMs, s.stepGpuMs, plain.stats.gpuMs]);
      if (got !== '[null,null,null]') throw new Error(`without timestamp-query: gpuMs, stepGpuMs and the plain gpuMs are ${got}, want nulls`);
    } else {
      const steps = s.stepGpuMs;
      if (!steps || steps.length !== timed.steps.length || timed.steps.length < 2) {
        throw new Error(`stepGpuMs ${JSON.stringify(steps)} for the steps ${JSON.stringify(timed.steps)}`);
      }
      if (!steps.every((t) => Number.isFinite(t) && t >= 0)) throw new Error(`stepGpuMs ${JSON.stringify(steps)}`);
      const sum = steps.reduce((a, b) => a + b, 0);
      if (!(sum > 0) || Math.abs(sum - s.gpuMs!) > 1e-9 * Math.max(1, sum)) throw new Error(`gpuMs ${s.gpuMs} against the steps' sum ${sum}`);
      if (plain.stats.stepGpuMs !== null || !(plain.stats.gpuMs! > 0)) {
        throw new Error(`timestamps: true gave gpuMs ${plain.stats.gpuMs} and stepGpuMs ${JSON.stringify(plain.stats.stepGpuMs)}`);
      }
    }
    timed.destroy();
    plain.destroy();

    const before = rt.device ? liveBuffers(rt) : 0;
    await rejects(() => rt.compile(g, { timestamps: 'dispatches' as never }), InputError,
      /^compile: timestamps must be true, false or 'dispatch'; got "dispatches"$/, 'a misspelt mode');
    if (rt.device?.features.has('timestamp-query')) {
      // 2049 softmaxes, a dispatch each: 4098 queries, past the query set's 4096.
      const long = new Graph();
      let y = long.input('x', [1, 3]);
      for (let i = 0; i < 2049; i++) y = long.softmax(y, -1);
      long.output('y', y);
      await rejects(() => rt.compile(long, { timestamps: 'dispatch' }), LimitError,
        /^compile: timestamps 'dispatch' takes two queries per dispatch; this graph's 2049 dispatches need 4098, and a query set holds 4096/, '2049 dispatches');
    }
    if (rt.device) eq([liveBuffers(rt)], [before], 'live buffers after the rejected compiles');
  },

  async 'two generate() calls in flight on one GptDecoder give the tokens each gives alone'({ rt }) {
    const model = new GPT2LMHeadModel({ vocabSize: 37, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2 });
    model.namedParameters().forEach(([, p], i) => (p.data = randn(p.data.length, 500 + i, 0.5)));
    const dec = await GptDecoder.create(rt, model, { maxLen: 16 });
    const a = [[1, 2, 3]], b = [[5, 4]];
    const soloA = await dec.generate(a, { maxNewTokens: 6 });
    const soloB = await dec.generate(b, { maxNewTokens: 6 });
    // Prompts that continue differently, so an interleaving that mixes their caches would show.
    if (JSON.stringify(soloA.tokens[0].slice(3)) === JSON.stringify(soloB.tokens[0].slice(2))) throw new Error('the two prompts continue alike');
    const [pa, pb] = [dec.generate(a, { maxNewTokens: 6 }), dec.generate(b, { maxNewTokens: 6 })];
    a[0].push(9); // the call holds its own copy of the prompt
    const [ra, rb] = await Promise.all([pa, pb]);
    eq(ra.tokens, soloA.tokens, 'first generate');
    eq(rb.tokens, soloB.tokens, 'second generate');
    dec.destroy();
  },
};
