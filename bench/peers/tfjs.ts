// The TensorFlow.js peer on its WebGPU backend, loaded from node_modules as the two UMD bundles a
// page would use (tf.min.js, tf-backend-webgpu.min.js). WEBGPU_CPU_FORWARD is off, so small ops
// run on the GPU rather than on TF.js's CPU backend. Each run uploads the inputs as new tensors, runs
// the op and awaits data(); weights are tensors made once.
import type * as TF from '@tensorflow/tfjs';
import type { OpSpec } from '../cases';
import { PeerSkip, f32, permuteGates, swap12, transpose2d, type CaseData, type Peer, type PeerInfo, type PeerJob } from './peer';

type Tf = typeof TF;
type Tensor = TF.Tensor;

const TF_URL = '/node_modules/@tensorflow/tfjs/dist/tf.min.js';
const TF_WEBGPU_URL = '/node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js';

function classicScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`tfjs: could not load ${src} (is @tensorflow/tfjs installed? npm ci)`));
    document.head.append(s);
  });
}

let loading: Promise<Tf> | undefined;

export function loadTf(): Promise<Tf> {
  loading ??= (async () => {
    await classicScript(TF_URL);
    await classicScript(TF_WEBGPU_URL);
    const tf = (window as unknown as { tf: Tf }).tf;
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: setBackend("webgpu") failed: no WebGPU backend here');
    await tf.ready();
    if (tf.getBackend() !== 'webgpu') throw new Error(`tfjs: backend is ${tf.getBackend()}, not webgpu`);
    return tf;
  })();
  return loading;
}

interface Built {
  /** Makes the output from tensors of the per-run inputs (inside tf.tidy). */
  forward: (inputs: Tensor[]) => Tensor;
  /** The per-run inputs: data and shape, uploaded as new tensors on each run. */
  inputs: { data: Float32Array; shape: number[] }[];
  /** The output in the reference's layout. */
  toRef: (y: Float32Array) => Float32Array;
  note: string;
  /** Frees what the build made once (weights, masks, layers). */
  weights: Tensor[];
  dispose?: () => void;
}

function build(tf: Tf, spec: OpSpec, data: CaseData, cellLoop: boolean): Built {
  const same = (y: Float32Array) => y;
  switch (spec.op) {
    case 'matmul':
      return {
        forward: ([a, b]) => tf.matMul(a, b), weights: [], toRef: same, note: 'tf.matMul',
        inputs: [{ data: f32(data, 'a'), shape: [spec.M, spec.K] }, { data: f32(data, 'b'), shape: [spec.K, spec.N] }],
      };
    case 'softmax':
      return { forward: ([x]) => tf.softmax(x), weights: [], toRef: same, note: 'tf.softmax', inputs: [{ data: f32(data, 'x'), shape: [spec.rows, spec.len] }] };
    case 'layerNorm': {
      const w = tf.tensor1d(f32(data, 'weight')), b = tf.tensor1d(f32(data, 'bias'));
      return {
        forward: ([x]) => {
          const { mean, variance } = tf.moments(x, -1, true);
          return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, spec.eps))), w), b);
        },
        weights: [w, b], toRef: same, note: 'tf.moments, rsqrt, mul, add (TF.js has no layer-norm op)',
        inputs: [{ data: f32(data, 'x'), shape: [spec.rows, spec.len] }],
      };
    }
    case 'attention':
      return attention(tf, spec, data);
    case 'lstm':
      return cellLoop ? lstmCellLoop(tf, spec, data) : lstmLayer(tf, spec, data);
    case 'model':
      throw new PeerSkip('no whole models in the TF.js peer: it is compared on the kernels');
    case 'gru':
      throw new PeerSkip("tf.layers.gru supports only resetAfter: false; torch's GRU applies r after W_hn·h (reset_after), so there is no equivalent");
  }
}

