// The basic torch.nn layers under their state_dict names: Embedding, Linear, LayerNorm and the
// recurrent stacks RNN, LSTM, GRU (which build g.rnn / g.lstm / g.gru). Initial values follow
// torch's reset_parameters, drawn from the seeded module generator.
import { ShapeError } from '../errors';
import type { Graph, Tensor } from '../graph/graph';
import { rnnParamNames, rnnParamShape, type Cell } from '../graph/ir';
import type { RnnParams } from '../ops/rnn';
import { numel } from '../graph/shapes';
import { Module, type Parameter } from './module';
import { initFill, initNormal, initUniform } from './init';

const positive = (op: string, what: string, v: number) => {
  if (!Number.isInteger(v) || v <= 0) throw new ShapeError(`${op}: ${what} must be a positive integer, got ${v}`);
};

/** torch.nn.Embedding: `weight` [num, dim], N(0, 1). Ids are i32; out-of-range ids are an InputError at run. */
export class Embedding extends Module {
  /** `weight`: [numEmbeddings, embeddingDim], row i the vector of id i. */
  readonly weight: Parameter;
  /**
   * Draws `weight` from N(0, 1), as torch. Throws a ShapeError unless both sizes are positive integers.
   * @param opts `weightDtype`: hold the table in 16 bits (see {@link WeightOptions})
   */
  constructor(
    /** The vocabulary size: ids must lie in 0..numEmbeddings-1. */
    readonly numEmbeddings: number,
    /** The size of each vector. */
    readonly embeddingDim: number,
    opts: WeightOptions = {},
  ) {
    super();
    positive('Embedding', 'numEmbeddings', numEmbeddings);
    positive('Embedding', 'embeddingDim', embeddingDim);
    this.weight = this.addParameter('weight', [numEmbeddings, embeddingDim], initNormal(numEmbeddings * embeddingDim, 1), { weight16: true });
    if (opts.weightDtype !== undefined) this.setWeightDtype(opts.weightDtype);
  }
  /** ids (i32, any shape [...]) → their rows of `weight`: [..., embeddingDim]. */
  forward(g: Graph, ids: Tensor): Tensor {
    return g.embedding(ids, this.tensor(g, this.weight));
  }
}

/** torch.nn.Linear: `weight` [out, in], `bias` [out]; y = x·Wᵀ + b. */
export class Linear extends Module {
  /** `weight`: [outFeatures, inFeatures], U(-1/√in, 1/√in) until loaded. */
  readonly weight: Parameter;
  /** `bias`: [outFeatures], U(-1/√in, 1/√in) until loaded; absent when constructed with bias = false. */
  readonly bias?: Parameter;
  /**
   * Draws weight and bias from U(-1/√inFeatures, 1/√inFeatures), as torch. Throws a ShapeError
   * unless both sizes are positive integers.
   * @param bias whether the layer has a bias (default true)
   * @param opts `weightDtype`: hold the weight in 16 bits (see {@link WeightOptions}); the bias stays f32
   */
  constructor(
    /** The size of each input's last dim. */
    readonly inFeatures: number,
    /** The size of each output's last dim. */
    readonly outFeatures: number,
    bias = true,
    opts: WeightOptions = {},
  ) {
    super();
    positive('Linear', 'inFeatures', inFeatures);
    positive('Linear', 'outFeatures', outFeatures);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.addParameter('weight', [outFeatures, inFeatures], initUniform(outFeatures * inFeatures, bound), { weight16: true });
    if (bias) this.bias = this.addParameter('bias', [outFeatures], initUniform(outFeatures, bound));
    if (opts.weightDtype !== undefined) this.setWeightDtype(opts.weightDtype);
  }
  /** x [..., inFeatures] → x·weightᵀ + bias: [..., outFeatures]. */
  forward(g: Graph, x: Tensor): Tensor {
    return g.linear(x, this.tensor(g, this.weight), this.bias && this.tensor(g, this.bias));
  }
}

/**
 * The 16-bit weight option of Linear, Embedding and GPT2LMHeadModel. `weightDtype` 'f16' or 'bf16'
 * holds the weights that linear, matmul and embedding read in 16 bits: the initial f32 values, and
 * f32 values loaded later, are rounded to nearest (ties to even); 16-bit values loaded (readSafetensors
 * with keep16) are kept as they are. Biases and norm parameters stay f32. Default 'f32'.
 */
export interface WeightOptions {
  /** 'f32' (default), 'f16' or 'bf16'. */
  weightDtype?: 'f32' | 'f16' | 'bf16';
}

