// The Transformer encoder-decoder: greedy translation of a padded batch of sources.
import { Seq2SeqTransformer } from '../../src/models/translator';
import type { ExampleContext } from './main';

export async function translatorExample({ rt, weights, log }: ExampleContext): Promise<void> {
  const model = new Seq2SeqTransformer({ srcVocab: 800, tgtVocab: 800, embSize: 128, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 256, maxPositions: 128 });
  if (weights) model.loadStateDict(weights);
  const BOS = 1, EOS = 2;
  const sources = [[BOS, 45, 312, 77, 9, 540, EOS], [BOS, 18, 260, EOS], [BOS, 600, 31, 31, 5, EOS]];
  const tr = await model.compile(rt, { maxSrcLen: 8, maxTgtLen: 24, batch: sources.length });
  await tr.translate(sources, { bos: BOS, eos: EOS, maxLen: 4 }); // warm up
  const out = await tr.translate(sources, { bos: BOS, eos: EOS });
  out.tokens.forEach((t, i) => log(`source ${sources[i].join(' ')} -> ${t.join(' ')}`));
  const steps = out.stepMs.length;
  const stepMs = out.stepMs.reduce((a, b) => a + b, 0) / Math.max(steps, 1);
  log(`encode ${out.encodeMs.toFixed(1)} ms once per batch (cross-attention K/V kept on the GPU), then ${steps} steps of ` +
    `${stepMs.toFixed(2)} ms: ${out.sentencesPerSecond.toFixed(2)} sentences/s, ${((sources.length * 1000) / stepMs).toFixed(1)} tokens/s; ` +
    `${out.stepStats.dispatches} dispatches and ${out.stepStats.submits} submit per step`);
  tr.destroy();
}
