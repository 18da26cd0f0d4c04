// GPT-2 from a Hugging Face checkpoint folder that the test writes (HF names, Conv1D [in, out]
// weights, attn.bias / attn.masked_bias buffers, config.json, one file or shards with an index):
// loaded from the folder and over HTTP, decoded on Dawn, and its greedy tokens checked against the
// CPU reference running the module the folder was written from. Then each bad input: config values
// the engine does not implement, a config whose shapes disagree with the file, lm_head.weight
// tied and untied, a missing head with tie_word_embeddings false, missing files and shards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError, GPT2LMHeadModel, GptDecoder, LoadError, Runtime, StateDictError, gpt2ConfigFromHuggingFace, gpt2FromHuggingFace,
  loadGPT2FromFolder, loadGPT2FromUrl, readSafetensors, setInitSeed, writeSafetensors, type GPT2Config, type LoadProgress,
} from '../src/node';
import { randn } from './parity';
import { hfConfig, hfTensors, removeTempDirs, routesOf, serve, shardFiles, tempDir, writeHfFolder } from './load-util';
import { randomize } from './nn-util';

const cfg: GPT2Config = { vocabSize: 67, nPositions: 24, nEmbd: 24, nLayer: 2, nHead: 3 };
const source = new GPT2LMHeadModel(cfg);
randomize(source, 7);
const prompt = [[5, 17, 3, 60, 41]];
const steps = 8;

let gpu: Runtime;
let want: number[];
beforeAll(async () => {
  gpu = await Runtime.create();
  const dec = await GptDecoder.create(Runtime.cpu(), source, { maxLen: 16 });
  want = (await dec.generate(prompt, { maxNewTokens: steps })).tokens[0];
  dec.destroy();
});
afterAll(() => {
  gpu?.destroy();
  removeTempDirs();
});

/** Greedy tokens of `model` on Dawn. */
async function greedy(model: GPT2LMHeadModel): Promise<number[]> {
  const dec = await GptDecoder.create(gpu, model, { maxLen: 16 });
  try {
    return (await dec.generate(prompt, { maxNewTokens: steps })).tokens[0];
  } finally {
    dec.destroy();
  }
}

const sameParams = (a: GPT2LMHeadModel, b: GPT2LMHeadModel) => {
  const bp = new Map(b.namedParameters());
  for (const [n, p] of a.namedParameters()) expect(Array.from(bp.get(n)!.data), n).toEqual(Array.from(p.data));
};

