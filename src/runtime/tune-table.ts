// The tuning table and where it is kept: its JSON form, the check that a loaded table is whole and
// belongs to this adapter and these shaders, and the browser's store (localStorage). The Node file
// store lives in tune-file.ts, which only seqgpu/node imports.
import attentionCode from '../../shaders/attention.wgsl?raw';
import commonCode from '../../shaders/common.wgsl?raw';
import layernormCode from '../../shaders/layernorm.wgsl?raw';
import matmulCode from '../../shaders/matmul.wgsl?raw';
import rnnCode from '../../shaders/rnn.wgsl?raw';
import softmaxCode from '../../shaders/softmax.wgsl?raw';
import type { Constants } from '../kernels/kernel';
import { hashText } from './hash';

/** The table format's version; a table of another version is ignored with a warning. */
export const TUNE_TABLE_VERSION = 1;

/** The adapter a table was measured on, as `rt.info.adapter` gives it. */
export interface TuneAdapter {
  /** GPUAdapterInfo.vendor. */
  vendor: string;
  /** GPUAdapterInfo.architecture. */
  architecture: string;
  /** GPUAdapterInfo.description. */
  description: string;
}

/** The fastest candidate measured for one kernel signature. */
export interface TuneChoice {
  /** The kernel variant, as compile's `variants` names it (e.g. `register`, `tiled-vec4`). */
  variant: string;
  /** Override constants of that variant (e.g. `{ TILE_M: 32, TILE_N: 32, TILE_K: 16 }`); empty for its defaults. */
  constants: Constants;
  /** The measured time per run of the one-op graph, in milliseconds (for reading; not used to choose). */
  ms: number;
  /** `gpu` when the time came from timestamp queries, `wall` when from submit-to-done wall time. */
  timing: 'gpu' | 'wall';
}

/** What tuning measured: one choice per kernel signature, valid for one adapter and one set of shaders. */
export interface TuneTable {
  /** The format's version; this build reads and writes 1. */
  version: number;
  /** The adapter the entries were measured on. */
  adapter: TuneAdapter;
  /** A hash of the shader sources the kernels are built from; another hash means the table is stale. */
  shaderHash: string;
  /** Kernel signature (see the README's Tuning section) -> the choice. */
  entries: Record<string, TuneChoice>;
}

/**
 * Where a runtime keeps its tuning table. `load` resolves to null when nothing is stored yet and
 * rejects (or resolves to something that is not a table) when what is stored cannot be read; either
 * way compile warns and falls back to the built-in rule. `name` says where the table lives, for warnings.
 */
export interface TuneStore {
  /** Where the table lives (a file path, `localStorage['seqgpu:tune']`), named in warnings. */
  readonly name: string;
  /** The stored table, or null when there is none yet. */
  load(): Promise<TuneTable | null>;
  /** Stores the table, replacing what was there. */
  save(table: TuneTable): Promise<void>;
}

/** The hash of the tuned kernels' shader sources, recorded in every table. */
export const SHADER_HASH = hashText([commonCode, matmulCode, rnnCode, attentionCode, softmaxCode, layernormCode].join('\n\0\n'));

/** A table held in memory only, for the runtime's lifetime: the store when none is given outside a page. */
export function memoryTuneStore(): TuneStore {
  let table: TuneTable | null = null;
  return {
    name: 'memory',
    load: async () => table && structuredCloneTable(table),
    save: async (t) => {
      table = structuredCloneTable(t);
    },
  };
}

/**
 * A table in the page's localStorage under `key` (per origin: scheme, host and port), which survives
 * a reload and a browser restart with the same profile.
 */
export function localStorageTuneStore(key = 'seqgpu:tune'): TuneStore {
  const storage = (): Storage => {
    const s = (globalThis as { localStorage?: Storage }).localStorage;
    if (!s) throw new Error('localStorage is not available here');
    return s;
  };
  return {
    name: `localStorage['${key}']`,
    load: async () => {
      const text = storage().getItem(key);
      return text === null ? null : (JSON.parse(text) as TuneTable);
    },
    save: async (t) => storage().setItem(key, JSON.stringify(t, null, 1)),
  };
}

const structuredCloneTable = (t: TuneTable): TuneTable => JSON.parse(JSON.stringify(t)) as TuneTable;

/** An empty table for this adapter and these shaders. */
export function emptyTable(adapter: TuneAdapter): TuneTable {
  return { version: TUNE_TABLE_VERSION, adapter: { ...adapter }, shaderHash: SHADER_HASH, entries: {} };
}

/**
 * Why a loaded value is not a usable table for this adapter and these shaders, or null when it is.
 * Entries are checked one by one later (an unknown variant drops only that entry).
 */
export function tableProblem(t: unknown, adapter: TuneAdapter): string | null {
  if (t === null || typeof t !== 'object' || Array.isArray(t)) return 'it is not a JSON object';
  const x = t as Partial<TuneTable>;
  if (x.version !== TUNE_TABLE_VERSION) return `its version is ${JSON.stringify(x.version)}, this build reads version ${TUNE_TABLE_VERSION}`;
  const a = x.adapter;
  if (!a || typeof a !== 'object' || typeof x.shaderHash !== 'string' || !x.entries || typeof x.entries !== 'object' || Array.isArray(x.entries)) {
    return 'it lacks adapter, shaderHash or entries';
  }
  if (a.vendor !== adapter.vendor || a.architecture !== adapter.architecture || a.description !== adapter.description) {
    return `it was measured on another adapter (${fmtAdapter(a)}; this one is ${fmtAdapter(adapter)})`;
  }
  if (x.shaderHash !== SHADER_HASH) return `it was measured with other shaders (hash ${x.shaderHash}; these are ${SHADER_HASH})`;
  return null;
}

/** Why one entry is malformed, or null. Whether its variant exists is checked against the op's variants. */
export function entryProblem(e: unknown): string | null {
  if (!e || typeof e !== 'object') return 'not an object';
  const c = e as Partial<TuneChoice>;
  if (typeof c.variant !== 'string') return 'no variant';
  if (!c.constants || typeof c.constants !== 'object' || Array.isArray(c.constants)) return 'no constants object';
  for (const [k, v] of Object.entries(c.constants)) {
    if (typeof v !== 'number' && typeof v !== 'boolean') return `constant ${k} is ${JSON.stringify(v)}`;
  }
  return null;
}

const fmtAdapter = (a: Partial<TuneAdapter>) => `'${a.vendor ?? ''}' '${a.architecture ?? ''}' '${a.description ?? ''}'`;
