// Loading safetensors from every kind of source, in Node: bytes, a Blob, a Response, a URL over a
// local HTTP server (with and without Content-Length), files; sharded checkpoints over HTTP and
// from files; progress; and each bad input: HTTP statuses, a body cut short or too long, a source
// of the wrong kind, an index naming a missing shard, shards that disagree with their index.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LoadError, SafetensorsError, loadSafetensors, loadSafetensorsFile, loadShardedSafetensors, loadShardedSafetensorsFile,
  readSafetensors, writeSafetensors, type LoadProgress, type SafetensorsRecord,
} from '../src/node';
import { randn } from './parity';
import { removeTempDirs, routesOf, serve, shardFiles, tempDir } from './load-util';

// Awkward sizes: a scalar, one element, primes, an empty tensor.
const record: SafetensorsRecord = {
  'a.weight': { shape: [7, 13], data: randn(91, 1, 3e4) },
  'a.bias': { shape: [13], data: randn(13, 2) },
  'b.scale': { shape: [], data: Float32Array.of(-2.5) },
  'b.one': { shape: [1, 1], data: Float32Array.of(1e30) },
  'c.empty': { shape: [0, 5], data: new Float32Array(0) },
  'c.big': { shape: [3, 1031], data: randn(3 * 1031, 3, 1e3) },
};
// A plain ArrayBuffer underneath, as Blob and Response take.
const file = writeSafetensors(record) as Uint8Array<ArrayBuffer>;

/** The record a load gave, as plain values, and the progress it reported, checked for sense. */
function same(got: ReturnType<typeof readSafetensors>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(record).sort());
  for (const [k, t] of Object.entries(record)) {
    expect(got[k].shape, k).toEqual(t.shape);
    expect(Array.from(got[k].data), k).toEqual(Array.from(t.data));
  }
}
function progress(): { events: LoadProgress[]; onProgress: (p: LoadProgress) => void } {
  const events: LoadProgress[] = [];
  return { events, onProgress: (p) => events.push({ ...p }) };
}
function rising(events: LoadProgress[], total: number | undefined, end: number): void {
  expect(events.length).toBeGreaterThan(0);
  events.forEach((e, i) => {
    expect(e.total).toBe(total);
    if (i) expect(e.loaded).toBeGreaterThanOrEqual(events[i - 1].loaded);
  });
  expect(events[events.length - 1].loaded).toBe(end);
}
/** The rejection of `p`, which must be a LoadError. */
async function loadError(p: Promise<unknown>): Promise<LoadError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(LoadError);
  expect((e as Error).name).toBe('LoadError');
  return e as LoadError;
}

describe('loadSafetensors: sources', () => {
  it('bytes (Uint8Array, ArrayBuffer, a Node Buffer at an offset) read in place, progress once', async () => {
    const p = progress();
    same(await loadSafetensors(file, p));
    expect(p.events).toEqual([{ loaded: file.length, total: file.length }]);
    same(await loadSafetensors(file.slice().buffer));
    const pool = Buffer.alloc(file.length + 24);
    pool.set(file, 24);
    same(await loadSafetensors(pool.subarray(24)));
  });
  it('a Blob and a Response (with and without a Content-Length) stream with progress', async () => {
    let p = progress();
    same(await loadSafetensors(new Blob([file.subarray(0, 100), file.subarray(100)]), p));
    rising(p.events, file.length, file.length);
    p = progress();
    same(await loadSafetensors(new Response(file, { headers: { 'Content-Length': String(file.length) } }), p));
    rising(p.events, file.length, file.length);
    p = progress();
    same(await loadSafetensors(new Response(new Blob([file]).stream()), p));
    rising(p.events, undefined, file.length);
  });
  it('a source of another kind is a LoadError naming it', async () => {
    for (const bad of [42, null, {}, [1, 2], new Float32Array(4)]) {
      const e = await loadError(loadSafetensors(bad as never));
      expect(e.fault).toBe('source');
      expect(e.message).toMatch(/a weights source is a URL, a Response, a Blob, an ArrayBuffer or a Uint8Array; got/);
    }
  });
  it('a malformed file is still a SafetensorsError', async () => {
    await expect(loadSafetensors(file.subarray(0, 20))).rejects.toThrow(SafetensorsError);
    await expect(loadSafetensors(new Blob([file.subarray(0, 20)]))).rejects.toThrow(/^safetensors: the blob: the header length \d+ runs past the end of the 20-byte file$/);
  });
});

