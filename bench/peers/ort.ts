// The ONNX Runtime Web peer on its WebGPU execution provider (the ort.webgpu bundle, served from
// node_modules, one wasm thread). Each case becomes a one-node ONNX model written by ./onnx.ts (a
// GPT-2 step a whole model, from ./ort-gpt2.ts), with the weights as initializers; each run wraps
// the inputs as ort.Tensors, runs the session and gets the outputs back on the CPU.
// probePlacement() says where ORT placed the nodes (from its verbose log), in a page of its own
// since verbose logging slows every later run.
import type * as ORT from 'onnxruntime-web/webgpu';
import type { OpSpec } from '../cases';
import { encodeModel, type OnnxModel } from './onnx';
import { gpt2Onnx, LOGITS } from './ort-gpt2';
import { adapterString } from './tfjs';
import { PeerSkip, f32, permuteGates, swap12, type CaseData, type Peer, type PeerInfo, type PeerJob } from './peer';

type Ort = typeof ORT;

const DIST = '/node_modules/onnxruntime-web/dist/';

let loading: Promise<Ort> | undefined;

export function loadOrt(logLevel: 'verbose' | 'warning' = 'warning'): Promise<Ort> {
  loading ??= (async () => {
    const ort = (await import(/* @vite-ignore */ `${DIST}ort.webgpu.min.mjs`)) as Ort;
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = DIST;
    ort.env.logLevel = logLevel;
    return ort;
  })();
  return loading;
}

export interface OrtBuilt {
  model: OnnxModel;
  feeds: Record<string, { data: Float32Array | Int32Array; dims: number[] }>;
  toRef: (y: Float32Array) => Float32Array;
  note: string;
  /** The output compared with the reference, under the reference's name (default 'y'). */
  output?: string;
  /** Further outputs a user would keep on the GPU (preferredOutputLocation 'gpu-buffer'), released after each run. */
  gpuOutputs?: string[];
}

type AttnSpec = Extract<OpSpec, { op: 'attention' }>;
type RnnSpec = Extract<OpSpec, { op: 'lstm' | 'gru' }>;

const f = (name: string, shape: number[]) => ({ name, dtype: 'float' as const, shape });

/** The one-node model of a spec, its feeds (in ORT's layout) and the way back to the reference's layout. */
export function ortModel(spec: OpSpec, data: CaseData): OrtBuilt {
  const same = (y: Float32Array) => y;
  switch (spec.op) {
    case 'matmul': {
      const { M, K, N } = spec;
      return {
        model: { nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }], inputs: [f('a', [M, K]), f('b', [K, N])], outputs: [f('y', [M, N])] },
        feeds: { a: { data: f32(data, 'a'), dims: [M, K] }, b: { data: f32(data, 'b'), dims: [K, N] } },
        toRef: same, note: 'MatMul',
      };
    }
    case 'softmax': {
      const shape = [spec.rows, spec.len];
      return {
        model: { nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: -1 } }], inputs: [f('x', shape)], outputs: [f('y', shape)] },
        feeds: { x: { data: f32(data, 'x'), dims: shape } }, toRef: same, note: 'Softmax',
      };
    }
    case 'layerNorm': {
      const shape = [spec.rows, spec.len];
      return {
        model: {
          nodes: [{ op: 'LayerNormalization', inputs: ['x', 'weight', 'bias'], outputs: ['y'], attrs: { axis: -1, epsilon: { float: spec.eps } } }],
          inputs: [f('x', shape)], outputs: [f('y', shape)],
          initializers: [{ name: 'weight', shape: [spec.len], data: f32(data, 'weight') }, { name: 'bias', shape: [spec.len], data: f32(data, 'bias') }],
        },
        feeds: { x: { data: f32(data, 'x'), dims: shape } }, toRef: same, note: 'LayerNormalization',
      };
    }
    case 'attention':
      return attention(spec, data);
    case 'lstm':
    case 'gru':
      return recurrent(spec, data);
    case 'model': {
      if (!spec.gpt2) throw new PeerSkip('no whole models in the ORT peer but GPT-2: the others are compared on the kernels');
      const m = gpt2Onnx(spec.gpt2, data);
      return { model: m.model, feeds: m.feeds, toRef: same, note: m.note, output: LOGITS, gpuOutputs: m.gpuOutputs };
    }
  }
}

