// safetensors reading and writing: tensors held as f32 on the JavaScript side, or (keep16) F16 and
// BF16 ones as their 16-bit patterns. Aligned F32 and kept 16-bit data are views on the input bytes.
//
// The format, as the safetensors README (github.com/huggingface/safetensors, "Format") states it:
// - 8 bytes: N, an unsigned little-endian 64-bit integer, the byte length of the header;
// - N bytes: a UTF-8 JSON object that starts with '{' and may be padded at its end with spaces
//   (0x20): { "NAME": { "dtype": "F16", "shape": [1, 16, 256], "data_offsets": [BEGIN, END] }, ... };
//   the special key "__metadata__" maps strings to strings;
// - the rest of the file: the byte buffer. data_offsets are relative to its start, END one past the
//   last byte; tensors are little-endian and row-major; a shape [] is a scalar of one element.
// - The byte buffer is entirely indexed, with no holes, and duplicate keys are not allowed.
// The reference implementation (safetensors/src/tensor.rs) bounds N at 100_000_000 bytes, checks
// that the offsets, sorted, tile the byte buffer exactly, and that each tensor's byte length is
// numel(shape) x dtype size; the checks below are the same, each fault with its own error.
// Dtype sizes come from the same file's Dtype enum. F16 is IEEE 754 binary16; BF16 is the upper
// 16 bits of an IEEE 754 binary32.
import { InputError, errorName } from '../errors';
import { halfToF32 } from '../graph/half';

/** Which header check failed: each is its own fault with its own message. */
export type SafetensorsFault =
  | 'file-too-short'
  | 'header-length'
  | 'header-json'
  | 'dtype'
  | 'shape'
  | 'offsets-order'
  | 'offsets-range'
  | 'offsets-overlap'
  | 'offsets-gap'
  | 'byte-length'
  | 'entry';

/** A malformed or unsupported safetensors file (reading) or record (writing). */
export class SafetensorsError extends InputError {
  /**
   * An error of the `fault` kind; the message is prefixed with 'safetensors: '.
   * @param message what is wrong, naming the tensor or the header field concerned
   */
  constructor(
    /** Which check failed, for code that handles faults differently (the message says it for people). */
    readonly fault: SafetensorsFault,
    message: string,
  ) {
    super(`safetensors: ${message}`);
  }
}
errorName(SafetensorsError, 'SafetensorsError');

/** One tensor of a file, as readSafetensors returns it. */
export interface SafetensorsTensor {
  /** The stored dtype ('F32', 'F16', 'BF16', or an integer, bool or F64 one); the data is f32 whichever it is. */
  dtype: string;
  /** The stored shape; [] is a scalar of one element. */
  shape: number[];
  /** The values as f32, row-major: numel(shape) of them; a view on the file's bytes for an aligned F32 tensor, else a copy. */
  data: Float32Array;
}

/** An F16 or BF16 tensor read with `{ keep16: true }`: its 16-bit patterns, not widened. */
export interface SafetensorsTensor16 {
  /** The stored dtype: 'F16' (IEEE binary16) or 'BF16' (the upper half of an f32). */
  dtype: 'F16' | 'BF16';
  /** The stored shape; [] is a scalar of one element. */
  shape: number[];
  /** The 16-bit patterns, row-major: a view on the file's bytes when 2-byte aligned, else a copy. */
  data: Uint16Array;
}

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /**
   * Keep F16 and BF16 tensors as 16-bit patterns (Uint16Array, {@link SafetensorsTensor16}) instead
   * of widening them to f32; g.constant(data, shape, 'f16' | 'bf16') and loadStateDict take them.
   */
  keep16?: boolean;
}

/** What writeSafetensors takes: the dtype, if given, is ignored (f32 data is written as F32). */
export type SafetensorsRecord = Record<string, {
  /** The tensor's shape: non-negative integers whose product is data.length. */
  shape: number[];
  /** The values, row-major. */
  data: Float32Array;
  /** Ignored: readSafetensors' output can be written back as it is. */
  dtype?: string;
}>;

/** The reference implementation's bound on the header length. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of every dtype the format defines; seqgpu reads all but the F8 ones. */
const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};
const UNREAD = ['F8_E5M2', 'F8_E4M3'];

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The 16-bit patterns of `bytes` (little-endian): a view when aligned on a little-endian host, else a copy. */
function bits16(bytes: Uint8Array, n: number): Uint16Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  return out;
}