function attention(tf: Tf, s: Extract<OpSpec, { op: 'attention' }>, data: CaseData): Built {
  const { B, heads, Tq, Tk, D } = s;
  // The mask as an additive bias (0 or -1e9), made once: [Tq, Tk] causal, [B, 1, 1, Tk] padded.
  let bias: Tensor | null = null;
  if (s.mask === 'causal') {
    const m = new Float32Array(Tq * Tk);
    for (let i = 0; i < Tq; i++) for (let j = i + 1; j < Tk; j++) m[i * Tk + j] = -1e9;
    bias = tf.tensor2d(m, [Tq, Tk]);
  } else if (s.mask === 'padded') {
    const m = new Float32Array(B * Tk);
    for (let b = 0; b < B; b++) for (let t = s.validLens![b]; t < Tk; t++) m[b * Tk + t] = -1e9;
    bias = tf.tensor4d(m, [B, 1, 1, Tk]);
  }
  const scale = 1 / Math.sqrt(D);
  return {
    forward: ([q, k, v]) => {
      let scores = tf.mul(tf.matMul(q, k, false, true), scale);
      if (bias) scores = tf.add(scores, bias);
      return tf.matMul(tf.softmax(scores), v);
    },
    weights: bias ? [bias] : [], toRef: (y) => y,
    note: 'matMul(q, kᵀ)·scale + mask bias, softmax, matMul(·, v)',
    inputs: [
      { data: f32(data, 'q'), shape: [B, heads, Tq, D] },
      { data: f32(data, 'k'), shape: [B, heads, Tk, D] },
      { data: f32(data, 'v'), shape: [B, heads, Tk, D] },
    ],
  };
}

type RnnSpec = Extract<OpSpec, { op: 'lstm' | 'gru' }>;

function lstmLayer(tf: Tf, s: RnnSpec, data: CaseData): Built {
  const { T, B, I, H, layers: L } = s;
  const D = s.bidirectional ? 2 : 1;
  // Keras gate order i, f, c, o is torch's i, f, g, o; sigmoid recurrence (TF.js defaults to hardSigmoid).
  // Zero initializers: the weights are set below, and the default orthogonal one runs a QR of the
  // [H, 4H] recurrent kernel on the GPU (at H = 512 it took SwiftShader's GPU process down here).
  const lstm = () => tf.layers.lstm({
    units: H, returnSequences: true, recurrentActivation: 'sigmoid', activation: 'tanh', unitForgetBias: false,
    kernelInitializer: 'zeros', recurrentInitializer: 'zeros',
  });
  // A bidirectional stack concatenates forward and backward outputs, as torch's [.., 2H] does.
  const layers = Array.from({ length: L }, () => (D === 2 ? tf.layers.bidirectional({ layer: lstm(), mergeMode: 'concat' }) : lstm()));
  tf.tidy(() => {
    let y = tf.zeros([B, T, I]);
    for (const layer of layers) y = layer.apply(y) as Tensor;
  });
  const weights: Tensor[] = [];
  layers.forEach((layer, l) => {
    const w: Tensor[] = [];
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      const inSize = l === 0 ? I : D * H;
      const bias = f32(data, `bias_ih${sfx}`).map((b, i) => b + f32(data, `bias_hh${sfx}`)[i]);
      w.push(
        tf.tensor2d(transpose2d(f32(data, `weight_ih${sfx}`), 4 * H, inSize), [inSize, 4 * H]),
        tf.tensor2d(transpose2d(f32(data, `weight_hh${sfx}`), 4 * H, H), [H, 4 * H]),
        tf.tensor1d(bias),
      );
    }
    layer.setWeights(w);
    weights.push(...w);
  });
  const what = D === 2 ? `${L} tf.layers.bidirectional(tf.layers.lstm) (concat)` : L > 1 ? `${L} tf.layers.lstm` : 'tf.layers.lstm';
  return {
    forward: ([x]) => layers.reduce((y, layer) => layer.apply(y) as Tensor, x),
    // TF.js layers are batch-first: x [B, T, I] in, y [B, T, D·H] out.
    inputs: [{ data: swap12(f32(data, 'x'), 1, T, B, I), shape: [B, T, I] }],
    toRef: (y) => swap12(y, 1, B, T, D * H),
    weights, dispose: () => layers.forEach((layer) => layer.dispose()), note: `${what} (recurrentActivation 'sigmoid')`,
  };
}