/** com.microsoft MultiHeadAttention: q, k, v as [B, T, heads·D] (the bench's [B, heads, T, D] swapped once, untimed). */
function attention(s: AttnSpec, data: CaseData): OrtBuilt {
  const { B, heads, Tq, Tk, D } = s;
  const inputs = [f('q', [B, Tq, heads * D]), f('k', [B, Tk, heads * D]), f('v', [B, Tk, heads * D])];
  const feeds: OrtBuilt['feeds'] = {
    q: { data: swap12(f32(data, 'q'), B, heads, Tq, D), dims: [B, Tq, heads * D] },
    k: { data: swap12(f32(data, 'k'), B, heads, Tk, D), dims: [B, Tk, heads * D] },
    v: { data: swap12(f32(data, 'v'), B, heads, Tk, D), dims: [B, Tk, heads * D] },
  };
  // Inputs: query, key, value, bias, key_padding_mask, attention_bias.
  const nodeInputs = ['q', 'k', 'v'];
  let note = `MultiHeadAttention (com.microsoft), ${heads} heads`;
  if (s.mask !== 'none') {
    // The mask as an additive attention_bias [B or 1, 1, Tq, Tk]: 0 to attend, -1e9 not to. For the
    // causal cases too: MultiHeadAttention's unidirectional = 1 gave wrong results at T = 128 in ORT
    // 1.30's WebGPU EP here (max |err| 0.43 against the reference; right at T = 16).
    const nb = s.mask === 'padded' ? B : 1;
    const bias = maskBias(s, nb);
    nodeInputs.push('', '', 'mask_bias');
    inputs.push(f('mask_bias', [nb, 1, Tq, Tk]));
    feeds.mask_bias = { data: bias, dims: [nb, 1, Tq, Tk] };
    note += `, ${s.mask} mask as attention_bias`;
  }
  const attrs: Record<string, number> = { num_heads: heads };
  return {
    model: {
      nodes: [{ op: 'MultiHeadAttention', domain: 'com.microsoft', inputs: nodeInputs, outputs: ['y'], attrs }],
      inputs, outputs: [f('y', [B, Tq, heads * D])],
    },
    feeds, toRef: (y) => swap12(y, B, Tq, heads, D), note,
  };
}

/**
 * Attention composed of ONNX ops on the bench's own [B, heads, T, D] layout: MatMul(q, Transpose(k))
 * · scale + mask bias, Softmax, MatMul with v. The ORT baseline that does not rest on the
 * MultiHeadAttention kernel.
 */
export function ortComposedAttention(s: AttnSpec, data: CaseData): OrtBuilt {
  const { B, heads, Tq, Tk, D } = s;
  const nodes: OnnxModel['nodes'] = [
    { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: { perm: [0, 1, 3, 2] } },
    { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['qk'] },
    { op: 'Mul', inputs: ['qk', 'scale'], outputs: ['scores'] },
  ];
  const initializers: NonNullable<OnnxModel['initializers']> = [{ name: 'scale', shape: [], data: Float32Array.of(1 / Math.sqrt(D)) }];
  let logits = 'scores';
  if (s.mask !== 'none') {
    const nb = s.mask === 'padded' ? B : 1;
    initializers.push({ name: 'mask_bias', shape: [nb, 1, Tq, Tk], data: maskBias(s, nb) });
    nodes.push({ op: 'Add', inputs: ['scores', 'mask_bias'], outputs: ['masked'] });
    logits = 'masked';
  }
  nodes.push({ op: 'Softmax', inputs: [logits], outputs: ['p'], attrs: { axis: -1 } }, { op: 'MatMul', inputs: ['p', 'v'], outputs: ['y'] });
  return {
    model: { nodes, inputs: [f('q', [B, heads, Tq, D]), f('k', [B, heads, Tk, D]), f('v', [B, heads, Tk, D])], outputs: [f('y', [B, heads, Tq, D])], initializers },
    feeds: {
      q: { data: f32(data, 'q'), dims: [B, heads, Tq, D] }, k: { data: f32(data, 'k'), dims: [B, heads, Tk, D] },
      v: { data: f32(data, 'v'), dims: [B, heads, Tk, D] },
    },
    toRef: (y) => y, note: `Transpose, MatMul, Mul, ${s.mask !== 'none' ? 'Add (mask), ' : ''}Softmax, MatMul`,
  };
}

