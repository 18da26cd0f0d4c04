// Device-loss checks, shared by Node (test/device-loss.test.ts) and Chromium (test/browser/
// device-loss-page.ts). The only way to lose a device here is device.destroy() (reason 'destroyed'),
// called on the runtime's device from outside, as a driver reset would: during a generate() (from
// its per-token callback), during a compile, during a run. Each check makes its own runtime, since it
// loses that runtime's device, and returns the times it measured. Plain asserts.
import {
  DeviceLostError, GPT2LMHeadModel, GptDecoder, GpuError, Graph, Runtime, Seq2SeqTransformer, setInitSeed, type DeviceLossEvent, type RuntimeOptions,
} from '../src/index';
import { eq, rejects } from './defect-checks';

/** Makes a GPU runtime with these options (Runtime.create, or seqgpu/node's). */
export type Create = (opts?: RuntimeOptions) => Promise<Runtime>;
/** Times a check measured, in ms, by name. */
export type Figures = Record<string, number>;

function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(what);
}

/** A runtime whose losses are recorded. */
async function watched(create: Create, opts: RuntimeOptions = {}): Promise<{ rt: Runtime; events: DeviceLossEvent[] }> {
  const events: DeviceLossEvent[] = [];
  const rt = await create({ ...opts, onDeviceLost: (e) => events.push(e) });
  return { rt, events };
}