function lstmCellLoop(tf: Tf, s: RnnSpec, data: CaseData): Built {
  const { T, B, I, H } = s;
  // basicLSTMCell splits its [I+H, 4H] kernel's columns as i, j (the candidate), f, o: torch blocks 0, 2, 1, 3.
  const order = [0, 2, 1, 3];
  const wih = transpose2d(permuteGates(f32(data, 'weight_ih_l0'), 4, order), 4 * H, I);
  const whh = transpose2d(permuteGates(f32(data, 'weight_hh_l0'), 4, order), 4 * H, H);
  const kernelData = new Float32Array((I + H) * 4 * H);
  kernelData.set(wih);
  kernelData.set(whh, I * 4 * H);
  const bias = f32(data, 'bias_ih_l0').map((b, i) => b + f32(data, 'bias_hh_l0')[i]);
  const kernel = tf.tensor2d(kernelData, [I + H, 4 * H]);
  const lstmBias = tf.tensor1d(permuteGates(bias, 4, order));
  const forgetBias = tf.scalar(0);
  return {
    forward: ([x]) => {
      let c = tf.zeros([B, H]) as TF.Tensor2D, h = tf.zeros([B, H]) as TF.Tensor2D;
      const hs: Tensor[] = [];
      for (const xt of tf.unstack(x)) {
        [c, h] = tf.basicLSTMCell(forgetBias, kernel, lstmBias, xt as TF.Tensor2D, c, h);
        hs.push(h);
      }
      return tf.stack(hs);
    },
    inputs: [{ data: f32(data, 'x'), shape: [T, B, I] }],
    toRef: (y) => y, weights: [kernel, lstmBias, forgetBias], note: `tf.basicLSTMCell loop over ${T} steps`,
  };
}

export class TfjsPeer implements Peer {
  constructor(readonly impl: 'tfjs-webgpu' | 'tfjs-webgpu:cell-loop') {}

  async setup(spec: OpSpec, data: CaseData): Promise<PeerJob> {
    const cellLoop = this.impl === 'tfjs-webgpu:cell-loop';
    if (cellLoop && spec.op !== 'lstm') throw new PeerSkip('the basicLSTMCell loop is for LSTM cases only');
    if (cellLoop && spec.op === 'lstm' && (spec.layers > 1 || spec.bidirectional)) throw new PeerSkip('the basicLSTMCell loop is one layer, one direction; tf.layers runs the stack');
    const tf = await loadTf();
    const b = build(tf, spec, data, cellLoop);
    const once = async () => {
      const xs = b.inputs.map((i) => tf.tensor(i.data, i.shape));
      const y = tf.tidy(() => b.forward(xs));
      try {
        return await y.data();
      } finally {
        y.dispose();
        for (const x of xs) x.dispose();
      }
    };
    // One profiled run: counts the kernels, and is the first (compiling) run.
    const xs = b.inputs.map((i) => tf.tensor(i.data, i.shape));
    const prof = await tf.profile(async () => {
      const y = tf.tidy(() => b.forward(xs));
      await y.data();
      return y;
    });
    for (const x of xs) x.dispose();
    tf.dispose(prof.result as Tensor);
    return {
      run: once,
      outputs: (r) => ({ y: b.toRef(Float32Array.from(r as Float32Array)) }),
      dispatches: prof.kernels.length,
      note: `${b.note}; ${prof.kernels.length} kernels`,
      dispose: () => {
        tf.dispose(b.weights);
        b.dispose?.();
      },
    };
  }

  async describe(): Promise<PeerInfo> {
    const tf = await loadTf();
    const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
    return { impl: this.impl, version: tf.version.tfjs, backend: tf.getBackend(), adapter: adapterString(device) };
  }
}

export function adapterString(device: GPUDevice | undefined): string {
  const info = (device as { adapterInfo?: GPUAdapterInfo } | undefined)?.adapterInfo;
  return info ? `${info.vendor} ${info.architecture} ${info.description}`.trim() : 'unknown';
}
