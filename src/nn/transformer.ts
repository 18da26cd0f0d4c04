// torch.nn's Transformer family under its state_dict names (TransformerEncoderLayer,
// TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, Transformer) and the PyTorch
// tutorial's sinusoidal PositionalEncoding. Dropout is an identity at inference and is left out.
import { ShapeError, fmtShape } from '../errors';
import type { Graph, Tensor } from '../graph/graph';
import { MultiheadAttention, generateSquareSubsequentMask, type AttentionMasks } from './attention';
import { LayerNorm, Linear } from './layers';
import { Module, ModuleList, constantOf } from './module';
import { initXavier } from './init';

/** torch.nn.TransformerEncoderLayer / DecoderLayer's keyword arguments (dropout left out: inference only). */
export interface TransformerLayerOptions {
  /** The feed-forward activation: 'relu' (default) or 'gelu' (the exact, erf form). */
  activation?: 'relu' | 'gelu';
  /** Pre-norm: LayerNorm before each block rather than after the residual add; default false. */
  normFirst?: boolean;
  /** Inputs and output as [B, T, E] rather than [T, B, E]; default false. */
  batchFirst?: boolean;
  /** The LayerNorms' eps; default 1e-5. */
  layerNormEps?: number;
  /** Whether the Linear, attention and LayerNorm layers have biases; default true. */
  bias?: boolean;
}

/** The feed-forward block and options both layer kinds share. */
abstract class LayerBase extends Module {
  /** The feed-forward activation. */
  readonly activation: 'relu' | 'gelu';
  /** Whether each block is pre-norm. */
  readonly normFirst: boolean;
  /** Whether inputs and output are [B, T, E]. */
  readonly batchFirst: boolean;
  /** The LayerNorms' eps. */
  readonly eps: number;
  /** Whether the layers have biases. */
  readonly bias: boolean;

  constructor(
    op: string,
    /** E, the model's feature size. */
    readonly dModel: number,
    /** Attention heads; dModel must be a multiple of it. */
    readonly nhead: number,
    /** The feed-forward block's hidden size. */
    readonly dimFeedforward: number,
    opts: TransformerLayerOptions,
  ) {
    super();
    this.activation = opts.activation ?? 'relu';
    if (this.activation !== 'relu' && this.activation !== 'gelu') throw new ShapeError(`${op}: activation must be 'relu' or 'gelu', got '${this.activation}'`);
    this.normFirst = opts.normFirst ?? false;
    this.batchFirst = opts.batchFirst ?? false;
    this.eps = opts.layerNormEps ?? 1e-5;
    this.bias = opts.bias ?? true;
  }

  protected mha(): MultiheadAttention {
    return new MultiheadAttention(this.dModel, this.nhead, { batchFirst: this.batchFirst, bias: this.bias });
  }
  protected norm(): LayerNorm {
    return new LayerNorm(this.dModel, { eps: this.eps, bias: this.bias });
  }

  /** linear2(activation(linear1(x))); gelu is the exact (erf) form, as torch's 'gelu'. */
  protected feedForward(g: Graph, linear1: Linear, linear2: Linear, x: Tensor): Tensor {
    const h = linear1.forward(g, x);
    return linear2.forward(g, this.activation === 'relu' ? g.relu(h) : g.gelu(h));
  }
}

/** torch.nn.TransformerEncoderLayer: `self_attn`, `linear1`, `linear2`, `norm1`, `norm2`. */
export class TransformerEncoderLayer extends LayerBase {
  /** `self_attn`: self-attention over the source. */
  readonly selfAttn: MultiheadAttention;
  /** `linear1`: the feed-forward block's first layer, E → dimFeedforward. */
  readonly linear1: Linear;
  /** `linear2`: the feed-forward block's second layer, dimFeedforward → E. */
  readonly linear2: Linear;
  /** `norm1`: the LayerNorm of the self-attention block. */
  readonly norm1: LayerNorm;
  /** `norm2`: the LayerNorm of the feed-forward block. */
  readonly norm2: LayerNorm;

