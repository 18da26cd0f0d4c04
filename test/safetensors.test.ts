// safetensors: F32 round trips, F16 and BF16 files laid out byte by byte in the test with known
// values (negative zero, subnormals, infinities), kept as 16-bit patterns with keep16, views on the
// input where aligned, and each malformed header its own SafetensorsError.
import { describe, expect, it } from 'vitest';
import {
  InputError, MAX_HEADER_BYTES, SafetensorsError, SeqgpuError, readSafetensors, readSafetensorsMetadata, writeSafetensors,
  type SafetensorsFault,
} from '../src/index';

/** A file from a header (object or raw text) and a data area; `n` overrides the length field. */
function file(header: unknown, data: number[] | Uint8Array = [], n?: number): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  const dv = new DataView(out.buffer);
  const len = n ?? h.length;
  dv.setUint32(0, len % 2 ** 32, true);
  dv.setUint32(4, Math.floor(len / 2 ** 32), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Little-endian bytes of 16-bit words. */
const u16 = (words: number[]) => words.flatMap((w) => [w & 0xff, w >> 8]);

const same = (got: ArrayLike<number>, want: number[]) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Object.is(got[i], w) || got[i] === w, `[${i}]: ${got[i]} vs ${w}`).toBe(true));
};

describe('round trips', () => {
  it('F32: write then read gives the same values, shapes and F32 dtype; the header is padded with spaces to 8', () => {
    const rec = {
      a: { shape: [2, 3], data: new Float32Array([1, -2.5, 3e-40, -0, Infinity, NaN]) },
      scalar: { shape: [], data: new Float32Array([0.1]) },
      empty: { shape: [0, 4], data: new Float32Array(0) },
      'encoder.layers.0.self_attn.in_proj_weight': { shape: [3], data: new Float32Array([7, 8, 9]), dtype: 'F16' },
    };
    const bytes = writeSafetensors(rec, { format: 'pt' });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.startsWith('{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}')).toBe(true);
    expect(text.trimEnd().length).toBeGreaterThan(n - 8);
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    expect(bytes.length).toBe(8 + n + 4 * 10);
    const back = readSafetensors(bytes);
    expect(Object.keys(back)).toEqual(Object.keys(rec));
    for (const [name, t] of Object.entries(rec)) {
      expect(back[name].dtype).toBe('F32');
      expect(back[name].shape).toEqual(t.shape);
      same(back[name].data, Array.from(t.data));
    }
    expect(readSafetensorsMetadata(bytes)).toEqual({ format: 'pt' });
  });
  it('a Node Buffer at a byte offset inside a larger allocation, and an ArrayBuffer', () => {
    const bytes = writeSafetensors({ w: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } });
    const big = Buffer.alloc(bytes.length + 13, 0xee);
    big.set(bytes, 5);
    const buf = big.subarray(5, 5 + bytes.length);
    expect(buf.byteOffset % 4).not.toBe(0);
    same(readSafetensors(buf).w.data, [1, 2, 3, 4]);
    same(readSafetensors(bytes.slice().buffer).w.data, [1, 2, 3, 4]);
  });
  it('F16 laid out by hand: normals, -0, the smallest and largest subnormals, ±inf, NaN, the largest finite', () => {
    const words = [0x3c00, 0xc000, 0x8000, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x7bff, 0x3555, 0x7e00];
    const want = [1, -2, -0, 2 ** -24, 1023 * 2 ** -24, Infinity, -Infinity, 65504, 0.333251953125, NaN];
    const t = readSafetensors(file({ h: { dtype: 'F16', shape: [2, 5], data_offsets: [0, 20] } }, u16(words))).h;
    expect(t.dtype).toBe('F16');
    expect(t.shape).toEqual([2, 5]);
    same(t.data, want);
  });
  it('BF16 laid out by hand: the upper half of an f32, with -0, a subnormal, ±inf, NaN', () => {
    const words = [0x3f80, 0xc040, 0x8000, 0x0001, 0x7f80, 0xff80, 0x3eab, 0x4049, 0x7fc0];
    const want = [1, -3, -0, 2 ** -133, Infinity, -Infinity, 0.333984375, 3.140625, NaN];
    const t = readSafetensors(file({ b: { dtype: 'BF16', shape: [9], data_offsets: [0, 18] } }, u16(words))).b;
    expect(t.dtype).toBe('BF16');
    same(t.data, want);
  });
  it('F32, F16, BF16 and an I64 buffer in one file, in any header order; __metadata__ is not a tensor', () => {
    const f32 = Array.from(new Uint8Array(new Float32Array([0.5, -1]).buffer));
    const i64 = Array.from(new Uint8Array(new BigInt64Array([3n, -4n]).buffer));
    const header = {
      __metadata__: { note: 'hand-made' },
      pos: { dtype: 'I64', shape: [2], data_offsets: [12, 28] },
      half: { dtype: 'F16', shape: [1], data_offsets: [8, 10] },
      full: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      brain: { dtype: 'BF16', shape: [1], data_offsets: [10, 12] },
    };
    const r = readSafetensors(file(header, [...f32, ...u16([0xbc00, 0x4000]), ...i64]));
    expect(Object.keys(r).sort()).toEqual(['brain', 'full', 'half', 'pos']);
    same(r.full.data, [0.5, -1]);
    same(r.half.data, [-1]);
    same(r.brain.data, [2]);
    same(r.pos.data, [3, -4]);
    expect(r.pos.dtype).toBe('I64');
  });
});

