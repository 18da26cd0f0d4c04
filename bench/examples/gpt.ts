// The GPT decoder: a GPT-2 of the chosen size (toy, or GPT-2 small with seeded weights) or one
// loaded from a Hugging Face folder; prefill a prompt, then greedy and sampled generation from the
// KV cache. The toy size also times full recompute of every prefix for the same tokens. With
// --prompt, text goes through GPT-2's tokenizer (gpt-tokenizer's r50k_base, offline) both ways.
import { decode, encode } from 'gpt-tokenizer/encoding/r50k_base';
import { GptDecoder, fullGraph } from '../../src/models/gpt';
import { GPT2LMHeadModel, type GPT2Config } from '../../src/nn/gpt2';
import { loadGPT2FromFolder, type ExecStats, type LoadProgress } from '../../src/node';
import type { ExampleContext } from './main';

/** GPT-2's vocabulary (r50k_base): what --prompt needs. */
export const GPT2_VOCAB = 50257;

/** The seeded model sizes of --size. */
export const GPT_SIZES = {
  toy: { vocabSize: 512, nPositions: 128, nEmbd: 128, nLayer: 2, nHead: 4 },
  '124m': { vocabSize: GPT2_VOCAB, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12 },
} satisfies Record<string, GPT2Config>;
export type GptSize = keyof typeof GPT_SIZES;

const TOY_PROMPT = [11, 42, 7, 300, 5, 99, 23, 8];

export async function gptExample(ctx: ExampleContext): Promise<void> {
  const { rt, log, gpt } = ctx;
  const model = await buildModel(ctx);
  const c = model.config;
  const maxNew = gpt.tokens ?? (gpt.size === 'toy' && !ctx.folder ? 32 : 16);
  const prompt = gpt.prompt !== undefined ? encode(gpt.prompt) : TOY_PROMPT.map((t) => t % c.vocabSize);
  if (!prompt.length) throw new Error('--prompt: the text encodes to no tokens');
  if (gpt.prompt !== undefined && c.vocabSize !== GPT2_VOCAB) {
    throw new Error(`--prompt: the model's vocabulary is ${c.vocabSize} tokens, not GPT-2's ${GPT2_VOCAB}`);
  }
  const maxLen = Math.min(c.nPositions, Math.max(64, prompt.length + maxNew));
  if (prompt.length + maxNew > maxLen) throw new Error(`--tokens: ${prompt.length} prompt + ${maxNew} new tokens pass the model's ${c.nPositions} positions`);

  let t = performance.now();
  const dec = await GptDecoder.create(rt, model, { maxLen });
  log(`compile: step graph in ${seconds(performance.now() - t)}; ${weightLine(dec.stepStats, model)}`);
  const toy = gpt.size === 'toy' && !ctx.folder && gpt.prompt === undefined;
  // Warm up: the first runs of a pipeline pay for the driver's shader compile (seconds on lavapipe).
  // The toy warms up apart; a large model's warm-up is its prefill and first step, left out of the median.
  if (toy) await dec.generate([prompt], { maxNewTokens: 4 });
  t = performance.now();
  const greedy = await dec.generate([prompt], { maxNewTokens: maxNew });
  const stepMs = median(toy ? greedy.stepMs : greedy.stepMs.slice(1));
  const generated = greedy.tokens[0].slice(prompt.length);
  if (gpt.prompt !== undefined) {
    log(`prompt: ${JSON.stringify(gpt.prompt)} (${prompt.length} tokens)`);
    log(`greedy: ${JSON.stringify(decode(greedy.tokens[0]))}`);
  } else {
    log(`greedy: ${generated.join(' ')}`);
  }
  log(`cached: prefill ${greedy.prefillMs.toFixed(1)} ms, then ${stepMs.toFixed(2)} ms per token (median): ${(1000 / stepMs).toFixed(1)} tokens/s ` +
    `(${greedy.tokensPerSecond.toFixed(1)} over all ${greedy.stepMs.length} steps); ` +
    `${greedy.stepStats.dispatches} dispatches and ${greedy.stepStats.submits} submit per token`);
  const sampled = await dec.generate([prompt], { maxNewTokens: maxNew, temperature: 0.8, topK: 40, seed: 2024 });
  const drawn = sampled.tokens[0].slice(prompt.length);
  log(`sampled (T 0.8, top-k 40, seed 2024): ${gpt.prompt !== undefined ? JSON.stringify(decode(sampled.tokens[0])) : drawn.join(' ')}`);
  if (toy) await fullRecompute(ctx, model, greedy.tokens[0], prompt.length, stepMs);
  log(`step graph: ${memoryPlan(dec.stepStats)}`);
  dec.destroy();
}

