// torch.nn's Transformer family under its state_dict names (TransformerEncoderLayer,
// TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, Transformer) and the PyTorch
// tutorial's sinusoidal PositionalEncoding. Dropout is an identity at inference and is left out.
import { ShapeError, fmtShape } from '../errors';
import type { Graph, Tensor } from '../graph/graph';
import { MultiheadAttention, generateSquareSubsequentMask, type AttentionMasks } from './attention';
import { LayerNorm, Linear } from './layers';
import { Module, ModuleList, constantOf, initXavier } from './module';

export interface TransformerLayerOptions {
  activation?: 'relu' | 'gelu';
  normFirst?: boolean;
  batchFirst?: boolean;
  layerNormEps?: number;
  bias?: boolean;
}

/** The feed-forward block and options both layer kinds share. */
abstract class LayerBase extends Module {
  readonly activation: 'relu' | 'gelu';
  readonly normFirst: boolean;
  readonly batchFirst: boolean;
  readonly eps: number;
  readonly bias: boolean;

  constructor(op: string, readonly dModel: number, readonly nhead: number, readonly dimFeedforward: number, opts: TransformerLayerOptions) {
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
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;

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

export interface DecoderMasks {
  tgtMask?: Tensor;
  memoryMask?: Tensor;
  tgtKeyPaddingMask?: Tensor;
  memoryKeyPaddingMask?: Tensor;
  /** Causal self-attention; with no tgtMask it builds the mask (torch needs tgtMask as well). */
  tgtIsCausal?: boolean;
}

/** torch.nn.TransformerDecoderLayer: `self_attn`, `multihead_attn`, `linear1`, `linear2`, `norm1..3`. */
export class TransformerDecoderLayer extends LayerBase {
  readonly selfAttn: MultiheadAttention;
  readonly multiheadAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;

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
  readonly layers: ModuleList<TransformerEncoderLayer>;
  readonly norm?: LayerNorm;
  constructor(makeLayer: (i: number) => TransformerEncoderLayer, numLayers: number, norm?: LayerNorm) {
    super();
    this.layers = this.addModule('layers', new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i))));
    if (norm) this.norm = this.addModule('norm', norm);
  }
  forward(g: Graph, src: Tensor, m: { mask?: Tensor; srcKeyPaddingMask?: Tensor; isCausal?: boolean } = {}): Tensor {
    let x = src;
    for (const layer of this.layers.items) x = layer.forward(g, x, { srcMask: m.mask, srcKeyPaddingMask: m.srcKeyPaddingMask, isCausal: m.isCausal });
    return this.norm ? this.norm.forward(g, x) : x;
  }
}

/** torch.nn.TransformerDecoder: `layers.{i}.*` and, if given, `norm.*`. */
export class TransformerDecoder extends Module {
  readonly layers: ModuleList<TransformerDecoderLayer>;
  readonly norm?: LayerNorm;
  constructor(makeLayer: (i: number) => TransformerDecoderLayer, numLayers: number, norm?: LayerNorm) {
    super();
    this.layers = this.addModule('layers', new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i))));
    if (norm) this.norm = this.addModule('norm', norm);
  }
  forward(g: Graph, tgt: Tensor, memory: Tensor, m: DecoderMasks = {}): Tensor {
    let x = tgt;
    for (const layer of this.layers.items) x = layer.forward(g, x, memory, m);
    return this.norm ? this.norm.forward(g, x) : x;
  }
}

export interface TransformerOptions extends TransformerLayerOptions {
  dModel?: number;
  nhead?: number;
  numEncoderLayers?: number;
  numDecoderLayers?: number;
  dimFeedforward?: number;
}

export interface TransformerMasks extends DecoderMasks {
  srcMask?: Tensor;
  srcKeyPaddingMask?: Tensor;
}

/**
 * torch.nn.Transformer: `encoder.layers.{i}.*`, `encoder.norm.*`, `decoder.layers.{i}.*`,
 * `decoder.norm.*`; torch's defaults (512, 8 heads, 6 + 6 layers, 2048), xavier-initialised.
 */
export class Transformer extends Module {
  readonly encoder: TransformerEncoder;
  readonly decoder: TransformerDecoder;
  readonly dModel: number;
  readonly batchFirst: boolean;

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
  encode(g: Graph, src: Tensor, m: { srcMask?: Tensor; srcKeyPaddingMask?: Tensor } = {}): Tensor {
    return this.encoder.forward(g, src, { mask: m.srcMask, srcKeyPaddingMask: m.srcKeyPaddingMask });
  }
  decode(g: Graph, tgt: Tensor, memory: Tensor, m: DecoderMasks = {}): Tensor {
    return this.decoder.forward(g, tgt, memory, m);
  }

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
  readonly table: Float32Array;
  constructor(readonly dModel: number, readonly maxLen = 5000, readonly batchFirst = false) {
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