describe('keep16 and views on the input', () => {
  const words = [0x3c00, 0xc000, 0x8000, 0x0001, 0x7c00];
  const f = () => file({ h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] }, b: { dtype: 'BF16', shape: [1], data_offsets: [10, 12] },
    w: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }, [...u16(words), ...u16([0x3f80]), ...Array.from(new Uint8Array(Float32Array.of(2.5).buffer))]);
  it('keep16: F16 and BF16 as Uint16Array patterns under their stored dtype; F32 as before', () => {
    const r = readSafetensors(f(), { keep16: true });
    expect(r.h.dtype).toBe('F16');
    expect(r.h.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(r.h.data)).toEqual(words);
    expect(r.b.dtype).toBe('BF16');
    expect(Array.from(r.b.data)).toEqual([0x3f80]);
    expect(r.w.data).toBeInstanceOf(Float32Array);
    expect(Array.from(r.w.data)).toEqual([2.5]);
  });
  it('without the option (or with keep16 false) every tensor is widened to f32, as before', () => {
    for (const r of [readSafetensors(f()), readSafetensors(f(), { keep16: false })]) {
      expect(r.h.data).toBeInstanceOf(Float32Array);
      same(r.h.data, [1, -2, -0, 2 ** -24, Infinity]);
      same(r.b.data, [1]);
    }
  });
  it('aligned F32 and kept 16-bit data are views on the input bytes (no copy); unaligned ones are copies', () => {
    const bytes = f();
    // The data area starts at 8 + header length; pad the header so it starts at a multiple of 8.
    const header = JSON.stringify({ h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] }, x: { dtype: 'F16', shape: [1], data_offsets: [10, 12] },
      w: { dtype: 'F32', shape: [2], data_offsets: [12, 20] } });
    const padded = header.padEnd(Math.ceil((header.length + 8) / 8) * 8 - 8);
    const data = [...u16(words), ...u16([0x4000]), ...Array.from(new Uint8Array(Float32Array.of(1, 2).buffer))];
    const aligned = file(padded, data);
    const r = readSafetensors(aligned, { keep16: true });
    expect(r.w.data.buffer).toBe(aligned.buffer);
    expect(r.h.data.buffer).toBe(aligned.buffer);
    // The caller's bytes and the tensors are one memory.
    new Float32Array(aligned.buffer, aligned.length - 8, 2)[1] = 7;
    expect(Array.from(r.w.data)).toEqual([1, 7]);
    // One byte further into a larger buffer: no longer aligned, so copies with the same values.
    const shifted = new Uint8Array(aligned.length + 1);
    shifted.set(aligned, 1);
    const s = readSafetensors(shifted.subarray(1), { keep16: true });
    expect(s.w.data.buffer).not.toBe(shifted.buffer);
    expect(s.h.data.buffer).not.toBe(shifted.buffer);
    expect(Array.from(s.w.data)).toEqual([1, 7]);
    expect(Array.from(s.h.data)).toEqual(words);
    expect(readSafetensors(bytes).h.data.buffer).not.toBe(bytes.buffer);
  });
});