  /**
   * Builds the sublayers (xavier-uniform attention projections, torch's Linear and LayerNorm
   * initialisation). Throws a ShapeError for an activation other than 'relu' or 'gelu', or a
   * dModel that is not a multiple of nhead.
   * @param dModel E, the model's feature size
   * @param nhead attention heads
   * @param dimFeedforward the feed-forward block's hidden size (default 2048, torch's)
   * @param opts activation, normFirst, batchFirst, layerNormEps, bias
   */
  constructor(dModel: number, nhead: number, dimFeedforward = 2048, opts: TransformerLayerOptions = {}) {
    super('TransformerEncoderLayer', dModel, nhead, dimFeedforward, opts);
    this.selfAttn = this.addModule('self_attn', this.mha());
    this.linear1 = this.addModule('linear1', new Linear(dModel, dimFeedforward, this.bias));
    this.linear2 = this.addModule('linear2', new Linear(dimFeedforward, dModel, this.bias));
    this.norm1 = this.addModule('norm1', this.norm());
    this.norm2 = this.addModule('norm2', this.norm());
  }

  /** src [S, B, E] ([B, S, E] with batchFirst); masks as MultiheadAttention's (srcMask is its attnMask). */
  forward(g: Graph, src: Tensor, m: { srcMask?: Tensor; srcKeyPaddingMask?: Tensor; isCausal?: boolean } = {}): Tensor {
    const masks: AttentionMasks = { attnMask: m.srcMask, keyPaddingMask: m.srcKeyPaddingMask, isCausal: m.isCausal };
    const sa = (x: Tensor) => this.selfAttn.forward(g, x, x, x, masks);
    const ff = (x: Tensor) => this.feedForward(g, this.linear1, this.linear2, x);
    let x = src;
    if (this.normFirst) {
      x = g.add(x, sa(this.norm1.forward(g, x)));
      return g.add(x, ff(this.norm2.forward(g, x)));
    }
    x = this.norm1.forward(g, g.add(x, sa(x)));
    return this.norm2.forward(g, g.add(x, ff(x)));
  }
}

/**
 * A decoder's masks, as torch's TransformerDecoder takes them: bool masks are true = ignore, f32
 * masks are added to the scores.
 */
export interface DecoderMasks {
  /** Self-attention mask, [T, T] or [B·nhead, T, T]. */
  tgtMask?: Tensor;
  /** Cross-attention mask, [T, S] or [B·nhead, T, S]. */
  memoryMask?: Tensor;
  /** Target padding, [B, T]: true where a position is padding (ignored). */
  tgtKeyPaddingMask?: Tensor;
  /** Source padding for cross-attention, [B, S]: true where a position is padding (ignored). */
  memoryKeyPaddingMask?: Tensor;
  /** Causal self-attention; with no tgtMask it builds the mask (torch needs tgtMask as well). */
  tgtIsCausal?: boolean;
}

/** torch.nn.TransformerDecoderLayer: `self_attn`, `multihead_attn`, `linear1`, `linear2`, `norm1..3`. */
export class TransformerDecoderLayer extends LayerBase {
  /** `self_attn`: self-attention over the target. */
  readonly selfAttn: MultiheadAttention;
  /** `multihead_attn`: cross-attention from the target to the encoder's memory. */
  readonly multiheadAttn: MultiheadAttention;
  /** `linear1`: the feed-forward block's first layer, E → dimFeedforward. */
  readonly linear1: Linear;
  /** `linear2`: the feed-forward block's second layer, dimFeedforward → E. */
  readonly linear2: Linear;
  /** `norm1`: the LayerNorm of the self-attention block. */
  readonly norm1: LayerNorm;
  /** `norm2`: the LayerNorm of the cross-attention block. */
  readonly norm2: LayerNorm;
  /** `norm3`: the LayerNorm of the feed-forward block. */
  readonly norm3: LayerNorm;