describe('GPT-2 from a Hugging Face folder', () => {
  it('one model.safetensors with the attn buffers: the same parameters, the same greedy tokens on Dawn as the CPU reference', async () => {
    const dir = writeHfFolder(hfConfig(cfg), hfTensors(source));
    const model = await loadGPT2FromFolder(dir);
    expect(model.config).toEqual({ ...cfg, layerNormEpsilon: 1e-5 });
    sameParams(source, model);
    expect(model.lmHeadWeight).toBeNull();
    expect(await greedy(model)).toEqual(want);
  });
  it('three shards with an index, without the transformer. prefix, torch lm_head.weight equal to wte: tied, progress summed', async () => {
    const t = hfTensors(source, { lmHead: source.transformer.wte.weight.data.slice() });
    const plain = Object.fromEntries(Object.entries(t).map(([n, v]) => [n.replace(/^transformer\./, ''), v]));
    const dir = writeHfFolder(hfConfig(cfg), plain, 3);
    const events: LoadProgress[] = [];
    const model = await loadGPT2FromFolder(dir, { onProgress: (p) => events.push({ ...p }) });
    expect(model.lmHeadWeight).toBeNull();
    const files = shardFiles(plain, 3);
    const total = Object.entries(files).filter(([n]) => n.endsWith('.safetensors')).reduce((a, [, b]) => a + b.length, 0);
    expect(events[events.length - 1]).toEqual({ loaded: total, total });
    expect(await greedy(model)).toEqual(want);
  });
  it('an lm_head.weight that differs from wte loads untied, and the head reads it', async () => {
    const head = randn(cfg.vocabSize * cfg.nEmbd, 99, 0.5);
    const model = await loadGPT2FromFolder(writeHfFolder(hfConfig(cfg), hfTensors(source, { lmHead: head }), 2));
    expect(Array.from(model.lmHeadWeight!.data)).toEqual(Array.from(head));
    // The CPU reference of the same untied model, built from the file's tensors.
    const ref = gpt2FromHuggingFace(hfConfig(cfg), readSafetensors(writeSafetensors(hfTensors(source, { lmHead: head }))));
    const dec = await GptDecoder.create(Runtime.cpu(), ref, { maxLen: 16 });
    const untied = (await dec.generate(prompt, { maxNewTokens: steps })).tokens[0];
    dec.destroy();
    expect(untied).not.toEqual(want); // the head matters: these weights give other tokens tied
    expect(await greedy(model)).toEqual(untied);
  });
  it('building the model to load draws no random values: the seeded generator is where it was', () => {
    const small = { vocabSize: 5, nPositions: 4, nEmbd: 4, nLayer: 1, nHead: 1 };
    setInitSeed(5);
    const a = new GPT2LMHeadModel(small).namedParameters();
    setInitSeed(5);
    gpt2FromHuggingFace(hfConfig(cfg), readSafetensors(writeSafetensors(hfTensors(source))));
    const b = new GPT2LMHeadModel(small).namedParameters();
    b.forEach(([n, p], i) => expect(Array.from(p.data), n).toEqual(Array.from(a[i][1].data)));
  });
  it('over HTTP: config.json, the index and its shards fetched beside each other; or model.safetensors where there is no index', async () => {
    const sharded = { 'config.json': new TextEncoder().encode(JSON.stringify(hfConfig(cfg))), ...shardFiles(hfTensors(source), 2) };
    const single = { 'config.json': sharded['config.json'], ...shardFiles(hfTensors(source), 1) };
    const srv = await serve({ ...routesOf(sharded, '/sharded/'), ...routesOf(single, '/single/') });
    try {
      const events: LoadProgress[] = [];
      const a = await loadGPT2FromUrl(`${srv.url}/sharded`, { onProgress: (p) => events.push({ ...p }) });
      sameParams(source, a);
      expect(events[events.length - 1].loaded).toBe(events[events.length - 1].total);
      const b = await loadGPT2FromUrl(`${srv.url}/single/`);
      sameParams(source, b);
      expect(await greedy(b)).toEqual(want);
    } finally {
      await srv.close();
    }
  });
});

