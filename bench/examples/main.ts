// The runnable model examples: seeded weights (or a safetensors file in torch layout, of the
// example's own sizes; for gpt also a Hugging Face checkpoint folder), run on Dawn in Node (or the
// CPU reference with --cpu); each prints what it did and its throughput. Flags are parsed
// strictly: an unknown one exits 2 with the usage.
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Runtime, SeqgpuError, loadSafetensorsFile, setInitSeed, type TensorRecord } from '../../src/node';
import { classifierExample } from './classifier';
import { GPT2_VOCAB, GPT_SIZES, gptExample, type GptSize } from './gpt';
import { translatorExample } from './translator';

export interface ExampleContext {
  rt: Runtime;
  /** A state dict to load instead of the seeded weights (--weights FILE.safetensors). */
  weights?: TensorRecord;
  /** A Hugging Face checkpoint folder (--weights DIR, gpt only): config.json and the weights. */
  folder?: string;
  /** Milliseconds spent reading --weights FILE (0 without one). */
  loadMs: number;
  /** The gpt example's own flags. */
  gpt: { size: GptSize; prompt?: string; tokens?: number; dtype: 'f32' | 'f16' | 'bf16' };
  log: (line: string) => void;
}

const EXAMPLES: Record<string, { about: string; run: (ctx: ExampleContext) => Promise<void> }> = {
  'lstm-classifier': {
    about: 'Embedding(1000, 64) -> LSTM(64, 128) -> Linear(128, 4) on padded batches',
    run: (c) => classifierExample(c, 'lstm'),
  },
  'rnn-classifier': { about: 'Embedding(1000, 64) -> RNN(64, 128) -> Linear(128, 4), an Elman RNN', run: (c) => classifierExample(c, 'rnn') },
  gpt: { about: 'GPT-2 decoder, --size toy (vocab 512, 128 positions, d 128, 2 layers, 4 heads) or 124m (GPT-2 small): prefill, then cached decoding', run: gptExample },
  translator: {
    about: 'Transformer encoder-decoder (vocab 800 each side, d 128, 4 heads, 2+2 layers, ffn 256, 128 positions): greedy translation of a batch',
    run: translatorExample,
  },
};

const FLAGS: [string, string][] = [
  ['--cpu', 'run on the float64 CPU reference instead of Dawn'],
  ['--weights PATH', "load a torch state_dict saved as safetensors, of the example's own sizes (above);"],
  ['', 'a file of other sizes is refused, with every name and shape that differs.'],
  ['', 'gpt also takes a Hugging Face GPT-2 folder (config.json, model.safetensors or shards)'],
  ['--seed N', 'seed of the initial weights (default 1)'],
  ['--size S', `gpt: ${Object.keys(GPT_SIZES).join(' or ')} (default toy), the sizes of the seeded model`],
  ['--prompt TEXT', "gpt: generate from TEXT through GPT-2's tokenizer (needs GPT-2's vocabulary: --size 124m or a folder)"],
  ['--tokens N', 'gpt: new tokens to generate (default 32 for toy, 16 otherwise)'],
  ['--dtype D', 'gpt: f32 (default), f16 or bf16: the width of the weights on the GPU (16 bits: about half)'],
  ['--help, -h', 'this text'],
];

const USAGE = `usage: npm run example -- <${Object.keys(EXAMPLES).join(' | ')}> [--cpu] [--weights FILE_OR_DIR] [--seed N]
                           [--size toy|124m] [--prompt TEXT] [--tokens N] [--dtype f32|f16|bf16]   (the last four: gpt only)
${[...Object.entries(EXAMPLES).map(([k, v]): [string, string] => [k, v.about]), ...FLAGS].map(([k, v]) => `  ${k.padEnd(16)} ${v}`).join('\n')}`;

const OPTIONS = {
  cpu: { type: 'boolean' },
  weights: { type: 'string' },
  seed: { type: 'string' },
  size: { type: 'string' },
  prompt: { type: 'string' },
  tokens: { type: 'string' },
  dtype: { type: 'string' },
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
  for (const k of ['size', 'prompt', 'tokens', 'dtype'] as const) {
    if (values[k] !== undefined && name !== 'gpt') return usageError(`--${k} is a gpt flag, not one of ${name}`);
  }
  const size = (values.size ?? 'toy') as GptSize;
  if (!(size in GPT_SIZES)) return usageError(`--size wants ${Object.keys(GPT_SIZES).join(' or ')}, got '${values.size}'`);
  const dtype = values.dtype ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16' && dtype !== 'bf16') return usageError(`--dtype wants f32, f16 or bf16, got '${values.dtype}'`);
  const tokens = values.tokens === undefined ? undefined : Number(values.tokens);
  if (tokens !== undefined && !(Number.isInteger(tokens) && tokens >= 1)) return usageError(`--tokens wants a positive integer, got '${values.tokens}'`);
  let folder: string | undefined;
  if (values.weights !== undefined) {
    let isDir = false;
    try {
      isDir = statSync(values.weights).isDirectory();
    } catch {
      return usageError(`--weights ${values.weights}: no such file or folder`);
    }
    if (isDir && name !== 'gpt') return usageError(`--weights ${values.weights} is a folder; only gpt reads a Hugging Face folder`);
    if (isDir && values.size !== undefined) return usageError('--size and a --weights folder both give the sizes; the folder\'s config.json rules, so leave --size out');
    if (isDir) folder = values.weights;
  }
  if (values.prompt !== undefined && !folder && GPT_SIZES[size].vocabSize !== GPT2_VOCAB) {
    return usageError(`--prompt needs GPT-2's vocabulary of ${GPT2_VOCAB} tokens: use --size 124m or a --weights folder`);
  }

  setInitSeed(seed);
  let weights: TensorRecord | undefined;
  const t0 = performance.now();
  try {
    if (values.weights !== undefined && !folder) weights = await loadSafetensorsFile(values.weights);
  } catch (e) {
    if (!(e instanceof SeqgpuError)) throw e;
    console.error(`example: ${values.weights}: ${e.message}`);
    return 1;
  }
  const loadMs = performance.now() - t0;
  const rt = values.cpu ? Runtime.cpu() : await Runtime.create();
  const log = (line: string) => console.log(line);
  log(`${name}: ${example.about}`);
  log(`runtime: ${rt.info.backend} on ${rt.info.adapter.vendor} ${rt.info.adapter.architecture} (${rt.info.adapter.description})`);
  try {
    await example.run({ rt, weights, folder, loadMs, gpt: { size, prompt: values.prompt, tokens, dtype }, log });
  } catch (e) {
    // A state dict of other sizes: the message lists every missing, unexpected and misshapen name;
    // a folder: also a config value the engine does not implement, or a missing file.
    if (!(e instanceof SeqgpuError) || values.weights === undefined) throw e;
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
