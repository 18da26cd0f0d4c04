// The LSTM (or RNN) text classifier on a padded batch: sequences of different lengths, each read at
// its last valid step.
import { TextClassifier } from '../../src/models/classifier';
import { SeededRandom } from '../../src/models/sampling';
import type { ExampleContext } from './main';

export async function classifierExample({ rt, weights, log }: ExampleContext, cell: 'lstm' | 'rnn'): Promise<void> {
  const vocab = 1000, T = 32, B = 8;
  const model = new TextClassifier({ vocabSize: vocab, numClasses: 4, cell });
  if (weights) model.loadStateDict(weights);
  const session = await model.compile(rt, { maxLen: T, batch: B });
  const r = new SeededRandom(5);
  const ids = Int32Array.from({ length: T * B }, () => Math.floor(r.next() * vocab));
  const lengths = Array.from({ length: B }, (_, b) => T - 3 * b);
  const first = await session.classify(ids, lengths);
  log(`batch of ${B} sequences, lengths ${lengths.join(' ')} (padded to ${T}): predicted classes ${first.predictions.join(' ')}`);
  const runs = 10;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await session.classify(ids, lengths);
  const ms = (performance.now() - t0) / runs;
  const s = session.exe.stats;
  log(`${ms.toFixed(2)} ms per batch: ${((B * 1000) / ms).toFixed(1)} sequences/s, ${((B * T * 1000) / ms).toFixed(0)} tokens/s; ` +
    `${s.dispatches} dispatches, ${s.submits} submit per batch`);
  session.destroy();
}
