// The models suite: whole-model throughput beside the CPU reference, from the models in src/models/
// built with seeded weights (no download): the LSTM text classifier (sequences/s), one GPT decode
// step against a KV cache kept on the GPU (tokens/s), and the Transformer translator's teacher-forced
// forward pass (sentences/s). Each step's time is split into GPU time and the host's share (inputs
// written, commands encoded and submitted, outputs read back) in the row's note. The peers are
// compared on the kernels, and ORT on GPT-2 124M at its real size (bench/gpt2-real.ts).
import { Graph } from '../src/index';
import { TextClassifier } from '../src/models/classifier';
import { stepGraph } from '../src/models/gpt';
import { Seq2SeqTransformer } from '../src/models/translator';
import { GPT2LMHeadModel, type GPT2Config } from '../src/nn/gpt2';
import { setInitSeed } from '../src/nn/init';
import { uniform, type BenchCase } from './cases';
import { gpt2RealCases } from './gpt2-real';

/** What the models suite does not cover yet, or null. */
export const MODELS_PENDING: string | null =
  'models suite: translation is timed as one teacher-forced forward pass (sentences/s); greedy decoding (a step per token) is not a row';

function classifierCase(T: number, B: number, quick: boolean): BenchCase {
  const vocab = 1000, E = 64, H = 128, C = 4;
  return {
    suite: 'model', name: `model-lstm-classifier-T${T}-B${B}`, shape: `${T}x${B}`, engine: ['seqgpu'], peers: [], quick,
    flops: 2 * T * B * 4 * H * (E + H) + 2 * B * H * C,
    bytes: 4 * (vocab * E + 4 * H * (E + H) + H * C), roof: 'fma', tol: { atol: 1e-4, rtol: 1e-3 },
    spec: { op: 'model', items: B, unit: 'sequences' },
    build: () => {
      setInitSeed(7);
      const model = new TextClassifier({ vocabSize: vocab, numClasses: C, embedDim: E, hiddenSize: H, cell: 'lstm' });
      const ids = Int32Array.from(uniform(T * B, 41), (u) => Math.floor((u + 1) * 0.5 * vocab) % vocab);
      // Lengths T, T-1, ...: each sequence's last valid step, repeated over H (torch.gather's index).
      const last = new Int32Array(B * H);
      for (let b = 0; b < B; b++) last.fill(Math.max(0, T - 1 - b), b * H, (b + 1) * H);
      return { graph: model.graph(T, B), feeds: { ids, last }, consts: {} };
    },
  };
}

function gptStepCase(cfg: GPT2Config, maxLen: number, pos: number, quick: boolean): BenchCase {
  const { nEmbd: E, nLayer: L, vocabSize: V } = cfg;
  return {
    suite: 'model', name: `model-gpt-decode-L${L}-E${E}`, shape: `1x${pos + 1}of${maxLen}`, engine: ['seqgpu'], peers: [], quick,
    // Per token: 12 E² weights per layer and the tied head, 2 flops each; attention over pos + 1 rows.
    flops: 2 * (L * 12 * E * E + V * E) + 4 * L * (pos + 1) * E,
    bytes: 4 * (L * 12 * E * E + V * E + 2 * L * maxLen * E), roof: 'fma', tol: { atol: 2e-4, rtol: 1e-3 },
    spec: { op: 'model', items: 1, unit: 'tokens' },
    build: () => {
      setInitSeed(11);
      const model = new GPT2LMHeadModel(cfg);
      const graph: Graph = stepGraph(model, maxLen, 1);
      const mask = new Uint8Array(maxLen);
      mask.fill(1, 0, pos + 1);
      // The cache rows before `pos` are zero (a fresh state); the step writes row `pos` and attends to 0..pos.
      return { graph, feeds: { ids: Int32Array.of(42), pos: Int32Array.of(pos), posIds: Int32Array.of(pos), mask }, consts: {} };
    },
  };
}

/** src [S, B] and tgt [T, B] through encoder and decoder at once (teacher forcing) → logits [T, B, vocab]. */
function translatorCase(S: number, T: number, B: number, quick: boolean): BenchCase {
  const V = 1000, E = 128, F = 256, layers = 2;
  // Per token: attention projections 4 E², feed-forward 2 E F per layer (the decoder has two attentions).
  const perTok = (n: number) => 2 * layers * n * (4 * E * E + 2 * E * F);
  return {
    suite: 'model', name: `model-translator-S${S}-T${T}-B${B}`, shape: `${S}x${T}x${B}`, engine: ['seqgpu'], peers: [], quick,
    flops: B * (perTok(S) + 2 * perTok(T) + 2 * T * E * V), bytes: 4 * (2 * V * E + layers * 3 * (4 * E * E + 2 * E * F)),
    roof: 'fma', tol: { atol: 2e-4, rtol: 1e-3 },
    spec: { op: 'model', items: B, unit: 'sentences' },
    build: () => {
      setInitSeed(13);
      const model = new Seq2SeqTransformer({ srcVocab: V, tgtVocab: V, embSize: E, nhead: 4, numEncoderLayers: layers, numDecoderLayers: layers, dimFeedforward: F, maxPositions: 64 });
      const ids = (n: number, seed: number) => Int32Array.from(uniform(n, seed), (u) => Math.floor((u + 1) * 0.5 * V) % V);
      // Source lengths S, S-2, ...: padding (true = ignore, as torch's key_padding_mask) after each.
      const srcPad = new Uint8Array(B * S);
      for (let b = 0; b < B; b++) srcPad.fill(1, b * S + Math.max(1, S - 2 * b), (b + 1) * S);
      return { graph: model.fullGraph(S, T, B), feeds: { src: ids(S * B, 51), tgt: ids(T * B, 52), srcPad }, consts: {} };
    },
  };
}

export function modelCases(): BenchCase[] {
  return [
    classifierCase(32, 8, true),
    classifierCase(32, 64, false),
    gptStepCase({ vocabSize: 1000, nPositions: 128, nEmbd: 128, nLayer: 2, nHead: 4 }, 128, 15, true),
    gptStepCase({ vocabSize: 4096, nPositions: 256, nEmbd: 256, nLayer: 4, nHead: 4 }, 256, 63, false),
    translatorCase(16, 16, 8, true),
    ...gpt2RealCases(),
  ];
}