/** A file of F16 and BF16 tensors (writeSafetensors writes F32 only): header, then the 16-bit patterns. */
function file16(): { bytes: Uint8Array<ArrayBuffer>; half: Uint16Array; brain: Uint16Array } {
  const half = Uint16Array.from({ length: 13 }, (_, i) => 0x3c00 + i * 17), brain = Uint16Array.from({ length: 6 }, (_, i) => 0x3f80 + i);
  let json = JSON.stringify({ h: { dtype: 'F16', shape: [13], data_offsets: [0, 26] }, b: { dtype: 'BF16', shape: [2, 3], data_offsets: [26, 38] } });
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const bytes = new Uint8Array(8 + json.length + 38);
  new DataView(bytes.buffer).setUint32(0, json.length, true);
  bytes.set(new TextEncoder().encode(json), 8);
  bytes.set(new Uint8Array(half.buffer), 8 + json.length);
  bytes.set(new Uint8Array(brain.buffer), 8 + json.length + 26);
  return { bytes, half, brain };
}

describe('loadSafetensors: what it keeps', () => {
  it('the file is held once: every f32 tensor of a streamed load is a view on one buffer of the file\'s size', async () => {
    const got = await loadSafetensors(new Blob([file]));
    const buffers = new Set(Object.values(got).map((t) => t.data.buffer));
    expect(buffers.size).toBe(1);
    expect([...buffers][0].byteLength).toBe(file.length);
  });
  it('keep16: F16 and BF16 tensors come back as their 16-bit patterns; without it, widened to f32', async () => {
    const { bytes, half, brain } = file16();
    const got = await loadSafetensors(new Blob([bytes]), { keep16: true });
    expect([got.h.dtype, got.h.data instanceof Uint16Array, Array.from(got.h.data)]).toEqual(['F16', true, Array.from(half)]);
    expect([got.b.dtype, got.b.shape, Array.from(got.b.data)]).toEqual(['BF16', [2, 3], Array.from(brain)]);
    const wide = await loadSafetensors(bytes);
    expect(wide.h.data).toBeInstanceOf(Float32Array);
    expect(wide.h.data[0]).toBe(1);
    expect(wide.b.data[0]).toBe(1);
  });
});