/** 0 where a query attends a key, -1e9 where not: [nb, 1, Tq, Tk]; causal is top-left aligned, as torch. */
function maskBias(s: AttnSpec, nb: number): Float32Array {
  const { Tq, Tk } = s;
  const bias = new Float32Array(nb * Tq * Tk);
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < Tq; i++) {
      const from = s.mask === 'padded' ? s.validLens![b] : i + 1;
      bias.fill(-1e9, (b * Tq + i) * Tk + Math.min(from, Tk), (b * Tq + i + 1) * Tk);
    }
  }
  return bias;
}

/**
 * ONNX LSTM (gates i, o, f, c: torch blocks 0, 3, 1, 2) and GRU (z, r, h: torch blocks 1, 0, 2, with
 * linear_before_reset = 1, torch's semantics). Per layer: W [D, G·H, In], R [D, G·H, H], B [D, 2·G·H]
 * = [Wb, Rb] per direction (forward, then reverse). Y is [T, D, B, H]: with one direction it is
 * torch's [T, B, H] as it is; with two it is transposed and reshaped to torch's [T, B, D·H], which
 * is also the next layer's input.
 */
function recurrent(s: RnnSpec, data: CaseData): OrtBuilt {
  const { T, B, I, H, layers: L } = s;
  const D = s.bidirectional ? 2 : 1;
  const lstm = s.op === 'lstm';
  const G = lstm ? 4 : 3;
  const order = lstm ? [0, 3, 1, 2] : [1, 0, 2];
  const p = (name: string) => permuteGates(f32(data, name), G, order);
  const attrs: Record<string, number | string> = { hidden_size: H };
  if (D === 2) attrs.direction = 'bidirectional';
  if (!lstm) attrs.linear_before_reset = 1;
  const nodes: OnnxModel['nodes'] = [];
  const initializers: NonNullable<OnnxModel['initializers']> = [];
  let input = 'x';
  for (let l = 0; l < L; l++) {
    const inSize = l === 0 ? I : D * H;
    const W = new Float32Array(D * G * H * inSize), R = new Float32Array(D * G * H * H), bias = new Float32Array(D * 2 * G * H);
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      W.set(p(`weight_ih${sfx}`), d * G * H * inSize);
      R.set(p(`weight_hh${sfx}`), d * G * H * H);
      bias.set(p(`bias_ih${sfx}`), d * 2 * G * H);
      bias.set(p(`bias_hh${sfx}`), (d * 2 + 1) * G * H);
    }
    initializers.push(
      { name: `W${l}`, shape: [D, G * H, inSize], data: W },
      { name: `R${l}`, shape: [D, G * H, H], data: R },
      { name: `B${l}`, shape: [D, 2 * G * H], data: bias },
    );
    const y = l === L - 1 && D === 1 ? 'y' : `y${l}`;
    nodes.push({ op: lstm ? 'LSTM' : 'GRU', inputs: [input, `W${l}`, `R${l}`, `B${l}`], outputs: [y], attrs });
    input = y;
    if (D === 2) {
      const out = l === L - 1 ? 'y' : `x${l + 1}`;
      nodes.push(
        { op: 'Transpose', inputs: [y], outputs: [`${y}t`], attrs: { perm: [0, 2, 1, 3] } },
        { op: 'Reshape', inputs: [`${y}t`, 'stacked'], outputs: [out] },
      );
      input = out;
    }
  }
  if (D === 2) initializers.push({ name: 'stacked', shape: [3], data: BigInt64Array.of(BigInt(T), BigInt(B), BigInt(D * H)) });
  const kind = lstm ? 'LSTM' : 'GRU (linear_before_reset = 1)';
  return {
    model: { nodes, inputs: [f('x', [T, B, I])], outputs: [f('y', D === 2 ? [T, B, D * H] : [T, 1, B, H])], initializers },
    feeds: { x: { data: f32(data, 'x'), dims: [T, B, I] } }, toRef: (y) => y,
    note: L > 1 || D > 1 ? `${L} ${kind} nodes${D > 1 ? ', bidirectional, each output transposed and reshaped to [T, B, 2H]' : ''}` : kind,
  };
}