  /**
   * Builds the sublayers (xavier-uniform attention projections, torch's Linear and LayerNorm
   * initialisation). Throws a ShapeError for an activation other than 'relu' or 'gelu', or a
   * dModel that is not a multiple of nhead.
   * @param dModel E, the model's feature size
   * @param nhead attention heads
   * @param dimFeedforward the feed-forward block's hidden size (default 2048, torch's)
   * @param opts activation, normFirst, batchFirst, layerNormEps, bias
   */
  constructor(dModel: number, nhead: number, dimFeedforward = 2048, opts: TransformerLayerOptions = {}) {
    super('TransformerDecoderLayer', dModel, nhead, dimFeedforward, opts);
    this.selfAttn = this.addModule('self_attn', this.mha());
    this.multiheadAttn = this.addModule('multihead_attn', this.mha());
    this.linear1 = this.addModule('linear1', new Linear(dModel, dimFeedforward, this.bias));
    this.linear2 = this.addModule('linear2', new Linear(dimFeedforward, dModel, this.bias));
    this.norm1 = this.addModule('norm1', this.norm());
    this.norm2 = this.addModule('norm2', this.norm());
    this.norm3 = this.addModule('norm3', this.norm());
  }

  /** tgt [T, B, E], memory [S, B, E] (batch first with batchFirst). */
  forward(g: Graph, tgt: Tensor, memory: Tensor, m: DecoderMasks = {}): Tensor {
    const self: AttentionMasks = { attnMask: m.tgtMask, keyPaddingMask: m.tgtKeyPaddingMask, isCausal: m.tgtIsCausal && !m.tgtMask };
    const cross: AttentionMasks = { attnMask: m.memoryMask, keyPaddingMask: m.memoryKeyPaddingMask };
    return this.forwardWith(g, tgt, (x) => this.selfAttn.forward(g, x, x, x, self), (x) => this.multiheadAttn.forward(g, x, memory, memory, cross));
  }

  /**
   * The layer's residual and norm structure around attention blocks the caller supplies: `sa` and
   * `ca` map the (normed) input to the self- and cross-attention outputs. Cached decoding passes
   * attention over its KV caches here.
   */
  forwardWith(g: Graph, tgt: Tensor, sa: (x: Tensor) => Tensor, ca: (x: Tensor) => Tensor): Tensor {
    const ff = (x: Tensor) => this.feedForward(g, this.linear1, this.linear2, x);
    let x = tgt;
    if (this.normFirst) {
      x = g.add(x, sa(this.norm1.forward(g, x)));
      x = g.add(x, ca(this.norm2.forward(g, x)));
      return g.add(x, ff(this.norm3.forward(g, x)));
    }
    x = this.norm1.forward(g, g.add(x, sa(x)));
    x = this.norm2.forward(g, g.add(x, ca(x)));
    return this.norm3.forward(g, g.add(x, ff(x)));
  }
}

/** torch.nn.TransformerEncoder: `layers.{i}.*` and, if given, `norm.*`. */
export class TransformerEncoder extends Module {
  /** `layers`: the stack, applied in order. */
  readonly layers: ModuleList<TransformerEncoderLayer>;
  /** `norm`: a final LayerNorm, if one was given. */
  readonly norm?: LayerNorm;
  /**
   * A stack of numLayers encoder layers, each made by makeLayer.
   * @param makeLayer makes layer i (torch deep-copies one layer; here each is made afresh)
   * @param numLayers how many layers
   * @param norm a final LayerNorm, applied after the last layer
   */
  constructor(makeLayer: (i: number) => TransformerEncoderLayer, numLayers: number, norm?: LayerNorm) {
    super();
    this.layers = this.addModule('layers', new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i))));
    if (norm) this.norm = this.addModule('norm', norm);
  }
  /** src [S, B, E] ([B, S, E] with batchFirst) through every layer, then norm → the same shape. `mask` is each layer's srcMask. */
  forward(g: Graph, src: Tensor, m: { mask?: Tensor; srcKeyPaddingMask?: Tensor; isCausal?: boolean } = {}): Tensor {
    let x = src;
    for (const layer of this.layers.items) x = layer.forward(g, x, { srcMask: m.mask, srcKeyPaddingMask: m.srcKeyPaddingMask, isCausal: m.isCausal });
    return this.norm ? this.norm.forward(g, x) : x;
  }
}

