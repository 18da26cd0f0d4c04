// Loading safetensors weights from where they live: a URL, a Response, a Blob or bytes, and sharded
// checkpoints (model.safetensors.index.json). A body is streamed into one buffer allocated up front
// from its announced size, so the file is held once; the tensors are then read from that buffer.
// Every fault (an HTTP status, a download cut short, an index naming a shard that is not there) is
// a LoadError raised before anything is returned, so no caller ever holds a half-loaded record.
// File reading lives in seqgpu/node (src/node.ts), which opens files as the bodies defined here.
import { InputError, errorName } from '../errors';
import { SafetensorsError, readSafetensors, type SafetensorsTensor, type SafetensorsTensor16 } from './safetensors';

/** Where a safetensors file comes from: a URL (string or URL), a fetched Response, a Blob (a File), or its bytes. */
export type WeightsSource = string | URL | Response | Blob | ArrayBuffer | Uint8Array;

/** Bytes received so far, and the bytes expected in all (undefined while the size is unknown). */
export interface LoadProgress {
  /** Bytes received so far (summed over the shards of a sharded checkpoint). */
  loaded: number;
  /** The bytes expected in all, from Content-Length or Blob.size; undefined when a source does not say. */
  total: number | undefined;
}

/** Options of the loaders: progress, 16-bit tensors kept as they are, and the fetch to use. */
export interface LoadOptions {
  /** Called as bytes arrive (at least once per source, with the final count). */
  onProgress?: (p: LoadProgress) => void;
  /** Keep F16 and BF16 tensors as Uint16Array data instead of widening them to f32 (readSafetensors' option). */
  keep16?: boolean;
  /** The fetch to use for URLs (to add headers, say); the global fetch by default. */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
}

/** Which load check failed. */
export type LoadFault =
  | 'source'
  | 'http-status'
  | 'network'
  | 'length'
  | 'not-found'
  | 'index'
  | 'missing-shard'
  | 'shard-content';

/** What a LoadError knows about the transfer it stopped: each field where it applies. */
export interface LoadErrorDetails {
  /** The URL or file path. */
  url?: string;
  /** The HTTP status of a response that was not ok. */
  status?: number;
  /** The bytes announced (Content-Length, Blob.size, the file's size). */
  expectedBytes?: number;
  /** The bytes received before the fault. */
  receivedBytes?: number;
  /** The shard file an index names. */
  file?: string;
}

/** A download or a file that could not be loaded whole: nothing of it is returned. */
export class LoadError extends InputError {
  /** The URL or file path. */
  readonly url?: string;
  /** The HTTP status of a response that was not ok. */
  readonly status?: number;
  /** The bytes announced (Content-Length, Blob.size, the file's size). */
  readonly expectedBytes?: number;
  /** The bytes received before the fault. */
  readonly receivedBytes?: number;
  /** The shard file an index names. */
  readonly file?: string;
  /**
   * An error of the `fault` kind; the message is prefixed with 'load: ' and `details` become the
   * error's fields (url, status, expectedBytes, receivedBytes, file).
   */
  constructor(
    /** Which check failed. */
    readonly fault: LoadFault,
    message: string,
    details: LoadErrorDetails = {},
  ) {
    super(`load: ${message}`);
    Object.assign(this, details);
  }
}
errorName(LoadError, 'LoadError');

/**
 * A source opened (headers read, size known where it is said) but not yet read. Internal: the
 * loaders and seqgpu/node's file reading share it.
 * @internal
 */
