// GPT-2 124M at its real size in the models suite: a prefill of 128 tokens and a decode step at
// position 128 (a KV cache of 128 positions), each returning the last position's logits, with
// seeded weights generated where the bench runs (in the page: nothing shipped over the wire), held
// in f32 and, in a second pair of rows, in f16. ONNX Runtime Web runs the same f32 weights as a
// graph the bench encodes (bench/peers/ort-gpt2.ts). Decode is held to its bytes roofline (weight
// bytes, at the width the engine holds them, over the measured copy bandwidth), prefill to the FMA
// peak. Left out of --quick: one prefill takes tens of seconds on a software adapter, so a
// run longer than its budget is timed once (bench/suite.ts says so in the row's note).
import type { Graph } from '../src/index';
import { prefillGraph, stepGraph } from '../src/models/gpt';
import { GPT2LMHeadModel, type GPT2Config } from '../src/nn/gpt2';
import { setInitSeed } from '../src/nn/init';
import { uniform, type BenchCase, type Tolerance } from './cases';
import type { Gpt2Spec } from './peers/ort-gpt2';

/** GPT-2 small, as Hugging Face's `gpt2` config has it. */
export const GPT2_124M: GPT2Config = { vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12 };

const SEED = 124;
const PROMPT = 128;

/** The rows of this file are named so; --quick leaves them out. */
const PREFIX = 'gpt2-124m-';
export const isRealSize = (c: BenchCase): boolean => c.name.startsWith(PREFIX);

/** How the engine holds the weights: f32, or the matmul and embedding weights in f16 (16-bit rows). */
export type WeightDtype = 'f32' | 'f16';

// One model at a time: its f32 weights are ~500 MB, so the prefill and decode cases share it.
let held: { key: string; model: GPT2LMHeadModel } | undefined;

function seededModel(cfg: GPT2Config, dtype: WeightDtype): GPT2LMHeadModel {
  const key = `${JSON.stringify(cfg)}/${SEED}/${dtype}`;
  if (held?.key !== key) {
    held = undefined; // let the previous one go before the next is generated
    setInitSeed(SEED);
    // The same seeded values either way; f16 rounds them (and lets the f32 arrays go).
    held = { key, model: new GPT2LMHeadModel(cfg, dtype === 'f32' ? {} : { weightDtype: dtype }) };
  }
  return held.model;
}

/** The weights under GPT2LMHeadModel's state_dict names: the model's own arrays, not copies. */
function weightsOf(model: GPT2LMHeadModel): Record<string, Float32Array> {
  return Object.fromEntries(model.namedParameters().map(([name, p]) => [name, p.data]));
}

/**
 * Bytes of the parameters read once per token: the blocks, the tied head (wte) and ln_f. With f16,
 * the Conv1D weights and wte take 2 bytes each; biases and LayerNorms stay f32.
 */
export function weightBytesPerToken(cfg: GPT2Config, dtype: WeightDtype): number {
  const { nEmbd: E, nLayer: L, vocabSize: V } = cfg;
  const matrices = L * 12 * E * E + V * E, vectors = L * 13 * E + 2 * E;
  return (dtype === 'f32' ? 4 : 2) * matrices + 4 * vectors;
}

// Logits are sums of E products of ln_f's output (about unit scale) and wte rows (std 0.02), so
// about 0.5 in size. Each of the 12 blocks adds f32 rounding from sums of up to 4E = 3072 terms
// and a few-ulp tanh and exp; the residual stream carries it to the head. 5e-4 absolute is about
// 1e-3 of the logits' size, ten times what f32 accumulation gives here, and far below what a
// wrong layout or a missing layer gives (errors of the logits' own size).
const TOL: Tolerance = { atol: 5e-4, rtol: 1e-3 };

const promptIds = (n: number, V: number): Int32Array => Int32Array.from(uniform(n, 77), (u) => Math.floor((u + 1) * 0.5 * V) % V);