/** torch.nn.TransformerDecoder: `layers.{i}.*` and, if given, `norm.*`. */
export class TransformerDecoder extends Module {
  /** `layers`: the stack, applied in order. */
  readonly layers: ModuleList<TransformerDecoderLayer>;
  /** `norm`: a final LayerNorm, if one was given. */
  readonly norm?: LayerNorm;
  /**
   * A stack of numLayers decoder layers, each made by makeLayer.
   * @param makeLayer makes layer i (torch deep-copies one layer; here each is made afresh)
   * @param numLayers how many layers
   * @param norm a final LayerNorm, applied after the last layer
   */
  constructor(makeLayer: (i: number) => TransformerDecoderLayer, numLayers: number, norm?: LayerNorm) {
    super();
    this.layers = this.addModule('layers', new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i))));
    if (norm) this.norm = this.addModule('norm', norm);
  }
  /** tgt [T, B, E] and memory [S, B, E] (batch first with batchFirst) through every layer, then norm → [T, B, E]. */
  forward(g: Graph, tgt: Tensor, memory: Tensor, m: DecoderMasks = {}): Tensor {
    let x = tgt;
    for (const layer of this.layers.items) x = layer.forward(g, x, memory, m);
    return this.norm ? this.norm.forward(g, x) : x;
  }
}

/** torch.nn.Transformer's keyword arguments, with torch's defaults. */
export interface TransformerOptions extends TransformerLayerOptions {
  /** E, the model's feature size; default 512. */
  dModel?: number;
  /** Attention heads; default 8. */
  nhead?: number;
  /** Encoder layers; default 6. */
  numEncoderLayers?: number;
  /** Decoder layers; default 6. */
  numDecoderLayers?: number;
  /** The feed-forward blocks' hidden size; default 2048. */
  dimFeedforward?: number;
}

/** Every mask of a Transformer call: the decoder's, and the source's (bool true = ignore; f32 added). */
export interface TransformerMasks extends DecoderMasks {
  /** Encoder self-attention mask, [S, S] or [B·nhead, S, S]. */
  srcMask?: Tensor;
  /** Source padding, [B, S]: true where a position is padding (ignored). */
  srcKeyPaddingMask?: Tensor;
}

/**
 * torch.nn.Transformer: `encoder.layers.{i}.*`, `encoder.norm.*`, `decoder.layers.{i}.*`,
 * `decoder.norm.*`; torch's defaults (512, 8 heads, 6 + 6 layers, 2048), xavier-initialised.
 */
export class Transformer extends Module {
  /** `encoder`: the encoder stack with its final norm. */
  readonly encoder: TransformerEncoder;
  /** `decoder`: the decoder stack with its final norm. */
  readonly decoder: TransformerDecoder;
  /** E, the model's feature size. */
  readonly dModel: number;
  /** Whether inputs and output are [B, T, E]. */
  readonly batchFirst: boolean;

  /** Both stacks with final norms; every parameter of rank 2 and more Xavier-uniform, as torch. */
  constructor(opts: TransformerOptions = {}) {
    super();
    const d = (this.dModel = opts.dModel ?? 512), h = opts.nhead ?? 8, ff = opts.dimFeedforward ?? 2048;
    this.batchFirst = opts.batchFirst ?? false;
    const norm = () => new LayerNorm(d, { eps: opts.layerNormEps ?? 1e-5, bias: opts.bias ?? true });
    this.encoder = this.addModule('encoder', new TransformerEncoder(() => new TransformerEncoderLayer(d, h, ff, opts), opts.numEncoderLayers ?? 6, norm()));
    this.decoder = this.addModule('decoder', new TransformerDecoder(() => new TransformerDecoderLayer(d, h, ff, opts), opts.numDecoderLayers ?? 6, norm()));
    for (const [, p] of this.namedParameters()) if (p.shape.length > 1) p.data = initXavier(p.shape[0], p.shape[1]);
  }

