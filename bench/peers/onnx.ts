// A minimal ONNX writer: encodes a ModelProto (one graph of a few nodes or a whole model, its
// initializers, inputs and outputs) as protobuf bytes, so the ORT peer runs models this bench
// builds itself. Only the fields those models use are written; field numbers are onnx.proto's.

/** Protobuf wire types. */
const VARINT = 0, FIXED32 = 5, LEN = 2;

/**
 * Bytes are kept as a list of parts, so a nested message or a tensor's raw data (hundreds of MB for
 * a real model's initializers) is appended as a view, never copied byte by byte; finish() joins
 * them once.
 */
class Writer {
  private parts: Uint8Array[] = [];
  private pending: number[] = [];
  private size = 0;

  private flush(): void {
    if (this.pending.length) this.parts.push(Uint8Array.from(this.pending));
    this.pending = [];
  }

  private varint(v: number | bigint): void {
    // int64 fields: negative values are written as their 64-bit two's complement.
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      this.pending.push(b);
      this.size++;
    } while (x);
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number): this {
    this.tag(field, VARINT);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, FIXED32);
    this.raw(new Uint8Array(new Float32Array([v]).buffer));
    return this;
  }

  /** Appends `b` as a view: its bytes must not change before finish(). */
  raw(b: Uint8Array): void {
    this.flush();
    this.parts.push(b);
    this.size += b.length;
  }

  bytesField(field: number, b: Uint8Array): this {
    this.tag(field, LEN);
    this.varint(b.length);
    this.raw(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }

  message(field: number, m: Writer): this {
    m.flush();
    this.tag(field, LEN);
    this.varint(m.size);
    this.flush();
    for (const p of m.parts) this.parts.push(p);
    this.size += m.size;
    return this;
  }

  /** A packed repeated varint field (int64 dims, ints). */
  packed(field: number, vs: number[]): this {
    const inner = new Writer();
    for (const v of vs) inner.varint(v);
    return this.message(field, inner);
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** TensorProto.DataType values this writer uses. */
export const ONNX_DTYPE = { float: 1, int32: 6, int64: 7, bool: 9 } as const;
export type OnnxDType = keyof typeof ONNX_DTYPE;

export type OnnxAttr = number | number[] | string | { float: number } | { floats: number[] };

export interface OnnxNode {
  op: string;
  /** '' for an operator of the default domain; e.g. 'com.microsoft'. */
  domain?: string;
  /** '' marks an optional input left out. */
  inputs: string[];
  outputs: string[];
  /** Integers become INT(S), strings STRING, { float } FLOAT, { floats } FLOATS. */
  attrs?: Record<string, OnnxAttr>;
}

export interface OnnxValue {
  name: string;
  dtype: OnnxDType;
  shape: number[];
}

export interface OnnxModel {
  nodes: OnnxNode[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** A BigInt64Array is written as int64 (Reshape's shape operand wants it). */
  initializers?: { name: string; shape: number[]; data: Float32Array | Int32Array | BigInt64Array }[];
  /** Opset of the default domain (default 17); com.microsoft is imported at version 1 when used. */
  opset?: number;
}

// onnx.proto AttributeProto.AttributeType
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

function attribute(name: string, v: OnnxAttr): Writer {
  const a = new Writer().string(1, name);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`onnx: attribute '${name}' = ${v}: integers only; pass { float } for a float`);
    return a.int(3, v).int(20, ATTR.INT);
  }
  if (typeof v === 'string') return a.string(4, v).int(20, ATTR.STRING);
  if (Array.isArray(v)) return a.packed(8, v).int(20, ATTR.INTS);
  if ('float' in v) return a.float(2, v.float).int(20, ATTR.FLOAT);
  for (const f of v.floats) a.float(7, f);
  return a.int(20, ATTR.FLOATS);
}

function valueInfo(v: OnnxValue): Writer {
  const shape = new Writer();
  for (const d of v.shape) shape.message(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, ONNX_DTYPE[v.dtype]).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

function tensor(name: string, shape: number[], data: Float32Array | Int32Array | BigInt64Array): Writer {
  const t = new Writer();
  if (shape.length) t.packed(1, shape);
  const dtype = data instanceof Float32Array ? ONNX_DTYPE.float : data instanceof BigInt64Array ? ONNX_DTYPE.int64 : ONNX_DTYPE.int32;
  t.int(2, dtype).string(8, name);
  // raw_data is little-endian, as typed arrays are on every platform a browser runs on.
  return t.bytesField(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** The model's bytes, ready for ort.InferenceSession.create(bytes). */
export function encodeModel(m: OnnxModel): Uint8Array {
  const graph = new Writer();
  m.nodes.forEach((n, i) => {
    const node = new Writer();
    for (const x of n.inputs) node.string(1, x);
    for (const y of n.outputs) node.string(2, y);
    node.string(3, `${n.op}_${i}`).string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.message(5, attribute(k, v));
    if (n.domain) node.string(7, n.domain);
    graph.message(1, node);
  });
  graph.string(2, 'seqgpu_bench');
  for (const init of m.initializers ?? []) graph.message(5, tensor(init.name, init.shape, init.data));
  for (const v of m.inputs) graph.message(11, valueInfo(v));
  for (const v of m.outputs) graph.message(12, valueInfo(v));

  const model = new Writer().int(1, 8).string(2, 'seqgpu-bench').string(3, '0.1.0');
  model.message(8, new Writer().string(1, '').int(2, m.opset ?? 17));
  const domains = new Set(m.nodes.map((n) => n.domain).filter((d): d is string => !!d));
  for (const d of domains) model.message(8, new Writer().string(1, d).int(2, 1));
  return model.message(7, graph).finish();
}
