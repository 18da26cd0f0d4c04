// GPT-2 under Hugging Face's names (transformers' modeling_gpt2.py): Conv1D, GPT2Attention, GPT2MLP,
// GPT2Block, GPT2Model (`wte`, `wpe`, `h.{i}`, `ln_f`) and GPT2LMHeadModel (`transformer.*`, the LM
// head tied to `wte`; a torch state_dict's `lm_head.weight` equal to `wte` is taken as that tie, one
// that differs as an untied head). Conv1D stores its weight [in, out], so it computes x·W + b; here
// that is a linear over a transposed view of the weight, with no copy.
import { ShapeError, fmtShape } from '../errors';
import type { Graph, Tensor } from '../graph/graph';
import { Embedding, LayerNorm, type WeightOptions } from './layers';
import { toHalf } from '../graph/half';
import { Module, ModuleList, constantOf, makeParameter, type HalfBits, type OptionalEntry, type Parameter } from './module';
import { initFill, initNormal } from './init';

/** Hugging Face's GPT2Config fields that shape the model (GPT-2 small: 50257, 1024, 768, 12, 12). */
export interface GPT2Config {
  /** HF's vocab_size: rows of wte, columns of the logits. */
  vocabSize: number;
  /** HF's n_positions: rows of wpe, the longest sequence. */
  nPositions: number;
  /** HF's n_embd: E, the hidden size; a multiple of nHead. */
  nEmbd: number;
  /** HF's n_layer: transformer blocks. */
  nLayer: number;
  /** HF's n_head: attention heads. */
  nHead: number;
  /** HF's layer_norm_epsilon, 1e-5 by default. */
  layerNormEpsilon?: number;
}

/** HF's Conv1D(nf, nx): `weight` [nx, nf] (in, out), `bias` [nf]; y = x·W + b. */
export class Conv1D extends Module {
  /** `weight`: [nx, nf], stored (in, out), the transpose of a Linear's; N(0, std²) until loaded. */
  readonly weight: Parameter;
  /** `bias`: [nf], zeros until loaded. */
  readonly bias: Parameter;
  /**
   * weight from N(0, std²) and bias zeros, as HF initialises them.
   * @param std the weight's initial standard deviation (HF: initializer_range, 0.02)
   */
  constructor(
    /** Output features. */
    readonly nf: number,
    /** Input features. */
    readonly nx: number,
    std = 0.02,
  ) {
    super();
    this.weight = this.addParameter('weight', [nx, nf], initNormal(nx * nf, std), { weight16: true });
    this.bias = this.addParameter('bias', [nf], initFill(nf, 0));
  }
  /** x [..., nx] → x·W + b: [..., nf]. */
  forward(g: Graph, x: Tensor): Tensor {
    return g.linear(x, g.transpose(this.tensor(g, this.weight), 0, 1), this.tensor(g, this.bias));
  }
}

// c_attn's weight [E, 3E] split once per weight array into its query, key and value column blocks
// (host copies, [E, E] each, so each projection is one matmul and nothing is sliced at run).
const splits = new WeakMap<Float32Array | Uint16Array, (Float32Array | Uint16Array)[]>();

/** Heads of one projection for attend(): [B, nHead, T, headDim]. */
export type Attend = (q: Tensor, k: Tensor, v: Tensor) => Tensor;

/**
 * HF GPT2Attention: `c_attn` (Conv1D E → 3E: query, key, value), `c_proj`; the buffers `bias` and
 * `masked_bias` (the causal mask, in older files) are accepted and ignored.
 */
export class GPT2Attention extends Module {
  /** `c_attn`: the query, key and value projections, E → 3E. */
  readonly cAttn: Conv1D;
  /** `c_proj`: the output projection, E → E. */
  readonly cProj: Conv1D;
  /** nEmbd / nHead, the size of each head. */
  readonly headDim: number;
  /**
   * A ShapeError unless nEmbd is a multiple of nHead.
   * @param nLayer the model's layer count: c_proj's initial std is 0.02/√(2·nLayer), as HF
   */
  constructor(
    /** E, the hidden size. */
    readonly nEmbd: number,
    /** Attention heads; nEmbd must be a multiple of it. */
    readonly nHead: number,
    nLayer: number,
  ) {
    super();
    if (nEmbd % nHead) throw new ShapeError(`GPT2Attention: nEmbd ${nEmbd} is not a multiple of nHead ${nHead}`);
    this.headDim = nEmbd / nHead;
    this.cAttn = this.addModule('c_attn', new Conv1D(3 * nEmbd, nEmbd));
    this.cProj = this.addModule('c_proj', new Conv1D(nEmbd, nEmbd, 0.02 / Math.sqrt(2 * nLayer)));
    this.ignoreBuffer('bias');
    this.ignoreBuffer('masked_bias');
  }