/** The model: from a Hugging Face folder, or seeded at --size (then --weights FILE, if given). */
async function buildModel({ folder, weights, loadMs, gpt, log }: ExampleContext): Promise<GPT2LMHeadModel> {
  const t = performance.now();
  let model: GPT2LMHeadModel, what: string;
  if (folder) {
    model = await loadGPT2FromFolder(folder, { onProgress: progressPrinter() });
    what = `${folder} (config.json and weights)`;
  } else {
    model = new GPT2LMHeadModel(GPT_SIZES[gpt.size]);
    if (weights) model.loadStateDict(weights);
    what = weights ? '--weights' : `seeded weights, --size ${gpt.size}`;
  }
  // --dtype f16 | bf16: every weight the engine can hold in 16 bits is rounded to it (wpe, biases
  // and norms stay f32); the GPU then holds about half the bytes.
  if (gpt.dtype !== 'f32') {
    model.setWeightDtype(gpt.dtype);
    what += `, weights rounded to ${gpt.dtype}`;
  }
  const c = model.config;
  log(`model: vocab ${c.vocabSize}, ${c.nPositions} positions, d ${c.nEmbd}, ${c.nLayer} layers, ${c.nHead} heads; ` +
    `${model.namedParameters().reduce((a, [, p]) => a + p.data.length, 0)} parameters from ${what}, loaded in ${seconds(loadMs + performance.now() - t)}`);
  return model;
}

/** Progress on stderr while a big folder loads, when it is a terminal; nothing otherwise. */
function progressPrinter(): ((p: LoadProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let shown = -1;
  return ({ loaded, total }) => {
    const pct = total ? Math.floor((100 * loaded) / total) : -1;
    if (pct === shown) return;
    shown = pct;
    process.stderr.write(`\rloading: ${(loaded / 1e6).toFixed(0)} MB${total ? ` of ${(total / 1e6).toFixed(0)} MB` : ''}${loaded === total ? '\n' : ''}`);
  };
}

/** The bytes of the distinct weight buffers on the GPU (a tied wte once), as the engine reports them. */
function weightLine(stats: ExecStats, model: GPT2LMHeadModel): string {
  if (stats.weightBytes > 0) return `weights on the GPU: ${mb(stats.weightBytes)} (distinct buffers)`;
  // The CPU reference holds no GPU buffers: the model's distinct parameter arrays instead.
  const arrays = new Set(model.namedParameters().map(([, p]) => p.data));
  return `weights: ${mb([...arrays].reduce((a, d) => a + d.byteLength, 0))} (the model's distinct parameter arrays in f32; no GPU)`;
}

/** Full recompute: every new token reruns the whole prefix (one compiled graph per length). */
async function fullRecompute({ rt, log }: ExampleContext, model: GPT2LMHeadModel, tokens: number[], promptLen: number, stepMs: number): Promise<void> {
  // Up to 8 prefixes, 4 tokens apart, of the tokens generated (fewer with a small --tokens).
  const lengths = Array.from({ length: 8 }, (_, i) => promptLen + i * 4).filter((n) => n <= tokens.length);
  let ms = 0;
  for (const n of lengths) {
    const exe = await rt.compile(fullGraph(model, 1, n));
    const ids = Int32Array.from(tokens.slice(0, n));
    await exe.run({ ids });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await exe.run({ ids });
      times.push(performance.now() - t);
    }
    ms += median(times);
    if (n === lengths[lengths.length - 1]) {
      const f = exe.stats;
      log(`full recompute at ${n} tokens: ${f.dispatches} dispatches per token; ${memoryPlan(f)}`);
    }
    exe.destroy();
  }
  const fullRate = (lengths.length * 1000) / ms;
  log(`full recompute: ${fullRate.toFixed(1)} tokens/s over prefixes of ${lengths[0]}..${lengths[lengths.length - 1]} tokens (medians); ` +
    `the cache is ${(1000 / stepMs / fullRate).toFixed(2)}x faster`);
}

/** The planner's saving on intermediates; the CPU reference plans no GPU buffers, so it has none. */
function memoryPlan(s: { peakBytes: number; naiveBytes: number }): string {
  if (s.peakBytes === 0) return 'no GPU buffers planned (the CPU reference)';
  return `intermediates ${s.peakBytes} bytes planned against ${s.naiveBytes} naive (${(s.naiveBytes / s.peakBytes).toFixed(1)}x less)`;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