/** torch.nn.LayerNorm's keyword arguments. */
export interface LayerNormOptions {
  /** Added to the variance before the square root; default 1e-5. */
  eps?: number;
  /** torch's elementwise_affine: false means no weight and no bias. */
  elementwiseAffine?: boolean;
  /** false: a weight but no bias (torch >= 2.1). */
  bias?: boolean;
}

/** torch.nn.LayerNorm over the trailing `normalizedShape` dims: `weight` ones, `bias` zeros. */
export class LayerNorm extends Module {
  /** The trailing dims normalised over, e.g. [dModel]. */
  readonly normalizedShape: number[];
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** `weight`: normalizedShape, ones until loaded; absent without elementwiseAffine. */
  readonly weight?: Parameter;
  /** `bias`: normalizedShape, zeros until loaded; absent without elementwiseAffine or with bias false. */
  readonly bias?: Parameter;
  /**
   * weight ones and bias zeros, as torch. Throws a ShapeError unless every dim is a positive integer.
   * @param normalizedShape the trailing dims to normalise over (a number is one dim)
   * @param opts eps, elementwiseAffine, bias
   */
  constructor(normalizedShape: number | number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape.slice();
    for (const d of this.normalizedShape) positive('LayerNorm', 'normalizedShape', d);
    this.eps = opts.eps ?? 1e-5;
    const n = numel(this.normalizedShape);
    if (opts.elementwiseAffine ?? true) {
      this.weight = this.addParameter('weight', this.normalizedShape, initFill(n, 1));
      if (opts.bias ?? true) this.bias = this.addParameter('bias', this.normalizedShape, initFill(n, 0));
    }
  }
  /** x [..., *normalizedShape] → the same shape, normalised over the trailing dims, then scaled and shifted. */
  forward(g: Graph, x: Tensor): Tensor {
    const w = this.weight && this.tensor(g, this.weight), b = this.bias && this.tensor(g, this.bias);
    return g.layerNorm(x, this.normalizedShape, w, b, this.eps);
  }
}

/** torch.nn.RNN / LSTM / GRU's keyword arguments (no dropout: inference only; no proj_size). */
export interface RecurrentOptions {
  /** Stacked layers; default 1. */
  numLayers?: number;
  /** A backward direction per layer too, its h concatenated after the forward one's; default false. */
  bidirectional?: boolean;
  /** x and output as [B, T, ...] rather than [T, B, ...]; default false (h0, c0, hN, cN stay [D·numLayers, B, H]). */
  batchFirst?: boolean;
  /** torch's bias: false means no bias_ih / bias_hh parameters. */
  bias?: boolean;
}

/** The common part of RNN, LSTM and GRU: `weight_ih_l{k}[_reverse]` and friends, U(-1/√H, 1/√H). */
abstract class RecurrentBase extends Module {
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether each layer also runs backward (D = 2). */
  readonly bidirectional: boolean;
  /** Whether x and output are [B, T, ...]. */
  readonly batchFirst: boolean;
  /** Whether the stack has bias_ih / bias_hh parameters (torch's `bias`). */
  readonly hasBias: boolean;
  /** The parameters under their torch names (`weight_ih_l0`, `weight_hh_l0_reverse`, ...). */
  readonly params: Record<string, Parameter> = {};

  constructor(
    op: string,
    cell: Cell,
    /** I, the features of each step of x. */
    readonly inputSize: number,
    /** H, the features of each hidden state. */
    readonly hiddenSize: number,
    opts: RecurrentOptions,
  ) {
    super();
    positive(op, 'inputSize', inputSize);
    positive(op, 'hiddenSize', hiddenSize);
    this.numLayers = opts.numLayers ?? 1;
    positive(op, 'numLayers', this.numLayers);
    this.bidirectional = opts.bidirectional ?? false;
    this.batchFirst = opts.batchFirst ?? false;
    this.hasBias = opts.bias ?? true;
    const D = this.bidirectional ? 2 : 1, bound = 1 / Math.sqrt(hiddenSize);
    for (const name of rnnParamNames(this.numLayers, D, this.hasBias)) {
      const shape = rnnParamShape(name, cell, hiddenSize, inputSize, D);
      this.params[name] = this.addParameter(name, shape, initUniform(numel(shape), bound));
    }
  }

  protected graphParams(g: Graph): RnnParams {
    const out: RnnParams = {};
    for (const [name, p] of Object.entries(this.params)) out[name] = this.tensor(g, p);
    return out;
  }