/** `T` prompt tokens into an empty cache → the last position's logits [1, vocab]. */
export function gpt2PrefillCase(cfg: GPT2Config, T: number, name: string, dtype: WeightDtype, target?: BenchCase['target']): BenchCase {
  const { nEmbd: E, nLayer: L, vocabSize: V } = cfg;
  const spec: Gpt2Spec = { cfg, batch: 1, T, past: 0 };
  return {
    suite: 'model', name, shape: `1x${T}`, engine: ['seqgpu'], peers: peersOf(dtype), quick: false, target,
    // The blocks' matmuls for every token, the scores and the mix with V over the whole T x T
    // square (as the ORT graph computes it), and the head for the last position only.
    flops: 2 * T * L * 12 * E * E + 4 * L * T * T * E + 2 * V * E,
    bytes: weightBytesPerToken(cfg, dtype), roof: 'fma', tol: TOL,
    spec: { op: 'model', items: T, unit: 'prompt tokens', gpt2: spec },
    build: () => {
      const model = seededModel(cfg, dtype);
      const graph: Graph = prefillGraph(model, T, 1, T);
      return { graph, feeds: { ids: promptIds(T, V) }, consts: dtype === 'f32' ? weightsOf(model) : {} };
    },
  };
}

/**
 * One token at position `past` over a cache of `past` positions → its logits [1, vocab]. The cache
 * is a fresh one (zeros: the engine's state at compile, the CPU reference's, and the past keys and
 * values fed to ORT), so every impl attends over the same `past` + 1 rows.
 */
export function gpt2DecodeCase(cfg: GPT2Config, past: number, name: string, dtype: WeightDtype, target?: BenchCase['target']): BenchCase {
  const { nEmbd: E, nLayer: L, vocabSize: V } = cfg;
  const spec: Gpt2Spec = { cfg, batch: 1, T: 1, past };
  return {
    suite: 'model', name, shape: `1x1+${past}`, engine: ['seqgpu'], peers: peersOf(dtype), quick: false, target,
    flops: 2 * (L * 12 * E * E + V * E) + 4 * L * (past + 1) * E,
    // The bytes roofline: every weight read once per token, at its own width (the KV cache,
    // 2·L·(past+1)·E floats, is left out: under 2% of the f32 weights at this size).
    bytes: weightBytesPerToken(cfg, dtype), roof: 'copy', tol: TOL,
    spec: { op: 'model', items: 1, unit: 'tokens', gpt2: spec },
    build: () => {
      const model = seededModel(cfg, dtype);
      const graph: Graph = stepGraph(model, past + 1, 1);
      const mask = new Uint8Array(past + 1).fill(1);
      const feeds = { ids: Int32Array.of(promptIds(1, V)[0]), pos: Int32Array.of(past), posIds: Int32Array.of(past), mask };
      return { graph, feeds, consts: dtype === 'f32' ? weightsOf(model) : {} };
    },
  };
}

// ORT runs the f32 weights only.
const peersOf = (dtype: WeightDtype): BenchCase['peers'] => (dtype === 'f32' ? ['ort-webgpu'] : []);

export function gpt2RealCases(): BenchCase[] {
  return [
    gpt2PrefillCase(GPT2_124M, PROMPT, `${PREFIX}prefill-T${PROMPT}`, 'f32', {
      text: `GPT-2 124M f32 prefill of ${PROMPT} tokens: ≥2x ORT-web`, vsOrt: 2,
    }),
    gpt2DecodeCase(GPT2_124M, PROMPT, `${PREFIX}decode-P${PROMPT}`, 'f32', {
      text: `GPT-2 124M f32 decode at position ${PROMPT}: ≥2x ORT-web, ≥60% of its bytes roofline (weight bytes / copy bandwidth)`,
      vsOrt: 2, pctRoof: 60,
    }),
    // 16-bit: % of roofline against its own (smaller) bytes; checked against the reference run on
    // the same f16-rounded weights.
    gpt2PrefillCase(GPT2_124M, PROMPT, `${PREFIX}f16-prefill-T${PROMPT}`, 'f16'),
    gpt2DecodeCase(GPT2_124M, PROMPT, `${PREFIX}f16-decode-P${PROMPT}`, 'f16'),
  ];
}
