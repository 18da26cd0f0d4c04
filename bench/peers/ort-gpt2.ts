// GPT-2 as an ONNX graph for the ORT peer: the Hugging Face GPT2LMHeadModel forward pass written
// out of plain ONNX ops (Gather for the embeddings, LayerNormalization, MatMul + Add for each
// Conv1D, Split of c_attn, attention composed of Transpose, MatMul, Mul, Add (causal bias) and
// Softmax, Gelu in its tanh form as gelu_new), past/present KV inputs and outputs per layer, and
// the last position's logits through Gemm with wte (transB = 1: the head tied to the embedding,
// one initializer). The weights are the bench model's own arrays, passed to the writer as views.
// ORT's com.microsoft MultiHeadAttention is not used: on SwiftShader it is wrong from T >= 32.
import type { GPT2Config } from '../../src/nn/gpt2';
import type { OnnxModel, OnnxNode, OnnxValue } from './onnx';
import { f32, type CaseData } from './peer';

/** One GPT-2 forward of `T` new tokens on top of `past` cached positions (prefill: past 0). */
export interface Gpt2Spec {
  cfg: GPT2Config;
  batch: number;
  T: number;
  past: number;
}

export interface Gpt2Onnx {
  model: OnnxModel;
  /** Per-run feeds in ORT's layout: ids and positions (i32), the past keys and values (f32). */
  feeds: Record<string, { data: Float32Array | Int32Array; dims: number[] }>;
  /** Outputs a user keeps on the GPU for the next step (ORT's preferredOutputLocation 'gpu-buffer'). */
  gpuOutputs: string[];
  note: string;
}

/** The graph output holding the logits [B, vocab], named as the engine's GPT graphs name theirs. */
export const LOGITS = 'logits';

const f = (name: string, shape: number[]): OnnxValue => ({ name, dtype: 'float', shape });
const i32 = (name: string, shape: number[]): OnnxValue => ({ name, dtype: 'int32', shape });

/**
 * The model of `s` over the weights in `data` under GPT2LMHeadModel's state_dict names
 * (`transformer.h.0.attn.c_attn.weight`, ...). Feeds are taken from `data` too: `ids` [B, T] and,
 * when given, `posIds` [B, T] (else positions past..past+T-1), and `past_key_{i}` / `past_value_{i}`
 * [B, heads, past, headDim] (else zeros: a fresh cache, as the engine's own state starts).
 */
