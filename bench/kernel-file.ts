// `--kernel FILE` (with --sweep): a user kernel module, as README "Write your own kernel" describes
// (default export `(kernels) => void`, importing nothing from seqgpu), timed beside the built-in
// variants of the swept op. The file is read here once; the page imports its text (a blob URL) and
// Node imports the file, each registering into the runtime that runs the rows.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The op a sweep's cases run, which a user kernel must be for to take part. */
export const SWEEP_OP: Record<string, string> = { matmul: 'matmul', softmax: 'softmax', layerNorm: 'layerNorm', attention: 'attention' };

export interface KernelFile {
  path: string;
  text: string;
  /** What the module registers: each kernel's name and op. */
  kernels: { name: string; op: string }[];
}

/** Reads and imports the module, recording what it registers; a broken file is an Error saying why. */
export async function readKernelFile(file: string): Promise<KernelFile> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`--kernel: no file '${file}'`);
  const mod = await import(/* @vite-ignore */ pathToFileURL(path).href);
  if (typeof mod.default !== 'function') throw new Error(`--kernel: ${file} must default-export (kernels) => void, which calls kernels.register(...)`);
  const kernels: KernelFile['kernels'] = [];
  mod.default({ register: (def: { name?: unknown; op?: unknown }) => kernels.push({ name: String(def?.name), op: String(def?.op) }) });
  if (!kernels.length) throw new Error(`--kernel: ${file} registered no kernel`);
  return { path, text: readFileSync(path, 'utf8'), kernels };
}