  /** x [B, T, E] → query, key and value heads, each [B, nHead, T, headDim]. */
  qkv(g: Graph, x: Tensor): {
    /** Query heads [B, nHead, T, headDim]. */
    q: Tensor;
    /** Key heads [B, nHead, T, headDim]. */
    k: Tensor;
    /** Value heads [B, nHead, T, headDim]. */
    v: Tensor;
  } {
    // A weight held in 16 bits is split as its 16-bit patterns.
    const half = this.cAttn.weight.half;
    const E = this.nEmbd, W = half ? half.bits : this.cAttn.weight.data;
    let blocks = splits.get(W);
    if (!blocks) {
      const b = [0, 1, 2].map(() => (half ? new Uint16Array(E * E) : new Float32Array(E * E)));
      for (let r = 0; r < E; r++) for (let i = 0; i < 3; i++) b[i].set(W.subarray(r * 3 * E + i * E, r * 3 * E + (i + 1) * E) as never, r * E);
      splits.set(W, (blocks = b));
    }
    const [B, T] = x.shape;
    const head = (i: number) => {
      const blk = blocks![i];
      const w = g.transpose(blk instanceof Uint16Array ? constantOf(g, blk, [E, E], 0, half!.dtype) : constantOf(g, blk, [E, E]), 0, 1);
      const y = g.linear(x, w, constantOf(g, this.cAttn.bias.data, [E], i * E));
      return g.transpose(g.reshape(y, [B, T, this.nHead, this.headDim]), 1, 2);
    };
    return { q: head(0), k: head(1), v: head(2) };
  }

  /** Heads [B, nHead, T, headDim] merged and projected by c_proj → [B, T, E]. */
  merge(g: Graph, ctx: Tensor): Tensor {
    const [B, , T] = ctx.shape;
    return this.cProj.forward(g, g.reshape(g.transpose(ctx, 1, 2), [B, T, this.nEmbd]));
  }

  /** Causal self-attention; `attend` replaces the attention itself (e.g. over a KV cache). */
  forward(g: Graph, x: Tensor, attend?: Attend): Tensor {
    const { q, k, v } = this.qkv(g, x);
    const ctx = attend ? attend(q, k, v) : g.scaledDotProductAttention(q, k, v, { isCausal: true });
    return this.merge(g, ctx);
  }
}

/** HF GPT2MLP: `c_fc` (E → 4E), GELU in its tanh form (gelu_new), `c_proj` (4E → E). */
export class GPT2MLP extends Module {
  /** `c_fc`: E → 4E. */
  readonly cFc: Conv1D;
  /** `c_proj`: 4E → E. */
  readonly cProj: Conv1D;
  /**
   * c_fc and c_proj, HF-initialised.
   * @param nEmbd E, the hidden size
   * @param nLayer the model's layer count: c_proj's initial std is 0.02/√(2·nLayer), as HF
   */
  constructor(nEmbd: number, nLayer: number) {
    super();
    this.cFc = this.addModule('c_fc', new Conv1D(4 * nEmbd, nEmbd));
    this.cProj = this.addModule('c_proj', new Conv1D(nEmbd, 4 * nEmbd, 0.02 / Math.sqrt(2 * nLayer)));
  }
  /** x [..., E] → c_proj(gelu_tanh(c_fc(x))): [..., E]. */
  forward(g: Graph, x: Tensor): Tensor {
    return this.cProj.forward(g, g.gelu(this.cFc.forward(g, x), 'tanh'));
  }
}

