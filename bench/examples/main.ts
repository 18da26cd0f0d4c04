// The runnable model examples: seeded weights (or a safetensors file in torch layout, of the
// example's own sizes), run on Dawn in Node (or the CPU reference with --cpu); each prints what it
// did and its throughput. Flags are parsed strictly: an unknown one exits 2 with the usage.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Runtime, SeqgpuError, readSafetensors, setInitSeed } from '../../src/node';
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
  'lstm-classifier': {
    about: 'Embedding(1000, 64) -> LSTM(64, 128) -> Linear(128, 4) on padded batches',
    run: (c) => classifierExample(c, 'lstm'),
  },
  'rnn-classifier': { about: 'Embedding(1000, 64) -> RNN(64, 128) -> Linear(128, 4), an Elman RNN', run: (c) => classifierExample(c, 'rnn') },
  gpt: { about: 'GPT-2 style decoder (vocab 512, 128 positions, d 128, 2 layers, 4 heads): prefill, then cached decoding', run: gptExample },
  translator: {
    about: 'Transformer encoder-decoder (vocab 800 each side, d 128, 4 heads, 2+2 layers, ffn 256, 128 positions): greedy translation of a batch',
    run: translatorExample,
  },
};

const FLAGS: [string, string][] = [
  ['--cpu', 'run on the float64 CPU reference instead of Dawn'],
  ['--weights FILE', "load a torch state_dict saved as safetensors, of the example's own sizes (above);"],
  ['', 'a file of other sizes is refused, with every name and shape that differs'],
  ['--seed N', 'seed of the initial weights (default 1)'],
  ['--help, -h', 'this text'],
];

const USAGE = `usage: npm run example -- <${Object.keys(EXAMPLES).join(' | ')}> [--cpu] [--weights FILE.safetensors] [--seed N]
${[...Object.entries(EXAMPLES).map(([k, v]): [string, string] => [k, v.about]), ...FLAGS].map(([k, v]) => `  ${k.padEnd(16)} ${v}`).join('\n')}`;

const OPTIONS = {
  cpu: { type: 'boolean' },
  weights: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const parse = (argv: string[]) => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    return usageError(e instanceof Error ? e.message : String(e));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) return usageError(positionals.length ? `one example at a time, got ${positionals.join(' ')}` : 'which example?');
  const name = positionals[0];
  const example = EXAMPLES[name];
  if (!example) return usageError(`unknown example '${name}'`);
  const seed = Number(values.seed ?? 1);
  if (!Number.isInteger(seed)) return usageError(`--seed wants an integer, got '${values.seed}'`);

  setInitSeed(seed);
  const weights = values.weights === undefined ? undefined : readSafetensors(readFileSync(values.weights));
  const rt = values.cpu ? Runtime.cpu() : await Runtime.create();
  const log = (line: string) => console.log(line);
  log(`${name}: ${example.about}`);
  log(`runtime: ${rt.info.backend} on ${rt.info.adapter.vendor} ${rt.info.adapter.architecture} (${rt.info.adapter.description})`);
  try {
    await example.run({ rt, weights, log });
  } catch (e) {
    // A state dict of other sizes: the message lists every missing, unexpected and misshapen name.
    if (!(e instanceof SeqgpuError) || weights === undefined) throw e;
    console.error(`example: ${values.weights}: ${e.message}`);
    return 1;
  } finally {
    rt.destroy();
  }
  return 0;
}

function usageError(message: string): number {
  console.error(`example: ${message}\n${USAGE}`);
  return 2;
}
