// safetensors reading and writing, all tensors held as f32 on the JavaScript side.
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
  constructor(
    readonly fault: SafetensorsFault,
    message: string,
  ) {
    super(`safetensors: ${message}`);
  }
}
errorName(SafetensorsError, 'SafetensorsError');

export interface SafetensorsTensor {
  /** The stored dtype ('F32', 'F16', 'BF16', or an integer, bool or F64 one); the data is f32 whichever it is. */
  dtype: string;
  shape: number[];
  data: Float32Array;
}

/** What writeSafetensors takes: the dtype, if given, is ignored (f32 data is written as F32). */
export type SafetensorsRecord = Record<string, { shape: number[]; data: Float32Array; dtype?: string }>;

/** The reference implementation's bound on the header length. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of every dtype the format defines; seqgpu reads all but the F8 ones. */
const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};
const UNREAD = ['F8_E5M2', 'F8_E4M3'];

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Float32Array | undefined;

/** All 65536 binary16 values as f32: sign, 5-bit exponent (bias 15), 10-bit fraction. */
function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  f16Table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    f16Table[h] = exp === 0 ? sign * frac * 2 ** -24 // zero and subnormals
      : exp === 31 ? (frac ? NaN : sign * Infinity)
      : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return f16Table;
}

function decode(dtype: string, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
    else { const dv = view(bytes); for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true); }
  } else if (dtype === 'F16') {
    const t = f16ToF32Table();
    for (let i = 0; i < n; i++) out[i] = t[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
  } else if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
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
 * converted; F8 refused), under its stored dtype. The header is checked completely before any
 * tensor is decoded. `__metadata__` is not returned. The result has no prototype, so every name
 * (`__proto__` and `constructor` included) is a tensor of the file. Of a key given twice, JSON.parse keeps the last
 * entry; the bytes the other indexed then fail as a hole, unless both index the same bytes.
 */
export function readSafetensors(bytes: ArrayBuffer | Uint8Array): Record<string, SafetensorsTensor> {
  const b = asBytes(bytes);
  const { entries, dataStart } = parseHeader(b);
  // No prototype: a tensor may be named `__proto__` or `constructor` and must come back as a tensor.
  const out: Record<string, SafetensorsTensor> = Object.create(null);
  for (const e of entries) {
    const n = e.shape.reduce((a, d) => a * d, 1);
    out[e.name] = { dtype: e.dtype, shape: e.shape, data: decode(e.dtype, b.subarray(dataStart + e.begin, dataStart + e.end), n) };
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