/** HF GPT2Block: x + attn(ln_1(x)), then + mlp(ln_2(x)). */
export class GPT2Block extends Module {
  /** `ln_1`: the LayerNorm before attention. */
  readonly ln1: LayerNorm;
  /** `attn`: causal self-attention. */
  readonly attn: GPT2Attention;
  /** `ln_2`: the LayerNorm before the MLP. */
  readonly ln2: LayerNorm;
  /** `mlp`: the feed-forward block. */
  readonly mlp: GPT2MLP;
  /**
   * The two LayerNorms, attention and MLP of one block.
   * @param cfg the model's sizes (nEmbd, nHead, nLayer, layerNormEpsilon)
   */
  constructor(cfg: GPT2Config) {
    super();
    const eps = cfg.layerNormEpsilon ?? 1e-5;
    this.ln1 = this.addModule('ln_1', new LayerNorm(cfg.nEmbd, { eps }));
    this.attn = this.addModule('attn', new GPT2Attention(cfg.nEmbd, cfg.nHead, cfg.nLayer));
    this.ln2 = this.addModule('ln_2', new LayerNorm(cfg.nEmbd, { eps }));
    this.mlp = this.addModule('mlp', new GPT2MLP(cfg.nEmbd, cfg.nLayer));
  }
  /** x [B, T, E] → [B, T, E]; `attend`, if given, replaces the causal attention (e.g. over a KV cache). */
  forward(g: Graph, x: Tensor, attend?: Attend): Tensor {
    const h = g.add(x, this.attn.forward(g, this.ln1.forward(g, x), attend));
    return g.add(h, this.mlp.forward(g, this.ln2.forward(g, h)));
  }
}

/** Options of GPT2Model.forward and GPT2LMHeadModel.forward, for cached (incremental) decoding. */
export interface GPT2ForwardOptions {
  /** Positions start here (tokens already in a cache); ignored when positionIds is given. */
  pastLength?: number;
  /** i32 [B, T] or [T] positions, fed at run (range-checked there like any embedding id). */
  positionIds?: Tensor;
  /** Replaces layer `layer`'s causal attention (e.g. with attention over a KV cache). */
  attend?: (layer: number, q: Tensor, k: Tensor, v: Tensor) => Tensor;
}

function checkConfig(cfg: GPT2Config): void {
  for (const k of ['vocabSize', 'nPositions', 'nEmbd', 'nLayer', 'nHead'] as const) {
    if (!Number.isInteger(cfg?.[k]) || cfg[k] <= 0) throw new ShapeError(`GPT2: config.${k} must be a positive integer, got ${cfg?.[k]}`);
  }
}

/**
 * HF GPT2Model: `wte`, `wpe`, `h.{i}.*`, `ln_f`. Names with the `transformer.` prefix of a
 * GPT2LMHeadModel file are accepted too (the prefix is dropped).
 */
export class GPT2Model extends Module {
  /** `wte`: token embeddings [vocabSize, nEmbd]. */
  readonly wte: Embedding;
  /** `wpe`: position embeddings [nPositions, nEmbd]. */
  readonly wpe: Embedding;
  /** `h`: the nLayer blocks. */
  readonly h: ModuleList<GPT2Block>;
  /** `ln_f`: the final LayerNorm. */
  readonly lnF: LayerNorm;
  /** Embeddings from N(0, 0.02²), as HF; a ShapeError for a size that is not a positive integer. */
  constructor(
    /** The model's sizes; each must be a positive integer (a ShapeError otherwise). */
    readonly config: GPT2Config,
  ) {
    super();
    checkConfig(config);
    this.wte = this.addModule('wte', new Embedding(config.vocabSize, config.nEmbd));
    this.wpe = this.addModule('wpe', new Embedding(config.nPositions, config.nEmbd));
    // Positions are added to the token embeddings as f32 rows (forward), so wpe stays f32.
    this.wpe.weight.weight16 = false;
    this.wte.weight.data = initNormal(config.vocabSize * config.nEmbd, 0.02);
    this.wpe.weight.data = initNormal(config.nPositions * config.nEmbd, 0.02);
    this.h = this.addModule('h', new ModuleList(Array.from({ length: config.nLayer }, () => new GPT2Block(config))));
    this.lnF = this.addModule('ln_f', new LayerNorm(config.nEmbd, { eps: config.layerNormEpsilon ?? 1e-5 }));
  }

  override stateDictName(name: string): string {
    return name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
  }

  /** inputIds i32 [B, T] → the final hidden states [B, T, nEmbd] (after ln_f). */
  forward(g: Graph, inputIds: Tensor, opts: GPT2ForwardOptions = {}): Tensor {
    const s = inputIds.shape;
    if (s.length !== 2 || inputIds.dtype !== 'i32') throw new ShapeError(`GPT2: inputIds must be i32 [B, T], got ${inputIds.dtype} ${fmtShape(s)}`);
    const T = s[1], E = this.config.nEmbd, past = opts.pastLength ?? 0;
    let pos: Tensor;
    if (opts.positionIds) {
      pos = this.wpe.forward(g, opts.positionIds);
    } else {
      if (!Number.isInteger(past) || past < 0 || past + T > this.config.nPositions) {
        throw new ShapeError(`GPT2: positions ${past}..${past + T - 1} pass the ${this.config.nPositions} positions of wpe`);
      }
      pos = constantOf(g, this.wpe.weight.data.subarray(past * E, (past + T) * E), [T, E]);
    }
    let x = g.add(this.wte.forward(g, inputIds), pos);
    this.h.items.forEach((block, i) => {
      x = block.forward(g, x, opts.attend && ((q, k, v) => opts.attend!(i, q, k, v)));
    });
    return this.lnF.forward(g, x);
  }
}

