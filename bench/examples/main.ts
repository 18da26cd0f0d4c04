// The runnable model examples: seeded weights (or a safetensors file in torch layout), run on Dawn
// in Node (or the CPU reference with --cpu); each prints what it did and its throughput.
import { readFileSync } from 'node:fs';
import { Runtime, readSafetensors, setInitSeed } from '../../src/node';
import { classifierExample } from './classifier';
import { gptExample } from './gpt';
import { translatorExample } from './translator';

export interface ExampleContext {
  rt: Runtime;
  /** A state dict to load instead of the seeded weights (--weights FILE.safetensors). */
  weights?: ReturnType<typeof readSafetensors>;
  log: (line: string) => void;
}

const EXAMPLES: Record<string, { about: string; run: (ctx: ExampleContext) => Promise<void> }> = {
  'lstm-classifier': { about: 'Embedding(1000, 64) -> LSTM(64, 128) -> Linear(128, 4) on padded batches', run: (c) => classifierExample(c, 'lstm') },
  'rnn-classifier': { about: 'the same with an Elman RNN', run: (c) => classifierExample(c, 'rnn') },
  gpt: { about: 'GPT-2 style decoder (2 layers, d 128, 4 heads, vocab 512): prefill, then cached decoding', run: gptExample },
  translator: { about: 'Transformer encoder-decoder, greedy translation of a batch of padded sources', run: translatorExample },
};

const USAGE = `usage: npm run example -- <${Object.keys(EXAMPLES).join(' | ')}> [--cpu] [--weights FILE.safetensors] [--seed N]\n` +
  Object.entries(EXAMPLES).map(([k, v]) => `  ${k.padEnd(16)} ${v.about}`).join('\n');

export async function main(argv: string[]): Promise<number> {
  const name = argv.find((a) => !a.startsWith('--') && argv[argv.indexOf(a) - 1] !== '--weights' && argv[argv.indexOf(a) - 1] !== '--seed');
  const example = name && EXAMPLES[name];
  if (!example) {
    console.error(name ? `unknown example '${name}'\n${USAGE}` : USAGE);
    return name ? 2 : argv.includes('--help') ? 0 : 2;
  }
  const at = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  setInitSeed(Number(at('--seed') ?? 1));
  const rt = argv.includes('--cpu') ? Runtime.cpu() : await Runtime.create();
  const file = at('--weights');
  const log = (line: string) => console.log(line);
  log(`${name}: ${example.about}`);
  log(`runtime: ${rt.info.backend} on ${rt.info.adapter.vendor} ${rt.info.adapter.architecture} (${rt.info.adapter.description})`);
  try {
    await example.run({ rt, weights: file ? readSafetensors(readFileSync(file)) : undefined, log });
  } finally {
    rt.destroy();
  }
  return 0;
}
