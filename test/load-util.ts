// Plumbing of the loading tests: a local HTTP server whose routes can misbehave as real downloads
// do (no Content-Length, a status, a body cut short), and a Hugging Face GPT-2 checkpoint folder
// written from a module (HF names, Conv1D [in, out] weights, attn.bias buffers, shards + index).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors, type GPT2Config, type GPT2LMHeadModel, type SafetensorsRecord } from '../src/node';

/** How a route answers: its bytes, and optionally a status, no Content-Length, or a cut after `cutAt` bytes. */
export interface Route {
  body: Uint8Array;
  status?: number;
  /** Sent chunked, without Content-Length. */
  chunked?: boolean;
  /** Content-Length says the whole body; the connection is destroyed after this many bytes. */
  cutAt?: number;
  /** HEAD is refused (405), as some servers do. */
  noHead?: boolean;
}

/** Serves `routes` (path → route) on 127.0.0.1 with CORS open, so a page of another origin may fetch; `hits` records each request as 'METHOD /path'. */
export async function serve(routes: Record<string, Route>): Promise<{ url: string; close: () => Promise<void>; hits: string[] }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.push(`${req.method} ${path}`);
    const cors = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' };
    const r = routes[path];
    if (!r) {
      res.writeHead(404, cors).end('not found');
      return;
    }
    if (r.noHead && req.method === 'HEAD') {
      res.writeHead(405, cors).end();
      return;
    }
    const headers: Record<string, string | number> = { ...cors, 'Content-Type': 'application/octet-stream' };
    if (!r.chunked) headers['Content-Length'] = r.body.length;
    res.writeHead(r.status ?? 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (r.cutAt !== undefined) {
      res.write(r.body.subarray(0, r.cutAt), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    // In pieces a few milliseconds apart, so a reader sees several chunks.
    const step = Math.max(1, Math.ceil(r.body.length / 5));
    const send = (i: number) => {
      if (i >= r.body.length) res.end();
      else res.write(r.body.subarray(i, i + step), () => setTimeout(() => send(i + step), 5));
    };
    send(0);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    hits,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

const made: string[] = [];

/** A new temporary folder, removed by removeTempDirs(). */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'seqgpu-hf-'));
  made.push(d);
  return d;
}

/** Removes every folder tempDir() (and writeHfFolder without a dir) made. */
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A Hugging Face GPT-2 config.json for `c`, with `extra` keys laid over it. */
export function hfConfig(c: GPT2Config, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', activation_function: 'gelu_new', attn_pdrop: 0.1, embd_pdrop: 0.1,
    resid_pdrop: 0.1, bos_token_id: c.vocabSize - 1, eos_token_id: c.vocabSize - 1, initializer_range: 0.02,
    layer_norm_epsilon: c.layerNormEpsilon ?? 1e-5, n_ctx: c.nPositions, n_embd: c.nEmbd, n_head: c.nHead, n_inner: null,
    n_layer: c.nLayer, n_positions: c.nPositions, reorder_and_upcast_attn: false, scale_attn_by_inverse_layer_idx: false,
    scale_attn_weights: true, summary_activation: null, summary_first_dropout: 0.1, summary_proj_to_labels: true,
    summary_type: 'cls_index', summary_use_proj: true, task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
    torch_dtype: 'float32', transformers_version: '4.44.0', use_cache: true, vocab_size: c.vocabSize, ...extra,
  };
}

/**
 * A GPT2LMHeadModel's tensors under the names transformers writes (`transformer.` prefix, Conv1D
 * weights [in, out] as the module holds them), with each layer's `attn.bias` (the causal mask
 * [1, 1, P, P]) and `attn.masked_bias` (a scalar) as older files hold them.
 */
export function hfTensors(model: GPT2LMHeadModel, { buffers = true, lmHead }: { buffers?: boolean; lmHead?: Float32Array } = {}): SafetensorsRecord {
  const P = model.config.nPositions;
  const out: SafetensorsRecord = {};
  for (const [name, p] of model.namedParameters()) {
    const layer = /^transformer\.h\.(\d+)\.attn\.c_attn\.weight$/.exec(name);
    if (layer && buffers) {
      const mask = new Float32Array(P * P).map((_, i) => (i % P <= Math.floor(i / P) ? 1 : 0));
      out[`transformer.h.${layer[1]}.attn.bias`] = { shape: [1, 1, P, P], data: mask };
      out[`transformer.h.${layer[1]}.attn.masked_bias`] = { shape: [], data: Float32Array.of(-1e4) };
    }
    out[name] = { shape: p.shape.slice(), data: p.data };
  }
  if (lmHead) out['lm_head.weight'] = { shape: [model.config.vocabSize, model.config.nEmbd], data: lmHead };
  return out;
}

/**
 * Writes a checkpoint folder: config.json, and model.safetensors, or (shards > 1) that many
 * model-0000i-of-0000n.safetensors files and model.safetensors.index.json. Returns its path.
 */
export function writeHfFolder(config: Record<string, unknown>, tensors: SafetensorsRecord, shards = 1, dir?: string): string {
  const root = dir ?? tempDir();
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'config.json'), JSON.stringify(config, null, 2));
  for (const [name, bytes] of Object.entries(shardFiles(tensors, shards))) writeFileSync(join(root, name), bytes);
  return root;
}

/** The files of a checkpoint: model.safetensors, or shards and their index. */
export function shardFiles(tensors: SafetensorsRecord, shards: number): Record<string, Uint8Array> {
  if (shards === 1) return { 'model.safetensors': writeSafetensors(tensors) };
  const names = Object.keys(tensors);
  const per = Math.ceil(names.length / shards);
  const files: Record<string, Uint8Array> = {};
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part: SafetensorsRecord = {};
    for (const n of names.slice(s * per, (s + 1) * per)) {
      part[n] = tensors[n];
      weightMap[n] = file;
      totalSize += tensors[n].data.byteLength;
    }
    files[file] = writeSafetensors(part);
  }
  files['model.safetensors.index.json'] = new TextEncoder().encode(JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }));
  return files;
}

/** Routes serving `files` under `prefix`. */
export const routesOf = (files: Record<string, Uint8Array>, prefix = '/', how: Omit<Route, 'body'> = {}): Record<string, Route> =>
  Object.fromEntries(Object.entries(files).map(([n, body]) => [`${prefix}${n}`, { body, ...how }]));