export function gpt2Onnx(s: Gpt2Spec, data: CaseData): Gpt2Onnx {
  const { vocabSize: V, nEmbd: E, nHead: H, nLayer: L } = s.cfg;
  const { batch: B, T, past: P } = s;
  const Dh = E / H, S = P + T;
  const eps = s.cfg.layerNormEpsilon ?? 1e-5;
  const w = (name: string) => f32(data, `transformer.${name}`);
  const nodes: OnnxNode[] = [];
  const initializers: NonNullable<OnnxModel['initializers']> = [];
  const init = (name: string, shape: number[], d: Float32Array | Int32Array | BigInt64Array) => {
    initializers.push({ name, shape, data: d });
    return name;
  };
  const param = (name: string, shape: number[]) => init(name, shape, w(name));
  const node = (op: string, inputs: string[], output: string, attrs?: OnnxNode['attrs']) => {
    nodes.push({ op, inputs, outputs: [output], attrs });
    return output;
  };
  const i64 = (...v: number[]) => BigInt64Array.from(v, (x) => BigInt(x));

  const heads = init('shape_heads', [4], i64(B, T, H, Dh));
  const merged = init('shape_merged', [3], i64(B, T, E));
  const thirds = init('split_qkv', [3], i64(E, E, E));
  const scale = init('scale', [], Float32Array.of(1 / Math.sqrt(Dh)));
  const last = init('last_position', [], Int32Array.of(T - 1));
  let bias: string | null = null;
  if (T > 1) {
    // Query t (absolute position P + t) attends keys 0..P + t: -1e9 on the rest, added to the scores.
    const b = new Float32Array(T * S);
    for (let t = 0; t < T; t++) b.fill(-1e9, t * S + P + t + 1, (t + 1) * S);
    bias = init('causal_bias', [1, 1, T, S], b);
  }

  const inputs: OnnxValue[] = [i32('input_ids', [B, T]), i32('position_ids', [B, T])];
  const outputs: OnnxValue[] = [f(LOGITS, [B, V])];
  const feeds: Gpt2Onnx['feeds'] = {
    input_ids: { data: i32Data(data, 'ids', B * T), dims: [B, T] },
    position_ids: { data: positions(data, B, T, P), dims: [B, T] },
  };
  const gpuOutputs: string[] = [];

  const wte = param('wte.weight', [V, E]);
  const tok = node('Gather', [wte, 'input_ids'], 'tok', { axis: 0 });
  const pos = node('Gather', [param('wpe.weight', [s.cfg.nPositions, E]), 'position_ids'], 'pos', { axis: 0 });
  let x = node('Add', [tok, pos], 'x0');
  const layerNorm = (input: string, prefix: string, out: string) =>
    node('LayerNormalization', [input, param(`${prefix}.weight`, [E]), param(`${prefix}.bias`, [E])], out, { axis: -1, epsilon: { float: eps } });
  const conv1d = (input: string, prefix: string, nx: number, nf: number, out: string) =>
    node('Add', [node('MatMul', [input, param(`${prefix}.weight`, [nx, nf])], `${out}_mm`), param(`${prefix}.bias`, [nf])], out);
  const toHeads = (input: string, out: string) =>
    node('Transpose', [node('Reshape', [input, heads], `${out}_r`)], out, { perm: [0, 2, 1, 3] });

  for (let i = 0; i < L; i++) {
    const h = `h.${i}`;
    const a = layerNorm(x, `${h}.ln_1`, `l${i}_ln1`);
    const qkv = conv1d(a, `${h}.attn.c_attn`, E, 3 * E, `l${i}_qkv`);
    nodes.push({ op: 'Split', inputs: [qkv, thirds], outputs: [`l${i}_q2`, `l${i}_k2`, `l${i}_v2`], attrs: { axis: -1 } });
    const q = toHeads(`l${i}_q2`, `l${i}_q`);
    const presentK = `present_key_${i}`, presentV = `present_value_${i}`;
    if (P > 0) {
      inputs.push(f(`past_key_${i}`, [B, H, P, Dh]), f(`past_value_${i}`, [B, H, P, Dh]));
      for (const kind of ['key', 'value']) {
        const name = `past_${kind}_${i}`;
        feeds[name] = { data: pastData(data, name, B * H * P * Dh), dims: [B, H, P, Dh] };
      }
      node('Concat', [`past_key_${i}`, toHeads(`l${i}_k2`, `l${i}_k`)], presentK, { axis: 2 });
      node('Concat', [`past_value_${i}`, toHeads(`l${i}_v2`, `l${i}_v`)], presentV, { axis: 2 });
    } else {
      toHeads(`l${i}_k2`, presentK);
      toHeads(`l${i}_v2`, presentV);
    }
    outputs.push(f(presentK, [B, H, S, Dh]), f(presentV, [B, H, S, Dh]));
    gpuOutputs.push(presentK, presentV);
    const kt = node('Transpose', [presentK], `l${i}_kt`, { perm: [0, 1, 3, 2] });
    let scores = node('Mul', [node('MatMul', [q, kt], `l${i}_qk`), scale], `l${i}_scores`);
    if (bias) scores = node('Add', [scores, bias], `l${i}_masked`);
    const probs = node('Softmax', [scores], `l${i}_p`, { axis: -1 });
    const ctx = node('Transpose', [node('MatMul', [probs, presentV], `l${i}_ctx`)], `l${i}_ctx_t`, { perm: [0, 2, 1, 3] });
    const attn = conv1d(node('Reshape', [ctx, merged], `l${i}_merged`), `${h}.attn.c_proj`, E, E, `l${i}_attn`);
    const x1 = node('Add', [x, attn], `l${i}_x1`);
    const m = layerNorm(x1, `${h}.ln_2`, `l${i}_ln2`);
    const fc = conv1d(m, `${h}.mlp.c_fc`, E, 4 * E, `l${i}_fc`);
    const act = node('Gelu', [fc], `l${i}_gelu`, { approximate: 'tanh' });
    x = node('Add', [x1, conv1d(act, `${h}.mlp.c_proj`, 4 * E, E, `l${i}_mlp`)], `l${i}_x2`);
  }
  const hidden = layerNorm(x, 'ln_f', 'hidden');
  const lastHidden = node('Gather', [hidden, last], 'last_hidden', { axis: 1 });
  node('Gemm', [lastHidden, wte], LOGITS, { transB: 1 });
  return {
    // Gelu with `approximate` is opset 20.
    model: { nodes, inputs, outputs, initializers, opset: 20 },
    feeds, gpuOutputs,
    note: `GPT-2 from ONNX ops (${nodes.length} nodes: Gather embeddings, LayerNormalization, MatMul + Add, Split, ` +
      `attention of MatMul/Softmax${bias ? ' with a causal bias' : ''}, Gelu tanh, Gemm head on wte); ` +
      `${P ? `past keys and values [${B}, ${H}, ${P}, ${Dh}] fed each run, ` : ''}presents kept on the GPU, logits read back`,
  };
}

function i32Data(data: CaseData, name: string, n: number): Int32Array {
  const v = data[name];
  if (!(v instanceof Int32Array) || v.length !== n) throw new Error(`ort-gpt2: case data '${name}' must be ${n} i32 values`);
  return v;
}

function positions(data: CaseData, B: number, T: number, P: number): Int32Array {
  if (data.posIds !== undefined) return i32Data(data, 'posIds', B * T);
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[b * T + t] = P + t;
  return out;
}

function pastData(data: CaseData, name: string, n: number): Float32Array {
  const v = data[name];
  if (v === undefined) return new Float32Array(n);
  if (!(v instanceof Float32Array) || v.length !== n) throw new Error(`ort-gpt2: case data '${name}' must be ${n} f32 values`);
  return v;
}
