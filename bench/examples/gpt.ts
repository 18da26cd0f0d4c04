// The GPT decoder: prefill a prompt, then greedy and sampled generation from the KV cache, against
// full recompute of every prefix for the same tokens.
import { GptDecoder, fullGraph } from '../../src/models/gpt';
import { GPT2LMHeadModel } from '../../src/nn/gpt2';
import type { ExampleContext } from './main';

export async function gptExample({ rt, weights, log }: ExampleContext): Promise<void> {
  const config = { vocabSize: 512, nPositions: 128, nEmbd: 128, nLayer: 2, nHead: 4 };
  const model = new GPT2LMHeadModel(config);
  if (weights) model.loadStateDict(weights);
  const maxLen = 64, newTokens = 32;
  const dec = await GptDecoder.create(rt, model, { maxLen });
  const prompt = [[11, 42, 7, 300, 5, 99, 23, 8]];
  // Warm up: the first runs of a pipeline pay for the driver's shader compile (seconds on lavapipe).
  await dec.generate(prompt, { maxNewTokens: 4 });
  const greedy = await dec.generate(prompt, { maxNewTokens: newTokens });
  const stepMs = median(greedy.stepMs);
  log(`greedy: ${greedy.tokens[0].slice(prompt[0].length).join(' ')}`);
  log(`cached: prefill ${greedy.prefillMs.toFixed(1)} ms, then ${stepMs.toFixed(2)} ms per token (median): ${(1000 / stepMs).toFixed(1)} tokens/s ` +
    `(${greedy.tokensPerSecond.toFixed(1)} over all ${greedy.stepMs.length} steps); ` +
    `${greedy.stepStats.dispatches} dispatches and ${greedy.stepStats.submits} submit per token`);
  const sampled = await dec.generate(prompt, { maxNewTokens: newTokens, temperature: 0.8, topK: 40, seed: 2024 });
  log(`sampled (T 0.8, top-k 40, seed 2024): ${sampled.tokens[0].slice(prompt[0].length).join(' ')}`);

  // Full recompute: every new token reruns the whole prefix (one compiled graph per length).
  const tokens = greedy.tokens[0];
  const lengths = Array.from({ length: 8 }, (_, i) => prompt[0].length + i * 4);
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
  log(`step graph: ${memoryPlan(dec.stepStats)}`);
  dec.destroy();
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