describe('malformed files: each fault its own error', () => {
  const t = (dtype: string, shape: unknown, data_offsets: unknown) => ({ dtype, shape, data_offsets });
  const cases: [string, SafetensorsFault, RegExp, () => Uint8Array][] = [
    ['shorter than 8 bytes', 'file-too-short', /the file is 5 bytes, shorter than the 8-byte header length/, () => new Uint8Array(5)],
    ['header length past the end', 'header-length', /the header length 4096 runs past the end of the \d+-byte file/, () => file({ a: t('F32', [1], [0, 4]) }, [0, 0, 0, 0], 4096)],
    ['header length over 100 MB', 'header-length', /the header length 4294967296000 is over the 100000000-byte bound/, () => file({}, [], 1000 * 2 ** 32)],
    ['invalid JSON', 'header-json', /the 16-byte header is not valid UTF-8 JSON/, () => file('{"a": {"dtype": ')],
    ['invalid UTF-8', 'header-json', /not valid UTF-8 JSON/, () => file('{"\xff"}'.replace('\xff', '\u0000'), []).map((b, i) => (i === 10 ? 0xff : b))],
    ['a JSON array', 'header-json', /the header is not a JSON object/, () => file('[1, 2]')],
    ['a header not starting with {', 'header-json', /the header starts with " {}", not '\{'/, () => file(' {}')],
    ['__metadata__ with a number', 'header-json', /__metadata__ must map strings to strings/, () => file({ __metadata__: { n: 1 } })],
    ['an unknown dtype', 'dtype', /tensor 'w': unknown dtype "F33"/, () => file({ w: t('F33', [1], [0, 4]) }, [0, 0, 0, 0])],
    ['an F8 dtype', 'dtype', /tensor 'w': dtype F8_E4M3 is not read by seqgpu/, () => file({ w: t('F8_E4M3', [4], [0, 4]) }, [0, 0, 0, 0])],
    ['a negative dim', 'shape', /tensor 'w': shape \[2,-1\] is not a list of non-negative integers/, () => file({ w: t('F32', [2, -1], [0, 8]) }, new Uint8Array(8))],
    ['a fractional dim', 'shape', /shape \[2.5\]/, () => file({ w: t('F32', [2.5], [0, 8]) }, new Uint8Array(8))],
    ['a shape that is not a list', 'shape', /shape "4"/, () => file({ w: t('F32', '4', [0, 16]) }, new Uint8Array(16))],
    ['offsets running backwards', 'offsets-order', /tensor 'w': data_offsets \[8, 4\] run backwards/, () => file({ w: t('F32', [1], [8, 4]) }, new Uint8Array(8))],
    ['offsets past the data area', 'offsets-range', /tensor 'w': data_offsets \[0, 16\] pass the end of the 8-byte data area/, () => file({ w: t('F32', [4], [0, 16]) }, new Uint8Array(8))],
    ['overlapping tensors', 'offsets-overlap', /tensors 'a' and 'b' overlap: 'b' begins at byte 4, before 'a' ends at 8/, () => file({ a: t('F32', [2], [0, 8]), b: t('F32', [2], [4, 12]) }, new Uint8Array(12))],
    ['a hole in the data area', 'offsets-gap', /bytes 4..8 of the data area belong to no tensor/, () => file({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [8, 12]) }, new Uint8Array(12))],
    ['trailing bytes', 'offsets-gap', /bytes 4..6 of the data area belong to no tensor/, () => file({ a: t('F32', [1], [0, 4]) }, new Uint8Array(6))],
    ['shape × dtype size ≠ byte length', 'byte-length', /tensor 'w': F16 \[2, 2\] needs 8 bytes but data_offsets \[0, 12\] hold 12/, () => file({ w: t('F16', [2, 2], [0, 12]) }, new Uint8Array(12))],
    ['data_offsets not a pair', 'entry', /tensor 'w': data_offsets \[0\] is not \[BEGIN, END\]/, () => file({ w: t('F32', [0], [0]) })],
    ['an entry that is not an object', 'entry', /tensor 'w': the entry is not an object/, () => file({ w: 3 })],
  ];
  for (const [what, fault, message, make] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        readSafetensors(make());
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SafetensorsError);
      expect(err).toBeInstanceOf(InputError);
      expect(err).toBeInstanceOf(SeqgpuError);
      expect((err as SafetensorsError).fault).toBe(fault);
      expect((err as Error).message).toMatch(message);
    });
  }
  it('the 100 MB bound is the reference implementation\'s', () => expect(MAX_HEADER_BYTES).toBe(100_000_000));
});

describe('writeSafetensors refuses what it cannot write', () => {
  it('a length that does not fill the shape, a bad shape, data that is not a Float32Array, a reserved name', () => {
    expect(() => writeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/tensor 'w': 3 values do not fill shape \[2, 2\] \(4\)/);
    expect(() => writeSafetensors({ w: { shape: [-1], data: new Float32Array(3) } })).toThrow(/tensor 'w': shape \[-1\]/);
    expect(() => writeSafetensors({ w: { shape: [3], data: [1, 2, 3] as never } })).toThrow(/tensor 'w': data must be a Float32Array/);
    expect(() => writeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow(SafetensorsError);
  });
});