describe('loadSafetensors over HTTP', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  const shards = shardFiles(record, 3);
  beforeAll(async () => {
    srv = await serve({
      '/model.safetensors': { body: file },
      '/chunked.safetensors': { body: file, chunked: true },
      '/cut.safetensors': { body: file, cutAt: 1000 },
      '/broken.safetensors': { body: file, status: 500 },
      ...routesOf(shards, '/sharded/'),
      ...routesOf(shards, '/nohead/', { noHead: true }),
      ...routesOf(Object.fromEntries(Object.entries(shards).filter(([n]) => n !== 'model-00002-of-00003.safetensors')), '/gap/'),
      ...routesOf({ ...shards, 'model-00003-of-00003.safetensors': writeSafetensors({ 'c.big': record['c.big'], stray: record['b.scale'] }) }, '/stray/'),
      ...routesOf({ ...shards }, '/cutshard/'),
      '/cutshard/model-00002-of-00003.safetensors': { body: shards['model-00002-of-00003.safetensors'], cutAt: 10 },
      '/badindex/model.safetensors.index.json': { body: new TextEncoder().encode('{"weight_map": {"a": "../../etc/passwd"}}') },
    });
  });
  afterAll(() => srv?.close());

  it('a URL with Content-Length: progress up to the total', async () => {
    const p = progress();
    same(await loadSafetensors(`${srv.url}/model.safetensors`, p));
    rising(p.events, file.length, file.length);
    expect(p.events.length).toBeGreaterThan(1);
    same(await loadSafetensors(new URL(`${srv.url}/model.safetensors`)));
  });
  it('a URL without Content-Length: total undefined, the bytes joined once', async () => {
    const p = progress();
    same(await loadSafetensors(`${srv.url}/chunked.safetensors`, p));
    rising(p.events, undefined, file.length);
  });
  it('a download cut short is a LoadError naming the bytes expected and received', async () => {
    const e = await loadError(loadSafetensors(`${srv.url}/cut.safetensors`));
    expect(['network', 'length']).toContain(e.fault);
    expect(e.expectedBytes).toBe(file.length);
    expect(e.receivedBytes).toBeLessThanOrEqual(1000);
    expect(e.message).toContain(`${srv.url}/cut.safetensors`);
    expect(e.message).toMatch(new RegExp(`after ${e.receivedBytes} bytes of the ${file.length} announced|got ${e.receivedBytes} bytes of the ${file.length} announced`));
  });
  it('a body shorter or longer than its Content-Length (a Response that ends cleanly) is a LoadError', async () => {
    let e = await loadError(loadSafetensors(new Response(file.subarray(0, 500), { headers: { 'Content-Length': String(file.length) } })));
    expect([e.fault, e.expectedBytes, e.receivedBytes]).toEqual(['length', file.length, 500]);
    expect(e.message).toBe(`load: the response: the download was cut short: got 500 bytes of the ${file.length} announced`);
    e = await loadError(loadSafetensors(new Response(file, { headers: { 'Content-Length': '64' } })));
    expect([e.fault, e.expectedBytes]).toEqual(['length', 64]);
    expect(e.message).toMatch(/got more than the 64 bytes announced/);
  });
  it('an HTTP status that is not ok, or no server, is a LoadError naming the URL and status', async () => {
    let e = await loadError(loadSafetensors(`${srv.url}/broken.safetensors`));
    expect([e.fault, e.status, e.url]).toEqual(['http-status', 500, `${srv.url}/broken.safetensors`]);
    expect(e.message).toMatch(/HTTP 500/);
    e = await loadError(loadSafetensors(`${srv.url}/nothing.safetensors`));
    expect([e.fault, e.status]).toEqual(['not-found', 404]);
    e = await loadError(loadSafetensors('http://127.0.0.1:1/x.safetensors'));
    expect(e.fault).toBe('network');
  });
  it('shards: one record, progress summed over the shards against their summed size', async () => {
    const p = progress();
    const got = await loadShardedSafetensors(`${srv.url}/sharded/model.safetensors.index.json`, p);
    same(got);
    const total = Object.entries(shards).filter(([n]) => n.endsWith('.safetensors')).reduce((a, [, b]) => a + b.length, 0);
    rising(p.events, total, total);
    same(await loadShardedSafetensors(`${srv.url}/sharded/`));
  });
  it('a server that refuses HEAD: the shards load, the total unknown', async () => {
    const p = progress();
    same(await loadShardedSafetensors(`${srv.url}/nohead/model.safetensors.index.json`, p));
    const total = Object.entries(shards).filter(([n]) => n.endsWith('.safetensors')).reduce((a, [, b]) => a + b.length, 0);
    rising(p.events, undefined, total);
  });
  it('an index naming a missing shard is a LoadError naming the file; nothing is returned', async () => {
    const e = await loadError(loadShardedSafetensors(`${srv.url}/gap/model.safetensors.index.json`));
    expect([e.fault, e.file, e.status]).toEqual(['missing-shard', 'model-00002-of-00003.safetensors', 404]);
    expect(e.message).toMatch(/names the shard model-00002-of-00003.safetensors, which is not there/);
    // Found by HEAD before any shard was downloaded.
    expect(srv.hits.filter((h) => h.startsWith('GET /gap/'))).toEqual(['GET /gap/model.safetensors.index.json']);
  });
  it('a shard cut short fails the whole load, naming its URL and bytes', async () => {
    const e = await loadError(loadShardedSafetensors(`${srv.url}/cutshard/model.safetensors.index.json`));
    expect(e.url).toBe(`${srv.url}/cutshard/model-00002-of-00003.safetensors`);
    expect(e.expectedBytes).toBe(shards['model-00002-of-00003.safetensors'].length);
    expect(e.receivedBytes).toBeLessThanOrEqual(10);
  });
  it('shards that disagree with the index, and an index naming files outside its folder, are LoadErrors listing every name', async () => {
    let e = await loadError(loadShardedSafetensors(`${srv.url}/stray/model.safetensors.index.json`));
    expect(e.fault).toBe('shard-content');
    expect(e.message).toMatch(/'stray' in model-00003-of-00003.safetensors is not in weight_map/);
    expect(e.message).toMatch(/'c.empty' is not in model-00003-of-00003.safetensors/);
    e = await loadError(loadShardedSafetensors(`${srv.url}/badindex/model.safetensors.index.json`));
    expect(e.fault).toBe('index');
    expect(e.message).toMatch(/weight_map\['a'\] is "..\/..\/etc\/passwd", not a shard file beside the index/);
  });
});