describe('GPT-2 from a Hugging Face folder: bad input', () => {
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['activation_function', { activation_function: 'relu' }, /activation_function is "relu"; seqgpu's GPT-2 implements gelu_new and gelu_pytorch_tanh/],
    ['activation_function', { activation_function: 'gelu' }, /activation_function is "gelu"/],
    ['n_inner', { n_inner: 100 }, /n_inner is 100; seqgpu's GPT-2 implements an MLP of 4 \* n_embd = 96/],
    ['scale_attn_weights', { scale_attn_weights: false }, /scale_attn_weights is false/],
    ['scale_attn_by_inverse_layer_idx', { scale_attn_by_inverse_layer_idx: true }, /scale_attn_by_inverse_layer_idx is true/],
    ['add_cross_attention', { add_cross_attention: true }, /add_cross_attention is true/],
    ['model_type', { model_type: 'llama' }, /model_type is "llama"/],
    ['n_head', { n_head: 5 }, /n_head is 5; n_embd 24 is not a multiple of it/],
    ['vocab_size', { vocab_size: '67' }, /vocab_size is "67"; it must be a positive integer/],
    ['n_layer', { n_layer: 0 }, /n_layer is 0/],
    ['layer_norm_epsilon', { layer_norm_epsilon: -1 }, /layer_norm_epsilon is -1/],
    ['tie_word_embeddings', { tie_word_embeddings: 'yes' }, /tie_word_embeddings is "yes"; it must be true or false/],
  ];
  it.each(refused)('config %s the engine does not implement: a ConfigError naming the key and value', async (key, extra, msg) => {
    const e = (() => { try { gpt2ConfigFromHuggingFace(hfConfig(cfg, extra)); } catch (x) { return x; } })() as ConfigError;
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.name).toBe('ConfigError');
    expect([e.key, e.value]).toEqual([key, extra[key]]);
    expect(e.message).toMatch(msg);
    const dir = writeHfFolder(hfConfig(cfg, extra), hfTensors(source));
    await expect(loadGPT2FromFolder(dir)).rejects.toThrow(ConfigError);
  });
  it('defaults fill absent keys; training-only keys and reorder_and_upcast_attn are accepted', () => {
    expect(gpt2ConfigFromHuggingFace({})).toEqual({ vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, layerNormEpsilon: 1e-5 });
    expect(gpt2ConfigFromHuggingFace(hfConfig(cfg, { reorder_and_upcast_attn: true, n_inner: 96, activation_function: 'gelu_pytorch_tanh' })).nEmbd).toBe(24);
    expect(() => gpt2ConfigFromHuggingFace([1])).toThrow(/config.json: the config is \[1\], not a JSON object/);
  });
  it('a config whose shapes disagree with the file: one StateDictError listing every mismatch', async () => {
    const dir = writeHfFolder(hfConfig({ ...cfg, nEmbd: 30, nLayer: 3 }), hfTensors(source), 2);
    const e = await loadGPT2FromFolder(dir).then(() => undefined, (x: unknown) => x) as StateDictError;
    expect(e).toBeInstanceOf(StateDictError);
    // Every layer-2 parameter missing, every tensor of the file with E in its shape misshapen.
    expect(e.missing).toHaveLength(12);
    expect(e.missing).toContain('transformer.h.2.attn.c_attn.weight');
    expect(e.mismatched.map((m) => m.name)).toEqual(expect.arrayContaining(['transformer.wte.weight', 'transformer.h.1.mlp.c_fc.weight', 'transformer.ln_f.bias']));
    expect(e.mismatched.find((m) => m.name === 'transformer.wte.weight')).toEqual({ name: 'transformer.wte.weight', expected: [67, 30], got: [67, 24] });
    expect(e.message).toMatch(/^loadStateDict: nothing loaded; missing 12: .*; wrong shape \d+: /);
  });
  it('tie_word_embeddings false without lm_head.weight: a StateDictError naming it (with the other faults)', async () => {
    let dir = writeHfFolder(hfConfig(cfg, { tie_word_embeddings: false }), hfTensors(source));
    await expect(loadGPT2FromFolder(dir)).rejects.toThrow(/^loadStateDict: nothing loaded; missing 1: lm_head.weight$/);
    const t = hfTensors(source);
    delete t['transformer.ln_f.bias'];
    dir = writeHfFolder(hfConfig(cfg, { tie_word_embeddings: false }), t);
    await expect(loadGPT2FromFolder(dir)).rejects.toThrow(/missing 2: transformer.ln_f.bias, lm_head.weight/);
    dir = writeHfFolder(hfConfig(cfg, { tie_word_embeddings: false }), hfTensors(source, { lmHead: source.transformer.wte.weight.data }));
    expect((await loadGPT2FromFolder(dir)).lmHeadWeight).toBeNull();
  });
  it('a missing shard, a missing config.json or weights file: LoadErrors naming the file', async () => {
    const files = shardFiles(hfTensors(source), 3);
    const dir = writeHfFolder(hfConfig(cfg), hfTensors(source), 3);
    const { rmSync, writeFileSync } = await import('node:fs');
    rmSync(`${dir}/model-00002-of-00003.safetensors`);
    let e = await loadGPT2FromFolder(dir).then(() => undefined, (x: unknown) => x) as LoadError;
    expect(e).toBeInstanceOf(LoadError);
    expect([e.fault, e.file]).toEqual(['missing-shard', 'model-00002-of-00003.safetensors']);
    const empty = tempDir();
    e = await loadGPT2FromFolder(empty).then(() => undefined, (x: unknown) => x) as LoadError;
    expect(e.message).toMatch(/has no config.json/);
    writeFileSync(`${empty}/config.json`, JSON.stringify(hfConfig(cfg)));
    e = await loadGPT2FromFolder(empty).then(() => undefined, (x: unknown) => x) as LoadError;
    expect(e.message).toMatch(/has neither model.safetensors.index.json nor model.safetensors/);
    writeFileSync(`${empty}/config.json`, '{ "n_embd": 24,');
    await expect(loadGPT2FromFolder(empty)).rejects.toThrow(ConfigError);
    expect(Object.keys(files)).toContain('model.safetensors.index.json');
  });
});