  protected graphOptions() {
    return { hiddenSize: this.hiddenSize, numLayers: this.numLayers, bidirectional: this.bidirectional, batchFirst: this.batchFirst, bias: this.hasBias };
  }
}

/** torch.nn.RNN (Elman), nonlinearity 'tanh' or 'relu'. forward: x [T, B, I] (or [B, T, I]) → output, hN. */
export class RNN extends RecurrentBase {
  /** The activation of the recurrence: h' = act(W_ih x + b_ih + W_hh h + b_hh). */
  readonly nonlinearity: 'tanh' | 'relu';
  /**
   * Parameters from U(-1/√H, 1/√H), as torch. Throws a ShapeError for a size that is not a positive
   * integer or another nonlinearity.
   * @param inputSize I, the features of each step of x
   * @param hiddenSize H, the features of the hidden state
   * @param opts numLayers, bidirectional, batchFirst, bias, and nonlinearity ('tanh', the default, or 'relu')
   */
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions & { nonlinearity?: 'tanh' | 'relu' } = {}) {
    super('RNN', 'rnn_tanh', inputSize, hiddenSize, opts);
    this.nonlinearity = opts.nonlinearity ?? 'tanh';
    if (this.nonlinearity !== 'tanh' && this.nonlinearity !== 'relu') {
      throw new ShapeError(`RNN: nonlinearity must be 'tanh' or 'relu', got '${this.nonlinearity}'`);
    }
  }
  /** x [T, B, I] (or [B, T, I]), h0 [D·numLayers, B, H] (default zeros) → output and hN, as {@link Graph.rnn}. */
  forward(g: Graph, x: Tensor, h0?: Tensor): {
    /** Last layer's h at every step: [T, B, D·H] ([B, T, D·H] with batchFirst). */
    output: Tensor;
    /** Each layer's and direction's last h: [D·numLayers, B, H]. */
    hN: Tensor;
  } {
    return g.rnn(x, this.graphParams(g), { ...this.graphOptions(), nonlinearity: this.nonlinearity, h0 });
  }
}

/** torch.nn.LSTM (gates i, f, g, o; no proj_size). forward: x, optional { h0, c0 } → output, hN, cN. */
export class LSTM extends RecurrentBase {
  /**
   * Parameters from U(-1/√H, 1/√H), as torch; a ShapeError for a size that is not a positive integer.
   * @param inputSize I, the features of each step of x
   * @param hiddenSize H, the features of the hidden and cell states
   * @param opts numLayers, bidirectional, batchFirst, bias
   */
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('LSTM', 'lstm', inputSize, hiddenSize, opts);
  }
  /** x [T, B, I] (or [B, T, I]), h0 and c0 [D·numLayers, B, H] (default zeros) → output, hN, cN, as {@link Graph.lstm}. */
  forward(g: Graph, x: Tensor, state: { h0?: Tensor; c0?: Tensor } = {}): {
    /** Last layer's h at every step: [T, B, D·H] ([B, T, D·H] with batchFirst). */
    output: Tensor;
    /** Each layer's and direction's last h: [D·numLayers, B, H]. */
    hN: Tensor;
    /** Each layer's and direction's last c: [D·numLayers, B, H]. */
    cN: Tensor;
  } {
    return g.lstm(x, this.graphParams(g), { ...this.graphOptions(), h0: state.h0, c0: state.c0 });
  }
}

/** torch.nn.GRU (gates r, z, n). forward: x, optional h0 → output, hN. */
export class GRU extends RecurrentBase {
  /**
   * Parameters from U(-1/√H, 1/√H), as torch; a ShapeError for a size that is not a positive integer.
   * @param inputSize I, the features of each step of x
   * @param hiddenSize H, the features of the hidden state
   * @param opts numLayers, bidirectional, batchFirst, bias
   */
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('GRU', 'gru', inputSize, hiddenSize, opts);
  }
  /** x [T, B, I] (or [B, T, I]), h0 [D·numLayers, B, H] (default zeros) → output and hN, as {@link Graph.gru}. */
  forward(g: Graph, x: Tensor, h0?: Tensor): {
    /** Last layer's h at every step: [T, B, D·H] ([B, T, D·H] with batchFirst). */
    output: Tensor;
    /** Each layer's and direction's last h: [D·numLayers, B, H]. */
    hN: Tensor;
  } {
    return g.gru(x, this.graphParams(g), { ...this.graphOptions(), h0 });
  }
}