  /** src [S, B, E], tgt [T, B, E] (batch first with batchFirst) → [T, B, E]. */
  forward(g: Graph, src: Tensor, tgt: Tensor, m: TransformerMasks = {}): Tensor {
    return this.decode(g, tgt, this.encode(g, src, m), m);
  }
  /** The encoder alone: src [S, B, E] (batch first with batchFirst) → memory of the same shape. */
  encode(g: Graph, src: Tensor, m: { srcMask?: Tensor; srcKeyPaddingMask?: Tensor } = {}): Tensor {
    return this.encoder.forward(g, src, { mask: m.srcMask, srcKeyPaddingMask: m.srcKeyPaddingMask });
  }
  /** The decoder alone: tgt [T, B, E] against memory [S, B, E] (batch first with batchFirst) → [T, B, E]. */
  decode(g: Graph, tgt: Tensor, memory: Tensor, m: DecoderMasks = {}): Tensor {
    return this.decoder.forward(g, tgt, memory, m);
  }

  /** torch.nn.Transformer.generate_square_subsequent_mask: an f32 constant [n, n], -inf above the diagonal, 0 elsewhere. */
  static generateSquareSubsequentMask(g: Graph, n: number): Tensor {
    return generateSquareSubsequentMask(g, n);
  }
}

/**
 * The PyTorch tutorial's sinusoidal positional encoding, computed (float64, rounded to f32), not a
 * parameter: pe[pos, 2i] = sin(pos / 10000^(2i/d)), pe[pos, 2i+1] = cos(pos / 10000^(2i/d)).
 * The tutorial registers it as the buffer `pe`; a state dict holding it is accepted, and it is ignored.
 */
export class PositionalEncoding extends Module {
  /** The encodings, [maxLen, dModel] row-major. */
  readonly table: Float32Array;
  /** Computes the table; a ShapeError unless dModel and maxLen are positive integers. */
  constructor(
    /** The feature size the encodings are added to. */
    readonly dModel: number,
    /** Positions in the table; default 5000. */
    readonly maxLen = 5000,
    /** Whether x is [B, T, d] rather than [T, B, d]; default false. */
    readonly batchFirst = false,
  ) {
    super();
    if (!Number.isInteger(dModel) || dModel <= 0 || !Number.isInteger(maxLen) || maxLen <= 0) {
      throw new ShapeError(`PositionalEncoding: dModel ${dModel} and maxLen ${maxLen} must be positive integers`);
    }
    this.table = new Float32Array(maxLen * dModel);
    for (let pos = 0; pos < maxLen; pos++) {
      for (let j = 0; j < dModel; j++) {
        const angle = pos / 10000 ** ((j - (j % 2)) / dModel);
        this.table[pos * dModel + j] = j % 2 ? Math.cos(angle) : Math.sin(angle);
      }
    }
    this.ignoreBuffer('pe');
  }

  /** The rows for positions [offset, offset + n) as a constant [n, dModel]. */
  encodings(g: Graph, offset: number, n: number): Tensor {
    if (!Number.isInteger(offset) || offset < 0 || offset + n > this.maxLen) {
      throw new ShapeError(`PositionalEncoding: positions ${offset}..${offset + n - 1} pass the table of ${this.maxLen} positions`);
    }
    return constantOf(g, this.table.subarray(offset * this.dModel, (offset + n) * this.dModel), [n, this.dModel]);
  }

  /** x [T, B, d] ([B, T, d] with batchFirst) + the encodings of positions offset .. offset + T - 1. */
  forward(g: Graph, x: Tensor, offset = 0): Tensor {
    const s = x.shape;
    if (s.length !== 3 || s[2] !== this.dModel) {
      throw new ShapeError(`PositionalEncoding: x ${fmtShape(s)} must be ${this.batchFirst ? '[B, T' : '[T, B'}, ${this.dModel}]`);
    }
    const T = this.batchFirst ? s[1] : s[0];
    const pe = this.encodings(g, offset, T);
    return g.add(x, g.reshape(pe, this.batchFirst ? [1, T, this.dModel] : [T, 1, this.dModel]));
  }
}