/** Waits until the runtime has reported `n` losses to onDeviceLost (recovered or not). */
async function lossesReported(events: DeviceLossEvent[], n: number): Promise<void> {
  for (let i = 0; i < 500 && events.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  assert(events.length >= n, `onDeviceLost was called ${events.length} times, want ${n}`);
}

function tinyGpt(): GPT2LMHeadModel {
  setInitSeed(7);
  return new GPT2LMHeadModel({ vocabSize: 61, nPositions: 24, nEmbd: 32, nLayer: 2, nHead: 4 });
}

/** y = tanh(x · wᵀ + b) with w and b constants (uploaded at compile: re-uploaded after a loss). */
function weightGraph(): { g: Graph; feeds: { x: Float32Array } } {
  const g = new Graph();
  const w = g.constant(Float32Array.from({ length: 7 * 5 }, (_, i) => Math.sin(i) * 0.5), [7, 5]);
  const b = g.constant(Float32Array.from({ length: 7 }, (_, i) => i * 0.1 - 0.3), [7]);
  g.output('y', g.tanh(g.linear(g.input('x', [3, 5]), w, b)));
  return { g, feeds: { x: Float32Array.from({ length: 15 }, (_, i) => (i % 4) - 1.5) } };
}

/** Several distinct pipelines, so a compile is still creating them when the device goes. */
function manyPipelines(): Graph {
  const g = new Graph();
  let x = g.input('x', [5, 7]);
  x = g.softmax(g.layerNorm(g.gelu(g.linear(x, g.constant(Float32Array.from({ length: 49 }, (_, i) => Math.cos(i)), [7, 7]))), [7]), -1);
  g.output('y', g.scaledDotProductAttention(x, x, x, { isCausal: true }));
  return g;
}

async function reference(g: Graph, feeds: Record<string, Float32Array>): Promise<Float32Array> {
  return (await (await Runtime.cpu().compile(g)).run(feeds)).y;
}

function close(got: Float32Array, want: Float32Array, what: string): void {
  assert(got.length === want.length, `${what}: ${got.length} values, want ${want.length}`);
  // f32 sums over at most 7 terms of values below 1 against the float64 reference.
  for (let i = 0; i < got.length; i++) assert(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-4 * Math.abs(want[i]), `${what}: [${i}] ${got[i]} vs ${want[i]}`);
}

export const DEVICE_LOSS_CHECKS: Record<string, (create: Create) => Promise<Figures>> = {
  async 'generate() losing the device after token 3 finishes with the uninterrupted tokens'(create) {
    const { rt, events } = await watched(create);
    const model = tinyGpt();
    const dec = await GptDecoder.create(rt, model, { maxLen: 20 });
    const figures: Figures = {};
    for (const [kind, opts] of [['greedy', {}], ['sampled', { temperature: 0.9, topK: 8, seed: 5 }]] as const) {
      const prompt = [[5, 6, 7, 8]];
      const want = await dec.generate(prompt, { maxNewTokens: 10, ...opts });
      const lost = rt.device!;
      const t0 = performance.now();
      const got = await dec.generate(prompt, {
        maxNewTokens: 10, ...opts, onToken: (_, i) => i === 2 && rt.device!.destroy(),
      });
      figures[`${kind} generate with a loss, ms`] = performance.now() - t0;
      figures[`${kind} generate uninterrupted, ms`] = want.prefillMs + want.stepMs.reduce((a, b) => a + b, 0);
      eq(got.tokens, want.tokens, `${kind} tokens after a loss at token 3`);
      assert(got.recoveries >= 1, `${kind}: recoveries ${got.recoveries}, want at least 1`);
      assert(rt.device !== lost && rt.device !== null, `${kind}: rt.device is still the lost device`);
      // The new device works for a plain call too, and the decoder goes on as before.
      eq((await dec.generate(prompt, { maxNewTokens: 10, ...opts })).tokens, want.tokens, `${kind} tokens after recovery`);
    }
    await lossesReported(events, 2);
    assert(events.every((e) => e.recovered && /destroyed/.test(e.reason)), `events: ${JSON.stringify(events)}`);
    assert(rt.deviceLosses === 2, `deviceLosses ${rt.deviceLosses}, want 2`);
    events.forEach((e, i) => (figures[`recovery ${i + 1} (new adapter and device), ms`] = e.recoveryMs));
    dec.destroy();
    rt.destroy();
    return figures;
  },

  async 'direct prefill() and step() ride out a loss: the cache is refilled and the logits are the uninterrupted ones'(create) {
    const { rt, events } = await watched(create);
    const dec = await GptDecoder.create(rt, tinyGpt(), { maxLen: 20 });
    const prompt = Int32Array.from([5, 6, 7, 8]);
    const steps = [9, 10, 11, 12].map((t) => Int32Array.of(t));
    const want = [await dec.prefill(prompt, 4)];
    for (const ids of steps) want.push(await dec.step(ids));
    const figures: Figures = {};
    // Lost between two steps: the next step refills the new device's cache (the prompt, then the two
    // steps before it), then runs.
    const got = [await dec.prefill(prompt, 4), await dec.step(steps[0]), await dec.step(steps[1])];
    rt.device!.destroy();
    const t0 = performance.now();
    got.push(await dec.step(steps[2]));
    figures['step() after a loss, refill included, ms'] = performance.now() - t0;
    got.push(await dec.step(steps[3]));
    got.forEach((g, i) => close(g, want[i], `logits ${i} with a loss before step 3`));
    assert(dec.cached === 8, `positions cached: ${dec.cached}, want 8`);
    // Lost right after prefill(): the first step refills the prompt.
    await dec.prefill(prompt, 4);
    rt.device!.destroy();
    close(await dec.step(steps[0]), want[1], 'the first step after a loss');
    // Lost after generate(): a step() on from its tokens refills the prompt and every generated step.
    const gen = await dec.generate([[5, 6, 7, 8]], { maxNewTokens: 3 });
    const next = Int32Array.of(gen.tokens[0][6]);
    const uninterrupted = await dec.generate([[5, 6, 7, 8]], { maxNewTokens: 3 }).then(() => dec.step(next));
    await dec.generate([[5, 6, 7, 8]], { maxNewTokens: 3 });
    rt.device!.destroy();
    close(await dec.step(next), uninterrupted, 'a step after generate() and a loss');
    await lossesReported(events, 3);
    assert(rt.deviceLosses === 3, `deviceLosses ${rt.deviceLosses}, want 3`);
    dec.destroy();
    rt.destroy();
    return figures;
  },

  async 'a loss during compile(): the compile finishes on the new device, or a retry does'(create) {
    const { rt, events } = await watched(create);
    const g = manyPipelines();
    const feeds = { x: Float32Array.from({ length: 35 }, (_, i) => Math.sin(i * 1.3)) };
    const lost = rt.device!;
    const t0 = performance.now();
    const p = rt.compile(g);
    lost.destroy();
    let exe;
    try {
      exe = await p;
    } catch (e) {
      assert(e instanceof DeviceLostError && e.recovering, `compile: ${String(e)}`);
      exe = await rt.compile(g);
    }
    close((await exe.run(feeds)).y, await reference(g, feeds), 'the compile cut short, run on the new device');
    const ms = performance.now() - t0;
    assert(rt.device !== lost, 'rt.device is still the lost device');
    await lossesReported(events, 1);
    exe.destroy();
    rt.destroy();
    return { 'compile with a loss, then a run, ms': ms, 'recovery, ms': events[0].recoveryMs };
  },

  async 'a loss during a run: that run rejects, saying recovery is under way; the next runs on the new device'(create) {
    const { rt, events } = await watched(create);
    const { g, feeds } = weightGraph();
    const want = await reference(g, feeds);
    const exe = await rt.compile(g);
    close((await exe.run(feeds)).y, want, 'before the loss');
    const lost = rt.device!;
    const p = exe.run(feeds);
    const t0 = performance.now();
    lost.destroy();
    await rejects(() => p, DeviceLostError, /run: the GPU device was lost \(destroyed.*recovery is under way/, 'the run in flight');
    const err = await p.catch((e: unknown) => e);
    assert(err instanceof DeviceLostError && err.recovering, 'the error says recovering');
    const t1 = performance.now();
    close((await exe.run(feeds)).y, want, 'the next run (weights re-uploaded from the host copy)');
    const t2 = performance.now();
    close((await exe.run(feeds)).y, want, 'a later run');
    const t3 = performance.now();
    assert(rt.device !== lost && rt.device !== null, 'rt.device is still the lost device');
    assert(!exe.stateLost, 'a graph without states reports none lost');
    await lossesReported(events, 1);
    exe.destroy();
    rt.destroy();
    return {
      'loss to the in-flight rejection, ms': t1 - t0, 'first run after (rebuild + run), ms': t2 - t1, 'a run after that, ms': t3 - t2,
      'recovery, ms': events[0].recoveryMs,
    };
  },

  async 'states come back zeroed and stateLost says so; resetState clears it'(create) {
    const rt = await create();
    const g = new Graph();
    const s = g.state('acc', [4]);
    g.output('y', g.add(g.assign(s, g.add(s, g.input('x', [4])), { dim: 0, offset: 0 }), g.constant(new Float32Array(4), [4])));
    const exe = await rt.compile(g);
    const x = Float32Array.from([1, 2, 3, 4]);
    await exe.run({ x });
    eq((await exe.run({ x })).y, [2, 4, 6, 8], 'two runs accumulate');
    const lost = rt.device!;
    lost.destroy();
    await lost.lost;
    assert(!exe.stateLost, 'stateLost before the executable is rebuilt');
    eq((await exe.run({ x })).y, [1, 2, 3, 4], 'the first run after the loss starts from a zeroed state');
    assert(exe.stateLost, 'stateLost is raised');
    eq(await exe.readState('acc'), [1, 2, 3, 4], 'readState on the new device');
    exe.resetState();
    assert(!exe.stateLost, 'resetState clears stateLost');
    eq((await exe.run({ x })).y, [1, 2, 3, 4], 'after resetState');
    exe.destroy();
    rt.destroy();
    return {};
  },

  async "IO binding: the caller's buffers of the lost device are not recovered; runs using them reject"(create) {
    const rt = await create();
    const { g, feeds } = weightGraph();
    const want = await reference(g, feeds);
    const exe = await rt.compile(g);
    const old = rt.device!;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const stale = old.createBuffer({ size: feeds.x.byteLength, usage });
    old.queue.writeBuffer(stale, 0, feeds.x.buffer as ArrayBuffer, feeds.x.byteOffset, feeds.x.byteLength);
    close((await exe.run({ x: stale })).y as Float32Array, want, 'a buffer feed before the loss');
    old.destroy();
    await old.lost;
    await rejects(() => exe.run({ x: stale }), GpuError, /input 'x'.*another device/, 'a feed on the lost device');
    const device = rt.device!;
    const fresh = device.createBuffer({ size: feeds.x.byteLength, usage });
    device.queue.writeBuffer(fresh, 0, feeds.x.buffer as ArrayBuffer, feeds.x.byteOffset, feeds.x.byteLength);
    close((await exe.run({ x: fresh })).y as Float32Array, want, "a buffer of the new device's");
    fresh.destroy();
    exe.destroy();
    rt.destroy();
    return {};
  },

  async 'recover: false keeps DeviceLostError for every later call'(create) {
    const { rt, events } = await watched(create, { recover: false });
    const { g, feeds } = weightGraph();
    const exe = await rt.compile(g);
    const lost = rt.device!;
    const p = exe.run(feeds);
    lost.destroy();
    const err = await p.catch((e: unknown) => e);
    assert(err instanceof DeviceLostError && !err.recovering, `the run in flight: ${String(err)}`);
    await lost.lost;
    for (let i = 0; i < 2; i++) {
      await rejects(() => exe.run(feeds), DeviceLostError, /run: the GPU device was lost.*create a new Runtime/, `run ${i} after the loss`);
      await rejects(() => rt.compile(weightGraph().g), DeviceLostError, /compile: the GPU device was lost/, `compile ${i} after the loss`);
    }
    assert(rt.device === lost, 'rt.device is the lost device');
    await lossesReported(events, 1);
    assert(!events[0].recovered, 'the event says not recovered');
    rt.destroy();
    return {};
  },

  async 'Translator.translate() losing the device mid-way finishes with the uninterrupted tokens'(create) {
    const rt = await create();
    setInitSeed(11);
    const model = new Seq2SeqTransformer({ srcVocab: 23, tgtVocab: 29, embSize: 16, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 24, maxPositions: 32 });
    const tr = await model.compile(rt, { maxSrcLen: 6, maxTgtLen: 9, batch: 2 });
    const sources = [[3, 4, 5, 6], [7, 8, 9]];
    const opts = { bos: 1, eos: 28 };
    const want = await tr.translate(sources, opts);
    let n = 0;
    const got = await tr.translate(sources, { ...opts, onToken: () => ++n === 3 && rt.device!.destroy() });
    eq(got.tokens, want.tokens, 'translation after a loss at token 3');
    assert(n >= 3 && got.recoveries >= 1, `onToken calls ${n}, recoveries ${got.recoveries}`);
    tr.destroy();
    rt.destroy();
    return {};
  },
};
