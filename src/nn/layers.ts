// The basic torch.nn layers under their state_dict names: Embedding, Linear, LayerNorm and the
// recurrent stacks RNN, LSTM, GRU (which build g.rnn / g.lstm / g.gru). Initial values follow
// torch's reset_parameters, drawn from the seeded module generator.
import { ShapeError } from '../errors';
import type { Graph, Tensor } from '../graph/graph';
import { rnnParamNames, rnnParamShape, type Cell } from '../graph/ir';
import type { RnnParams } from '../ops/rnn';
import { numel } from '../graph/shapes';
import { Module, initFill, initNormal, initUniform, type Parameter } from './module';

const positive = (op: string, what: string, v: number) => {
  if (!Number.isInteger(v) || v <= 0) throw new ShapeError(`${op}: ${what} must be a positive integer, got ${v}`);
};

/** torch.nn.Embedding: `weight` [num, dim], N(0, 1). Ids are i32; out-of-range ids are an InputError at run. */
export class Embedding extends Module {
  readonly weight: Parameter;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number) {
    super();
    positive('Embedding', 'numEmbeddings', numEmbeddings);
    positive('Embedding', 'embeddingDim', embeddingDim);
    this.weight = this.addParameter('weight', [numEmbeddings, embeddingDim], initNormal(numEmbeddings * embeddingDim, 1));
  }
  forward(g: Graph, ids: Tensor): Tensor {
    return g.embedding(ids, this.tensor(g, this.weight));
  }
}

/** torch.nn.Linear: `weight` [out, in], `bias` [out]; y = x·Wᵀ + b. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias?: Parameter;
  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    positive('Linear', 'inFeatures', inFeatures);
    positive('Linear', 'outFeatures', outFeatures);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.addParameter('weight', [outFeatures, inFeatures], initUniform(outFeatures * inFeatures, bound));
    if (bias) this.bias = this.addParameter('bias', [outFeatures], initUniform(outFeatures, bound));
  }
  forward(g: Graph, x: Tensor): Tensor {
    return g.linear(x, this.tensor(g, this.weight), this.bias && this.tensor(g, this.bias));
  }
}

export interface LayerNormOptions {
  eps?: number;
  /** torch's elementwise_affine: false means no weight and no bias. */
  elementwiseAffine?: boolean;
  /** false: a weight but no bias (torch >= 2.1). */
  bias?: boolean;
}

/** torch.nn.LayerNorm over the trailing `normalizedShape` dims: `weight` ones, `bias` zeros. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight?: Parameter;
  readonly bias?: Parameter;
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
  forward(g: Graph, x: Tensor): Tensor {
    const w = this.weight && this.tensor(g, this.weight), b = this.bias && this.tensor(g, this.bias);
    return g.layerNorm(x, this.normalizedShape, w, b, this.eps);
  }
}

export interface RecurrentOptions {
  numLayers?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
  /** torch's bias: false means no bias_ih / bias_hh parameters. */
  bias?: boolean;
}

/** The common part of RNN, LSTM and GRU: `weight_ih_l{k}[_reverse]` and friends, U(-1/√H, 1/√H). */
abstract class RecurrentBase extends Module {
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly batchFirst: boolean;
  readonly hasBias: boolean;
  readonly params: Record<string, Parameter> = {};

  constructor(op: string, cell: Cell, readonly inputSize: number, readonly hiddenSize: number, opts: RecurrentOptions) {
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
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions & { nonlinearity?: 'tanh' | 'relu' } = {}) {
    super('RNN', 'rnn_tanh', inputSize, hiddenSize, opts);
    this.nonlinearity = opts.nonlinearity ?? 'tanh';
    if (this.nonlinearity !== 'tanh' && this.nonlinearity !== 'relu') {
      throw new ShapeError(`RNN: nonlinearity must be 'tanh' or 'relu', got '${this.nonlinearity}'`);
    }
  }
  forward(g: Graph, x: Tensor, h0?: Tensor): { output: Tensor; hN: Tensor } {
    return g.rnn(x, this.graphParams(g), { ...this.graphOptions(), nonlinearity: this.nonlinearity, h0 });
  }
}

/** torch.nn.LSTM (gates i, f, g, o; no proj_size). forward: x, optional { h0, c0 } → output, hN, cN. */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('LSTM', 'lstm', inputSize, hiddenSize, opts);
  }
  forward(g: Graph, x: Tensor, state: { h0?: Tensor; c0?: Tensor } = {}): { output: Tensor; hN: Tensor; cN: Tensor } {
    return g.lstm(x, this.graphParams(g), { ...this.graphOptions(), h0: state.h0, c0: state.c0 });
  }
}

/** torch.nn.GRU (gates r, z, n). forward: x, optional h0 → output, hN. */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('GRU', 'gru', inputSize, hiddenSize, opts);
  }
  forward(g: Graph, x: Tensor, h0?: Tensor): { output: Tensor; hN: Tensor } {
    return g.gru(x, this.graphParams(g), { ...this.graphOptions(), h0 });
  }
}
