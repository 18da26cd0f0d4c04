// Loading in headless Chromium (SwiftShader here), from a local HTTP server of another origin:
// a file with progress, shards with summed progress, a download cut short, a missing shard, and
// GPT-2 from a Hugging Face folder URL decoding the CPU reference's greedy tokens on the page's GPU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPT2LMHeadModel, GptDecoder, Runtime, writeSafetensors, type GPT2Config, type SafetensorsRecord } from '../src/node';
import { chromiumPage } from './chromium-page';
import { hfConfig, hfTensors, routesOf, serve, shardFiles } from './load-util';
import { randomize } from './nn-util';
import { randn } from './parity';

const page = chromiumPage('/test/browser/load.html', '__load');

const record: SafetensorsRecord = {
  'w.weight': { shape: [11, 7], data: randn(77, 5, 1e4) },
  'w.bias': { shape: [7], data: randn(7, 6) },
  's': { shape: [], data: Float32Array.of(3.25) },
  'big': { shape: [5, 997], data: randn(5 * 997, 7) },
};
const file = writeSafetensors(record);
const shards = shardFiles(record, 2);
const shardBytes = Object.entries(shards).filter(([n]) => n.endsWith('.safetensors')).reduce((a, [, b]) => a + b.length, 0);

// More shards than a browser opens connections to one host (6 over HTTP/1.1): read one at a time.
const many: SafetensorsRecord = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`t${i}`, { shape: [i + 1, 3], data: randn(3 * (i + 1), 40 + i) }]));
const manyShards = shardFiles(many, 9);

const cfg: GPT2Config = { vocabSize: 53, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2 };
const source = new GPT2LMHeadModel(cfg);
randomize(source, 11);
const prompt = [3, 14, 15, 9];

let srv: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  srv = await serve({
    '/model.safetensors': { body: file },
    '/cut.safetensors': { body: file, cutAt: 4000 },
    ...routesOf(shards, '/sharded/'),
    ...routesOf(manyShards, '/many/'),
    ...routesOf(Object.fromEntries(Object.entries(shards).filter(([n]) => !n.startsWith('model-00001'))), '/gap/'),
    ...routesOf({ 'config.json': new TextEncoder().encode(JSON.stringify(hfConfig(cfg))), ...shardFiles(hfTensors(source), 2) }, '/gpt2/'),
  });
});
afterAll(() => srv?.close());

const values = (r: SafetensorsRecord) => Object.fromEntries(Object.entries(r).map(([n, t]) => [n, { shape: t.shape, data: Array.from(t.data) }]));

describe('loading in Chromium', () => {
  it('a URL: the tensors, and progress rising to the Content-Length', async () => {
    const r = await page().evaluate((u) => window.__load('file', u), `${srv.url}/model.safetensors`);
    expect(r.error).toBeUndefined();
    expect(r.tensors).toEqual(values(record));
    const ev = r.events!;
    expect(ev.length).toBeGreaterThan(1);
    ev.forEach((e, i) => {
      expect(e.total).toBe(file.length);
      if (i) expect(e.loaded).toBeGreaterThanOrEqual(ev[i - 1].loaded);
    });
    expect(ev[ev.length - 1].loaded).toBe(file.length);
  });
  it('shards: one record, progress summed against the shards\' summed size', async () => {
    const r = await page().evaluate((u) => window.__load('sharded', u), `${srv.url}/sharded/model.safetensors.index.json`);
    expect(r.error).toBeUndefined();
    expect(r.tensors).toEqual(values(record));
    expect(r.events![r.events!.length - 1]).toEqual({ loaded: shardBytes, total: shardBytes });
  });
  it('nine shards, more than the connections a page opens to one host', async () => {
    const r = await page().evaluate((u) => window.__load('sharded', u), `${srv.url}/many/model.safetensors.index.json`);
    expect(r.error).toBeUndefined();
    expect(r.tensors).toEqual(values(many));
    expect(Object.keys(manyShards)).toHaveLength(10);
  });
  it('a download cut short: a LoadError naming the bytes expected and received', async () => {
    const r = await page().evaluate((u) => window.__load('file', u), `${srv.url}/cut.safetensors`);
    expect(r.error?.name).toBe('LoadError');
    expect(r.error?.expectedBytes).toBe(file.length);
    expect(r.error?.receivedBytes).toBeLessThanOrEqual(4000);
    expect(r.error?.message).toContain(`of the ${file.length} announced`);
    expect(r.tensors).toBeUndefined();
  });
  it('an index naming a missing shard: a LoadError naming the file', async () => {
    const r = await page().evaluate((u) => window.__load('sharded', u), `${srv.url}/gap/model.safetensors.index.json`);
    expect(r.error).toMatchObject({ name: 'LoadError', fault: 'missing-shard', file: 'model-00001-of-00002.safetensors', status: 404 });
  });
  it("GPT-2 from a Hugging Face folder URL: the CPU reference's greedy tokens on the page's adapter", async () => {
    const steps = 6;
    const dec = await GptDecoder.create(Runtime.cpu(), source, { maxLen: prompt.length + steps });
    const want = (await dec.generate([prompt], { maxNewTokens: steps })).tokens[0];
    dec.destroy();
    const r = await page().evaluate((u, p, n) => window.__load('gpt2', u, p, n), `${srv.url}/gpt2/`, prompt, steps);
    expect(r.error, r.error?.message).toBeUndefined();
    expect(r.tokens, `on ${r.adapter}`).toEqual(want);
    expect(r.events![r.events!.length - 1].loaded).toBe(r.events![r.events!.length - 1].total);
  });
});
