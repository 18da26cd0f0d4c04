// The gpt example's Hugging Face path and its new flags, run in this process on the CPU reference:
// a folder with GPT-2's vocabulary generating text from a prompt through the tokenizer, and the
// flags it refuses (status 2 with the usage) or the folders it refuses (status 1 with the reason).
import { decode, encode } from 'gpt-tokenizer/encoding/r50k_base';
import { afterAll, describe, expect, it } from 'vitest';
import { GPT2LMHeadModel, GptDecoder, Runtime, setInitSeed } from '../src/node';
import { exampleInProcess } from './example-util';
import { hfConfig, hfTensors, removeTempDirs, writeHfFolder } from './load-util';

const example = exampleInProcess;

const cfg = { vocabSize: 50257, nPositions: 32, nEmbd: 16, nLayer: 1, nHead: 2 };
setInitSeed(3);
const source = new GPT2LMHeadModel(cfg);
const folder = writeHfFolder(hfConfig(cfg), hfTensors(source), 2);
afterAll(removeTempDirs);

describe('npm run example -- gpt with a Hugging Face folder', () => {
  it('--weights DIR --prompt TEXT: the config from config.json, text in and text out, the CPU reference\'s greedy tokens', async () => {
    const r = await example('gpt', '--cpu', '--weights', folder, '--prompt', 'Hello world', '--tokens', '3');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/model: vocab 50257, 32 positions, d 16, 1 layers, 2 heads; \d+ parameters from .*, loaded in [\d.]+ s/);
    expect(r.stdout).toMatch(/weights: [\d.]+ MiB/);
    expect(r.stdout).toContain('prompt: "Hello world" (2 tokens)');
    expect(r.stdout).toMatch(/tokens\/s/);
    expect(encode('Hello world')).toEqual([15496, 995]);
    const dec = await GptDecoder.create(Runtime.cpu(), source, { maxLen: 5 });
    const want = (await dec.generate([[15496, 995]], { maxNewTokens: 3 })).tokens[0];
    dec.destroy();
    expect(r.stdout).toContain(`greedy: ${JSON.stringify(decode(want))}`);
  });
  it('refuses, with status 2 and the usage: gpt flags on other examples, a folder for them, --size with a folder, bad values, --prompt on the toy', async () => {
    for (const args of [
      ['translator', '--size', '124m'], ['lstm-classifier', '--prompt', 'hi'], ['gpt', '--size', '7b'], ['gpt', '--tokens', '0'],
      ['gpt', '--prompt', 'hi'], ['lstm-classifier', '--weights', folder], ['gpt', '--weights', folder, '--size', '124m'],
      ['gpt', '--weights', `${folder}/none`],
    ]) {
      const r = await example(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('usage: npm run example');
      expect(r.stdout, args.join(' ')).toBe('');
    }
  });
  it('a folder whose config the engine does not implement, or that misses a shard: status 1 with the reason', async () => {
    const bad = writeHfFolder(hfConfig(cfg, { activation_function: 'relu' }), hfTensors(source));
    let r = await example('gpt', '--cpu', '--weights', bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/config.json: activation_function is "relu"/);
    const gap = writeHfFolder(hfConfig(cfg), hfTensors(source), 2);
    const { rmSync } = await import('node:fs');
    rmSync(`${gap}/model-00001-of-00002.safetensors`);
    r = await example('gpt', '--cpu', '--weights', gap);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/names the shard model-00001-of-00002.safetensors, which is not there/);
  });
});
