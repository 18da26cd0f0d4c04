// Weights from files, for seqgpu/node only (the page bundle never imports this): a safetensors
// file read into one buffer of the file's size with progress, a sharded checkpoint's index and its
// shards beside it, and a Hugging Face GPT-2 folder (config.json with model.safetensors or the
// index and shards). Every file is checked to exist before a byte of any is read.
import { open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpt2FromHuggingFace, parseConfigJson, type GPT2LoadOptions } from './hf';
import type { GPT2LMHeadModel } from './gpt2';
import { INDEX_FILE, LoadError, parseJson, parseSafetensors, parseShardIndex, readShards, type LoadOptions, type OpenedBody, type TensorRecord, type TensorRecord16 } from './load';

const CHUNK = 16 * 2 ** 20;
const asPath = (p: string | URL) => (p instanceof URL ? fileURLToPath(p) : p);

/** Opens a file as a body of its size: a missing file is a LoadError naming it. */
async function openFile(path: string, missing: (path: string) => LoadError = notFound): Promise<OpenedBody> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new LoadError('source', `${path} is not a file`, { url: path });
    size = s.size;
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw missing(path);
    throw e instanceof LoadError ? e : new LoadError('source', `${path}: ${(e as Error).message}`, { url: path });
  }
  return { what: path, total: size, read: (onBytes) => readFileInto(path, size, onBytes) };
}

const notFound = (path: string) => new LoadError('not-found', `${path}: no such file`, { url: path });

async function readFileInto(path: string, size: number, onBytes: (n: number) => void): Promise<Uint8Array> {
  const buf = new Uint8Array(size);
  const fh = await open(path, 'r');
  let at = 0;
  try {
    while (at < size) {
      const { bytesRead } = await fh.read(buf, at, Math.min(CHUNK, size - at), at);
      if (bytesRead === 0) break;
      at += bytesRead;
      onBytes(at);
    }
  } finally {
    await fh.close();
  }
  if (at !== size) throw new LoadError('length', `${path}: got ${at} of its ${size} bytes (the file shrank while read)`, { url: path, expectedBytes: size, receivedBytes: at });
  if (size === 0) onBytes(0);
  return buf;
}

/**
 * Reads a safetensors file (a path or a file: URL) into one buffer of the file's size, reporting
 * `onProgress({ loaded, total })` as it reads, then as readSafetensors does (`keep16` keeps 16-bit
 * tensors). A missing file is a LoadError naming it.
 */
export function loadSafetensorsFile(path: string | URL, opts?: LoadOptions & { keep16?: false }): Promise<TensorRecord>;
/** With `keep16: true`: F16 and BF16 tensors as their 16-bit patterns (Uint16Array). */
export function loadSafetensorsFile(path: string | URL, opts: LoadOptions): Promise<TensorRecord16>;
export async function loadSafetensorsFile(path: string | URL, opts: LoadOptions = {}): Promise<TensorRecord16> {
  const body = await openFile(asPath(path));
  return parseSafetensors(await body.read((loaded) => opts.onProgress?.({ loaded, total: body.total })), opts.keep16, body.what);
}

/**
 * Reads a sharded checkpoint from its `model.safetensors.index.json` (a path or a file: URL; or its
 * folder, where the index has that name): every
 * shard it names, from the index's folder, with progress summed over the shards. Every shard is
 * checked to exist first: one that is not there is a LoadError naming the file. A shard that does
 * not hold what the index says is a LoadError listing every such name. Nothing is returned on a fault.
 */
export function loadShardedSafetensorsFile(indexPath: string | URL, opts?: LoadOptions & { keep16?: false }): Promise<TensorRecord>;
/** With `keep16: true`: F16 and BF16 tensors as their 16-bit patterns (Uint16Array). */
export function loadShardedSafetensorsFile(indexPath: string | URL, opts: LoadOptions): Promise<TensorRecord16>;
export async function loadShardedSafetensorsFile(indexPath: string | URL, opts: LoadOptions = {}): Promise<TensorRecord16> {
  const given = asPath(indexPath);
  const path = (await stat(given).then((s) => s.isDirectory(), () => false)) ? join(given, INDEX_FILE) : given;
  const index = parseShardIndex(parseJson(await (await openFile(path)).read(() => {}), path), path);
  const dir = dirname(path);
  const open = (file: string) => openFile(join(dir, file), (p) =>
    new LoadError('missing-shard', `${path} names the shard ${file}, which is not there (${p})`, { url: p, file }));
  return readShards(index, { size: async (file) => (await open(file)).total, open }, opts);
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * GPT-2 from a Hugging Face checkpoint folder (what `save_pretrained` writes, or a hub snapshot):
 * `config.json`, and `model.safetensors.index.json` with its shards or else `model.safetensors`.
 * `onProgress` counts the weights' bytes. Faults: a LoadError naming a missing file, a ConfigError
 * naming a config value the engine does not implement, a StateDictError listing every tensor that
 * disagrees with the config; nothing half-loaded is returned.
 */
export async function loadGPT2FromFolder(dir: string | URL, opts: GPT2LoadOptions = {}): Promise<GPT2LMHeadModel> {
  const root = asPath(dir);
  const cfgPath = join(root, 'config.json');
  if (!(await exists(cfgPath))) throw new LoadError('not-found', `${root} has no config.json`, { url: cfgPath });
  const configJson = parseConfigJson(await readFile(cfgPath));
  const indexPath = join(root, INDEX_FILE), single = join(root, 'model.safetensors');
  let tensors: TensorRecord;
  const f32 = { ...opts, keep16: false as const };
  if (await exists(indexPath)) tensors = await loadShardedSafetensorsFile(indexPath, f32);
  else if (await exists(single)) tensors = await loadSafetensorsFile(single, f32);
  else throw new LoadError('not-found', `${root} has neither model.safetensors.index.json nor model.safetensors`, { url: single });
  return gpt2FromHuggingFace(configJson, tensors);
}