describe('loading files (seqgpu/node)', () => {
  afterAll(removeTempDirs);
  const dir = tempDir();
  const shards = shardFiles(record, 2);
  for (const [n, b] of Object.entries(shards)) writeFileSync(join(dir, n), b);
  writeFileSync(join(dir, 'one.safetensors'), file);
  const gapDir = tempDir();
  writeFileSync(join(gapDir, 'model.safetensors.index.json'), shards['model.safetensors.index.json']);
  writeFileSync(join(gapDir, 'model-00001-of-00002.safetensors'), shards['model-00001-of-00002.safetensors']);

  it('a file, by path or file: URL, with progress to its size', async () => {
    const p = progress();
    same(await loadSafetensorsFile(join(dir, 'one.safetensors'), p));
    rising(p.events, file.length, file.length);
    same(await loadSafetensorsFile(new URL(`file://${join(dir, 'one.safetensors')}`)));
  });
  it('keep16 from a file, and from shards', async () => {
    const { bytes, half } = file16();
    writeFileSync(join(dir, 'half.safetensors'), bytes);
    const got = await loadSafetensorsFile(join(dir, 'half.safetensors'), { keep16: true });
    expect([got.h.dtype, Array.from(got.h.data)]).toEqual(['F16', Array.from(half)]);
    writeFileSync(join(dir, 'half.index.json'), JSON.stringify({ weight_map: { h: 'half.safetensors', b: 'half.safetensors' } }));
    const sharded = await loadShardedSafetensorsFile(join(dir, 'half.index.json'), { keep16: true });
    expect(sharded.b.data).toBeInstanceOf(Uint16Array);
  });
  it('shards from files, progress summed', async () => {
    const p = progress();
    same(await loadShardedSafetensorsFile(join(dir, 'model.safetensors.index.json'), p));
    same(await loadShardedSafetensorsFile(dir));
    const total = shards['model-00001-of-00002.safetensors'].length + shards['model-00002-of-00002.safetensors'].length;
    rising(p.events, total, total);
  });
  it('a missing file, and an index naming a missing shard, are LoadErrors naming the file, before any shard is read', async () => {
    let e = await loadError(loadSafetensorsFile(join(dir, 'none.safetensors')));
    expect([e.fault, e.url]).toEqual(['not-found', join(dir, 'none.safetensors')]);
    const p = progress();
    e = await loadError(loadShardedSafetensorsFile(join(gapDir, 'model.safetensors.index.json'), p));
    expect([e.fault, e.file]).toEqual(['missing-shard', 'model-00002-of-00002.safetensors']);
    expect(e.message).toContain(join(gapDir, 'model-00002-of-00002.safetensors'));
    expect(p.events).toEqual([]);
  });
});