function peerModel(impl: string, spec: OpSpec, data: CaseData): OrtBuilt {
  if (impl !== 'ort-webgpu:composed') return ortModel(spec, data);
  if (spec.op !== 'attention') throw new PeerSkip('the composed ORT graph is for attention cases only');
  return ortComposedAttention(spec, data);
}

export const placementKey = (impl: string, spec: OpSpec): string => `${impl} ${JSON.stringify(spec)}`;

const SESSION: ORT.InferenceSession.SessionOptions = { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' };

export class OrtPeer implements Peer {
  /**
   * `placements`: where the ORT nodes of each model were placed, from an earlier probe page (by
   * placementKey). 'ort-webgpu:composed' is attention from plain ONNX ops.
   */
  constructor(
    readonly impl: 'ort-webgpu' | 'ort-webgpu:composed' = 'ort-webgpu',
    private readonly placements: Record<string, string> = {},
  ) {}

  async setup(spec: OpSpec, data: CaseData): Promise<PeerJob> {
    const ort = await loadOrt();
    const b = peerModel(this.impl, spec, data);
    const outName = b.output ?? 'y';
    const gpu = b.gpuOutputs ?? [];
    const options = gpu.length ? { ...SESSION, preferredOutputLocation: Object.fromEntries(gpu.map((n) => [n, 'gpu-buffer' as const])) } : SESSION;
    const session = await ort.InferenceSession.create(encodeModel(b.model), options);
    const feeds = () => {
      const out: Record<string, ORT.Tensor> = {};
      for (const [k, v] of Object.entries(b.feeds)) {
        out[k] = v.data instanceof Float32Array ? new ort.Tensor('float32', v.data, v.dims) : new ort.Tensor('int32', v.data, v.dims);
      }
      return out;
    };
    const placed = this.placements[placementKey(this.impl, spec)];
    return {
      run: async () => {
        const r = await session.run(feeds());
        for (const n of gpu) r[n].dispose();
        return r[outName].data;
      },
      outputs: (r) => ({ [outName]: b.toRef(Float32Array.from(r as Float32Array)) }),
      dispatches: null,
      note: `${b.note}; ${placed ?? 'placement not probed'}`,
      dispose: () => void session.release(),
    };
  }

  async describe(): Promise<PeerInfo> {
    const ort = await loadOrt();
    let device: GPUDevice | undefined;
    try {
      device = await (ort.env.webgpu as { device?: GPUDevice | Promise<GPUDevice> }).device;
    } catch {
      device = undefined;
    }
    return { impl: this.impl, version: ort.env.versions.web ?? '?', backend: 'webgpu EP', adapter: adapterString(device) };
  }
}

/**
 * Creates the spec's session with ORT's verbose log captured and returns what it says about node
 * placement, e.g. "All nodes placed on [WebGpuExecutionProvider]". Call in a page used for nothing
 * else: verbose logging stays on for the page.
 */
export async function probePlacement(impl: string, spec: OpSpec, data: CaseData): Promise<string> {
  captureConsole();
  const ort = await loadOrt('verbose');
  const b = peerModel(impl, spec, data);
  const lines: string[] = [];
  sink = lines;
  let session: ORT.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(encodeModel(b.model), { ...SESSION, logSeverityLevel: 0, logVerbosityLevel: 0 });
  } finally {
    sink = null;
  }
  await session.release();
  const text = lines.join('\n');
  const all = /All nodes placed on \[([^\]]+)\]/.exec(text);
  if (all) return `all nodes on ${all[1]}`;
  const parts = [...text.matchAll(/Node\(s\) placed on \[([^\]]+)\]\. Number of nodes: (\d+)/g)].map((m) => `${m[2]} on ${m[1]}`);
  return parts.length ? `nodes: ${parts.join(', ')}` : 'placement not in the log';
}

let sink: string[] | null = null;
let captured = false;

/**
 * ORT's wasm binds console's methods when it is instantiated, so the wrapper goes in before it loads
 * and stays: it feeds `sink` while a probe runs and prints as usual otherwise.
 */
function captureConsole(): void {
  if (captured) return;
  captured = true;
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const orig = console[m].bind(console);
    console[m] = (...args: unknown[]) => {
      if (sink) sink.push(args.map(String).join(' '));
      else orig(...args);
    };
  }
}