function decode(dtype: string, bytes: Uint8Array, n: number): Float32Array {
  // An aligned F32 tensor is a view on the file's bytes (no copy).
  if (dtype === 'F32' && LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  if (dtype === 'F16' || dtype === 'BF16') return halfToF32(bits16(bytes, n), dtype === 'F16' ? 'f16' : 'bf16');
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
    else { const dv = view(bytes); for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true); }
  } else {
    // Integer, bool and F64 tensors (buffers such as position ids): read, rounded to f32.
    const dv = view(bytes);
    const get: Record<string, (i: number) => number> = {
      BOOL: (i) => (bytes[i] ? 1 : 0), U8: (i) => bytes[i], I8: (i) => dv.getInt8(i),
      I16: (i) => dv.getInt16(2 * i, true), U16: (i) => dv.getUint16(2 * i, true),
      I32: (i) => dv.getInt32(4 * i, true), U32: (i) => dv.getUint32(4 * i, true),
      I64: (i) => Number(dv.getBigInt64(8 * i, true)), U64: (i) => Number(dv.getBigUint64(8 * i, true)),
      F64: (i) => dv.getFloat64(8 * i, true),
    };
    const f = get[dtype];
    for (let i = 0; i < n; i++) out[i] = f(i);
  }
  return out;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function asBytes(bytes: ArrayBuffer | Uint8Array): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes; // a Node Buffer is one, with its own byteOffset
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new SafetensorsError('entry', 'readSafetensors takes an ArrayBuffer or a Uint8Array (a Node Buffer works)');
}

interface Entry { name: string; dtype: string; shape: number[]; begin: number; end: number }