export interface OpenedBody {
  /** The URL or path, for messages. */
  what: string;
  total: number | undefined;
  /** Reads the whole body into one buffer; `onBytes` gets the running count. */
  read(onBytes: (loaded: number) => void): Promise<Uint8Array>;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Streams `stream` into one buffer of `total` bytes, or (size unknown) gathers the chunks and joins
 * them once at the end. A body shorter or longer than announced, or one that fails midway, is a
 * LoadError naming the bytes expected and received.
 * @internal
 */
export async function readStream(
  stream: ReadableStream<Uint8Array>, total: number | undefined, what: string, onBytes: (loaded: number) => void,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const buf = total === undefined ? undefined : new Uint8Array(total);
  const chunks: Uint8Array[] = [];
  const of = total === undefined ? '' : ` of the ${total} announced`;
  let loaded = 0;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        throw new LoadError('network', `${what}: the download failed after ${loaded} bytes${of}: ${message(e)}`,
          { url: what, expectedBytes: total, receivedBytes: loaded });
      }
      if (r.done) break;
      const c = r.value;
      if (buf) {
        if (loaded + c.length > buf.length) {
          throw new LoadError('length', `${what}: got more than the ${total} bytes announced (at least ${loaded + c.length})`,
            { url: what, expectedBytes: total, receivedBytes: loaded + c.length });
        }
        buf.set(c, loaded);
      } else {
        chunks.push(c);
      }
      loaded += c.length;
      onBytes(loaded);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
  if (buf) {
    if (loaded !== buf.length) {
      throw new LoadError('length', `${what}: the download was cut short: got ${loaded} bytes${of}`,
        { url: what, expectedBytes: total, receivedBytes: loaded });
    }
    return buf;
  }
  // Size unknown: one exact buffer, the chunks let go of as they are copied.
  const out = new Uint8Array(loaded);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    out.set(chunks[i], at);
    at += chunks[i].length;
    chunks[i] = out.subarray(0, 0);
  }
  if (loaded === 0) onBytes(0);
  return out;
}