/**
 * HF GPT2LMHeadModel: `transformer.*` (a GPT2Model) and logits = hidden · wteᵀ, the head tied to
 * `wte`. A state dict may hold `lm_head.weight` (torch's `state_dict()` does): equal to `wte`, it is
 * the tie, and the head reads wte's buffer; different, the head is untied and gets its own
 * (`lmHeadWeight`, listed as `lm_head.weight` in namedParameters and stateDict). Names without the
 * `transformer.` prefix (a GPT2Model file) are accepted too.
 */
export class GPT2LMHeadModel extends Module {
  /** `transformer`: the GPT2Model under the head. */
  readonly transformer: GPT2Model;
  /** The head's own weight [vocabSize, nEmbd] when the last load untied it from wte; null while tied. */
  lmHeadWeight: Parameter | null = null;
  /**
   * A GPT2Model with the head tied to wte; a ShapeError for a size that is not a positive integer.
   * @param opts `weightDtype` 'f16' or 'bf16': hold wte (the tied head too), every Conv1D weight and
   * an untied head in 16 bits (see WeightOptions); wpe, biases and LayerNorms stay f32
   */
  constructor(
    /** The model's sizes. */
    readonly config: GPT2Config,
    opts: WeightOptions = {},
  ) {
    super();
    this.transformer = this.addModule('transformer', new GPT2Model(config));
    if (opts.weightDtype !== undefined) this.setWeightDtype(opts.weightDtype);
  }

  override stateDictName(name: string): string {
    return name === 'lm_head.weight' || name.startsWith('transformer.') ? name : `transformer.${name}`;
  }

  override namedParameters(prefix = ''): [string, Parameter][] {
    const out = super.namedParameters(prefix);
    if (this.lmHeadWeight) out.push([`${prefix}lm_head.weight`, this.lmHeadWeight]);
    return out;
  }

  override optionalEntries(prefix = ''): Map<string, OptionalEntry> {
    const out = super.optionalEntries(prefix);
    const shape = [this.config.vocabSize, this.config.nEmbd];
    out.set(`${prefix}lm_head.weight`, {
      shape,
      // Runs after wte is assigned: the head is tied unless the given values differ from it.
      load: (data, half) => {
        const wte = this.transformer.wte.weight;
        const given = half ?? data;
        this.lmHeadWeight = given && !tiedTo(wte, given) ? makeParameter(shape, given, true, wte.weightDtype) : null;
      },
    });
    return out;
  }

  /** inputIds i32 [B, T] → logits [B, T, vocabSize]. */
  forward(g: Graph, inputIds: Tensor, opts: GPT2ForwardOptions = {}): Tensor {
    return this.lmHead(g, this.transformer.forward(g, inputIds, opts));
  }

  /** hidden [..., nEmbd] → logits [..., vocabSize] through wte (tied: the embedding's constant) or lm_head.weight. */
  lmHead(g: Graph, hidden: Tensor): Tensor {
    const w = this.lmHeadWeight ?? this.transformer.wte.weight;
    return g.linear(hidden, this.tensor(g, w));
  }
}

/**
 * Whether a given lm_head.weight is wte's tie: the same bits as wte holds them (16-bit patterns
 * compared as 16-bit; f32 values given to a 16-bit wte compared after the same rounding).
 */
function tiedTo(wte: Parameter, given: Float32Array | HalfBits): boolean {
  if (!wte.half) return given instanceof Float32Array && sameBits(given, wte.data);
  const bits = given instanceof Float32Array ? toHalf(given, wte.half.dtype) : given.dtype === wte.half.dtype ? given.bits : undefined;
  if (!bits || bits.length !== wte.half.bits.length) return false;
  for (let i = 0; i < bits.length; i++) if (bits[i] !== wte.half.bits[i]) return false;
  return true;
}

/** The same f32 values bit for bit (a tied weight saved twice is an exact copy). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