/** Parses and checks the header; returns the entries and where the byte buffer starts. */
function parseHeader(b: Uint8Array): { entries: Entry[]; dataStart: number } {
  if (b.length < 8) {
    throw new SafetensorsError('file-too-short', `the file is ${b.length} bytes, shorter than the 8-byte header length`);
  }
  const dv = view(b);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER_BYTES) {
    throw new SafetensorsError('header-length', `the header length ${n} is over the ${MAX_HEADER_BYTES}-byte bound`);
  }
  if (8 + n > b.length) {
    throw new SafetensorsError('header-length', `the header length ${n} runs past the end of the ${b.length}-byte file`);
  }
  let header: unknown, text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(8, 8 + n));
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError('header-json', `the ${n}-byte header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('header-json', `the header is not a JSON object`);
  }
  if (!text.startsWith('{')) {
    throw new SafetensorsError('header-json', `the header starts with ${JSON.stringify(text.slice(0, 10))}, not '{'`);
  }
  const dataStart = 8 + n, dataBytes = b.length - dataStart;
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Object.values(v).some((s) => typeof s !== 'string')) {
        throw new SafetensorsError('header-json', `__metadata__ must map strings to strings`);
      }
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new SafetensorsError('entry', `tensor '${name}': the entry is not an object { dtype, shape, data_offsets }`);
    }
    const { dtype, shape, data_offsets: off } = v as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZE)) {
      throw new SafetensorsError('dtype', `tensor '${name}': unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (UNREAD.includes(dtype)) {
      throw new SafetensorsError('dtype', `tensor '${name}': dtype ${dtype} is not read by seqgpu`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new SafetensorsError('shape', `tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount)) {
      throw new SafetensorsError('entry', `tensor '${name}': data_offsets ${JSON.stringify(off)} is not [BEGIN, END] of non-negative integers`);
    }
    const [begin, end] = off as number[];
    if (begin > end) {
      throw new SafetensorsError('offsets-order', `tensor '${name}': data_offsets [${begin}, ${end}] run backwards (BEGIN > END)`);
    }
    if (end > dataBytes) {
      throw new SafetensorsError('offsets-range', `tensor '${name}': data_offsets [${begin}, ${end}] pass the end of the ${dataBytes}-byte data area`);
    }
    const want = shape.reduce((a: number, d: number) => a * d, 1) * DTYPE_SIZE[dtype];
    if (end - begin !== want) {
      throw new SafetensorsError('byte-length',
        `tensor '${name}': ${dtype} [${shape.join(', ')}] needs ${want} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.push({ name, dtype, shape: shape.slice(), begin, end });
  }
  const sorted = entries.slice().sort((a, c) => a.begin - c.begin || a.end - c.end);
  let at = 0, prev = '';
  for (const e of sorted) {
    if (e.begin < at) {
      throw new SafetensorsError('offsets-overlap', `tensors '${prev}' and '${e.name}' overlap: '${e.name}' begins at byte ${e.begin}, before '${prev}' ends at ${at}`);
    }
    if (e.begin > at) throw new SafetensorsError('offsets-gap', `bytes ${at}..${e.begin} of the data area belong to no tensor`);
    at = e.end;
    prev = e.name;
  }
  if (at !== dataBytes) throw new SafetensorsError('offsets-gap', `bytes ${at}..${dataBytes} of the data area belong to no tensor`);
  return { entries, dataStart };
}

/**
 * Reads a safetensors file: every tensor as f32 (F16, BF16, and the integer, bool and F64 dtypes
 * converted; F8 refused), under its stored dtype; with `{ keep16: true }`, F16 and BF16 tensors as
 * their 16-bit patterns instead ({@link SafetensorsTensor16}). The header is checked completely
 * before any tensor is decoded. `__metadata__` is not returned. The result has no prototype, so every
 * name (`__proto__` and `constructor` included) is a tensor of the file. Of a key given twice,
 * JSON.parse keeps the last entry; the bytes the other indexed then fail as a hole, unless both index
 * the same bytes.
 *
 * No copy where none is needed: on a little-endian host an F32 tensor whose bytes lie 4-byte aligned
 * in the underlying buffer (and a kept 16-bit one 2-byte aligned) is a view on `bytes`, so a file
 * read into one buffer is held once. The caller must then leave those bytes as they are.
 */
export function readSafetensors(bytes: ArrayBuffer | Uint8Array): Record<string, SafetensorsTensor>;
/** With `{ keep16: true }`: F16 and BF16 tensors as Uint16Array patterns ({@link SafetensorsTensor16}). */
export function readSafetensors(bytes: ArrayBuffer | Uint8Array, options: ReadSafetensorsOptions & { keep16: true }): Record<string, SafetensorsTensor | SafetensorsTensor16>;
/** With options: as they say (see {@link ReadSafetensorsOptions}). */
export function readSafetensors(bytes: ArrayBuffer | Uint8Array, options?: ReadSafetensorsOptions): Record<string, SafetensorsTensor | SafetensorsTensor16>;
export function readSafetensors(bytes: ArrayBuffer | Uint8Array, options: ReadSafetensorsOptions = {}): Record<string, SafetensorsTensor | SafetensorsTensor16> {
  const b = asBytes(bytes);
  const { entries, dataStart } = parseHeader(b);
  const keep16 = options?.keep16 === true;
  // No prototype: a tensor may be named `__proto__` or `constructor` and must come back as a tensor.
  const out: Record<string, SafetensorsTensor | SafetensorsTensor16> = Object.create(null);
  for (const e of entries) {
    const n = e.shape.reduce((a, d) => a * d, 1);
    const raw = b.subarray(dataStart + e.begin, dataStart + e.end);
    out[e.name] = keep16 && (e.dtype === 'F16' || e.dtype === 'BF16')
      ? { dtype: e.dtype, shape: e.shape, data: bits16(raw, n) }
      : { dtype: e.dtype, shape: e.shape, data: decode(e.dtype, raw, n) };
  }
  return out;
}

/** The `__metadata__` string map of a file, or {} if it has none. */
export function readSafetensorsMetadata(bytes: ArrayBuffer | Uint8Array): Record<string, string> {
  const b = asBytes(bytes);
  const { dataStart } = parseHeader(b);
  const header = JSON.parse(new TextDecoder().decode(b.subarray(8, dataStart)));
  return { ...(header.__metadata__ ?? {}) };
}

/**
 * Writes a safetensors file: every tensor as F32, in the record's order, the header padded with
 * spaces so the byte buffer starts at a multiple of 8. `metadata` becomes `__metadata__`.
 */
export function writeSafetensors(record: SafetensorsRecord, metadata?: Record<string, string>): Uint8Array {
  // No prototype, so a tensor named `__proto__` is written as an entry, not as the header's prototype.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata) {
    if (Object.values(metadata).some((s) => typeof s !== 'string')) {
      throw new SafetensorsError('header-json', `metadata must map strings to strings`);
    }
    header.__metadata__ = metadata;
  }
  const parts: Float32Array[] = [];
  let at = 0;
  for (const [name, t] of Object.entries(record)) {
    if (name === '__metadata__' || name === '') throw new SafetensorsError('entry', `'${name}' cannot name a tensor`);
    const shape = t?.shape, data = t?.data;
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new SafetensorsError('shape', `tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!(data instanceof Float32Array)) throw new SafetensorsError('entry', `tensor '${name}': data must be a Float32Array`);
    const n = shape.reduce((a, d) => a * d, 1);
    if (data.length !== n) {
      throw new SafetensorsError('byte-length', `tensor '${name}': ${data.length} values do not fill shape [${shape.join(', ')}] (${n})`);
    }
    header[name] = { dtype: 'F32', shape, data_offsets: [at, at + 4 * n] };
    parts.push(data);
    at += 4 * n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + padded + at);
  const dv = view(out);
  dv.setUint32(0, padded % 2 ** 32, true);
  dv.setUint32(4, Math.floor(padded / 2 ** 32), true);
  out.set(json, 8);
  let o = 8 + padded;
  for (const data of parts) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), o);
    else for (let i = 0; i < data.length; i++) dv.setFloat32(o + 4 * i, data[i], true);
    o += data.byteLength;
  }
  return out;
}