/** The announced body size, unless the body is content-encoded (then the header counts other bytes). */
function announced(res: Response): number | undefined {
  const enc = res.headers.get('content-encoding');
  if (enc && enc !== 'identity') return undefined;
  const h = res.headers.get('content-length');
  const n = h === null ? NaN : Number(h);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function openResponse(res: Response, what: string): OpenedBody {
  if (!res.ok) {
    res.body?.cancel().catch(() => {});
    throw new LoadError(res.status === 404 ? 'not-found' : 'http-status', `${what}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
      { url: what, status: res.status });
  }
  const total = announced(res);
  return {
    what,
    total,
    read: (onBytes) => (res.body ? readStream(res.body, total, what, onBytes) : emptyBody(total, what, onBytes)),
  };
}

async function emptyBody(total: number | undefined, what: string, onBytes: (n: number) => void): Promise<Uint8Array> {
  if (total) throw new LoadError('length', `${what}: the download was cut short: got 0 bytes of the ${total} announced`, { url: what, expectedBytes: total, receivedBytes: 0 });
  onBytes(0);
  return new Uint8Array(0);
}

/** A URL as the text that fetch gets and messages show. */
function urlText(u: string | URL): string {
  return typeof u === 'string' ? u : u.href;
}

async function fetchUrl(url: string, opts: LoadOptions): Promise<Response> {
  const f = opts.fetch ?? globalThis.fetch;
  if (typeof f !== 'function') throw new LoadError('source', `${url}: this runtime has no fetch`, { url });
  try {
    return await f(url);
  } catch (e) {
    throw new LoadError('network', `${url}: the request failed: ${message(e)}`, { url });
  }
}

/**
 * Opens any WeightsSource: fetches a URL (status checked, size from Content-Length), or wraps a
 * Response, a Blob or bytes.
 * @internal
 */
export async function openSource(source: WeightsSource, opts: LoadOptions = {}): Promise<OpenedBody> {
  if (typeof source === 'string' || source instanceof URL) {
    const url = urlText(source);
    return openResponse(await fetchUrl(url, opts), url);
  }
  if (typeof Response !== 'undefined' && source instanceof Response) return openResponse(source, source.url || 'the response');
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const what = typeof File !== 'undefined' && source instanceof File ? source.name : 'the blob';
    return { what, total: source.size, read: (onBytes) => readStream(source.stream(), source.size, what, onBytes) };
  }
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    return { what: 'the bytes', total: bytes.length, read: async (onBytes) => (onBytes(bytes.length), bytes) };
  }
  throw new LoadError('source', `a weights source is a URL, a Response, a Blob, an ArrayBuffer or a Uint8Array; got ${describe(source)}`);
}

const describe = (v: unknown) => (v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v);

/** A loaded file's tensors by name, each as readSafetensors returns it (f32). */
export type TensorRecord = Record<string, SafetensorsTensor>;
/** A file's tensors loaded with `keep16: true`: F16 and BF16 ones as their 16-bit patterns. */
export type TensorRecord16 = Record<string, SafetensorsTensor | SafetensorsTensor16>;

/**
 * readSafetensors with its options, a fault naming the file.
 * @internal
 */
export function parseSafetensors(bytes: Uint8Array, keep16: boolean | undefined, what: string): TensorRecord16 {
  try {
    return readSafetensors(bytes, { keep16: keep16 === true });
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(e.fault, `${what}: ${e.message.replace(/^safetensors: /, '')}`);
    throw e;
  }
}

/**
 * Loads a safetensors file from a URL, a Response, a Blob or bytes, streaming the body into one
 * buffer sized from Content-Length (or Blob.size) and reporting `onProgress({ loaded, total })` as
 * bytes arrive, then reads it as {@link readSafetensors} does (`keep16` keeps 16-bit tensors).
 * The file is held once: its bytes are not copied again after the download. A failed request, an
 * HTTP status that is not ok, or a body shorter or longer than announced is a {@link LoadError}
 * naming the URL, the status or the bytes expected and received; a malformed file a
 * SafetensorsError.
 */
export function loadSafetensors(source: WeightsSource, opts?: LoadOptions & { keep16?: false }): Promise<TensorRecord>;
/** With `keep16: true`: F16 and BF16 tensors as their 16-bit patterns (Uint16Array). */
export function loadSafetensors(source: WeightsSource, opts: LoadOptions): Promise<TensorRecord16>;
export async function loadSafetensors(source: WeightsSource, opts: LoadOptions = {}): Promise<TensorRecord16> {
  const body = await openSource(source, opts);
  const bytes = await body.read((loaded) => opts.onProgress?.({ loaded, total: body.total }));
  return parseSafetensors(bytes, opts.keep16, body.what);
}

/** A checked `model.safetensors.index.json`: every tensor's shard, and the shard files in order. */
export interface ShardIndex {
  /** Tensor name → shard file, as the index gives it. */
  weightMap: Record<string, string>;
  /** The distinct shard files, in first-named order. */
  files: string[];
  /** The index's `metadata` (e.g. total_size), as given. */
  metadata: Record<string, unknown>;
}

/**
 * Checks a parsed `model.safetensors.index.json` (`{ metadata?, weight_map: { name: file } }`).
 * Shard names must be plain relative paths (no `..`, not absolute).
 * @internal
 */
export function parseShardIndex(json: unknown, what: string): ShardIndex {
  const bad = (m: string) => new LoadError('index', `${what}: ${m}`, { url: what });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('the index is not a JSON object');
  const { weight_map: map, metadata } = json as Record<string, unknown>;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw bad('the index has no weight_map object');
  const entries = Object.entries(map as Record<string, unknown>);
  if (!entries.length) throw bad('weight_map names no tensor');
  const files: string[] = [];
  for (const [name, file] of entries) {
    if (typeof file !== 'string' || !file || file.startsWith('/') || /^[a-z]+:/i.test(file) || file.split(/[\\/]/).includes('..')) {
      throw bad(`weight_map['${name}'] is ${JSON.stringify(file)}, not a shard file beside the index`);
    }
    if (!files.includes(file)) files.push(file);
  }
  const weightMap: Record<string, string> = Object.create(null);
  for (const [name, file] of entries) weightMap[name] = file as string;
  return { weightMap, files, metadata: typeof metadata === 'object' && metadata !== null ? { ...metadata } : {} };
}

/**
 * Where the shards of an index come from: `size` answers first for every shard (a missing one
 * throws, before any is read; undefined where the size is unknown), then `open` opens each in turn.
 * @internal
 */
export interface ShardSource {
  size(file: string): Promise<number | undefined>;
  open(file: string): Promise<OpenedBody>;
}

/**
 * Reads the shards of an index one after another, with progress summed over them, and joins their
 * tensors into one record. Every shard's size is asked first (so the total is known before the
 * first byte, and a missing shard fails before anything is read); bodies are then opened one at a
 * time, so no connection waits on another's unread body. A tensor the index puts in a shard that
 * does not hold it, one a shard holds but the index does not name, or one in two shards, is a
 * LoadError listing every such name.
 * @internal
 */
export async function readShards(index: ShardIndex, source: ShardSource, opts: LoadOptions): Promise<TensorRecord16> {
  const sizes = await Promise.all(index.files.map((f) => source.size(f)));
  const total = sizes.every((n) => n !== undefined) ? sizes.reduce((a: number, n) => a + n!, 0) : undefined;
  const out: TensorRecord16 = Object.create(null);
  const faults: string[] = [];
  let done = 0;
  for (const file of index.files) {
    const body = await source.open(file);
    const bytes = await body.read((loaded) => opts.onProgress?.({ loaded: done + loaded, total }));
    done += bytes.length;
    const shard = parseSafetensors(bytes, opts.keep16, body.what);
    for (const name of Object.keys(shard)) {
      if (name in out) faults.push(`'${name}' is in two shards`);
      else if (index.weightMap[name] !== file) {
        faults.push(index.weightMap[name] === undefined ? `'${name}' in ${file} is not in weight_map` : `'${name}' is in ${file}, weight_map says ${index.weightMap[name]}`);
      }
      out[name] = shard[name];
    }
  }
  for (const [name, file] of Object.entries(index.weightMap)) if (!(name in out)) faults.push(`'${name}' is not in ${file}`);
  if (faults.length) throw new LoadError('shard-content', `the shards do not match the index: ${faults.join('; ')}`);
  return out;
}

/** The index text as JSON, or a LoadError naming it. @internal */
export function parseJson(bytes: Uint8Array, what: string, fault: LoadFault = 'index'): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new LoadError(fault, `${what} is not valid UTF-8 JSON: ${message(e)}`, { url: what });
  }
}

/** Resolves a file named beside `base` (a URL string, relative to the page where there is one). @internal */
export function besideUrl(file: string, base: string | URL): string {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(file, page ? new URL(urlText(base), page) : base).href;
  } catch {
    throw new LoadError('source', `cannot resolve '${file}' against ${urlText(base)}`, { url: urlText(base) });
  }
}

/** The index file's name in a Hugging Face checkpoint folder. @internal */
export const INDEX_FILE = 'model.safetensors.index.json';

/**
 * Loads a sharded checkpoint from the URL of its `model.safetensors.index.json` (or of its folder,
 * ending in `/`, where the index has that name): each shard it
 * names is fetched from beside the index, with `onProgress` summed over the shards (the total is
 * the sum of their Content-Lengths, once every shard has answered), and the tensors come back as
 * one record. A shard that is not there is a {@link LoadError} naming the file and the status; a
 * shard that does not hold what the index says, a LoadError listing every such name. Nothing is
 * returned on any fault.
 */
export function loadShardedSafetensors(indexUrl: string | URL, opts?: LoadOptions & { keep16?: false }): Promise<TensorRecord>;
/** With `keep16: true`: F16 and BF16 tensors as their 16-bit patterns (Uint16Array). */
export function loadShardedSafetensors(indexUrl: string | URL, opts: LoadOptions): Promise<TensorRecord16>;
export async function loadShardedSafetensors(indexUrl: string | URL, opts: LoadOptions = {}): Promise<TensorRecord16> {
  const given = urlText(indexUrl);
  const url = given.endsWith('/') ? besideUrl(INDEX_FILE, given) : given;
  const body = await openSource(url, opts);
  const index = parseShardIndex(parseJson(await body.read(() => {}), url), url);
  const missing = (file: string, shardUrl: string, status: number | undefined) =>
    new LoadError('missing-shard', `${url} names the shard ${file}, which is not there (${shardUrl}: HTTP ${status})`, { url: shardUrl, status, file });
  return readShards(index, {
    // HEAD: the size, and a missing shard found before any is downloaded. A server that refuses
    // HEAD (or gives no length) leaves the size unknown, and the GET decides.
    size: async (file) => {
      const shardUrl = besideUrl(file, url);
      let res: Response;
      try {
        res = await (opts.fetch ?? globalThis.fetch)(shardUrl, { method: 'HEAD' });
      } catch {
        return undefined;
      }
      if (res.status === 404) throw missing(file, shardUrl, 404);
      return res.ok ? announced(res) : undefined;
    },
    open: async (file) => {
      const shardUrl = besideUrl(file, url);
      try {
        return openResponse(await fetchUrl(shardUrl, opts), shardUrl);
      } catch (e) {
        if (e instanceof LoadError && e.fault === 'not-found') throw missing(file, shardUrl, e.status);
        throw e;
      }
    },
  }, opts);
}
