// GPT-2 under Hugging Face's names (transformers' modeling_gpt2.py): Conv1D, GPT2Attention, GPT2MLP,
// GPT2Block, GPT2Model (`wte`, `wpe`, `h.{i}`, `ln_f`) and GPT2LMHeadModel (`transformer.*`, the LM
// head tied to `wte`; a torch state_dict's `lm_head.weight` equal to `wte` is taken as that tie, one
// that differs as an untied head). Conv1D stores its weight [in, out], so it computes x·W + b; here
// that is a linear over a transposed view of the weight, with no copy.
import { ShapeError, fmtShape } from '../errors';
import type { Graph, Tensor } from '../graph/graph';
import { Embedding, LayerNorm } from './layers';
import { Module, ModuleList, constantOf, initFill, initNormal, type OptionalEntry, type Parameter } from './module';

export interface GPT2Config {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** HF's layer_norm_epsilon, 1e-5 by default. */
  layerNormEpsilon?: number;
}

/** HF's Conv1D(nf, nx): `weight` [nx, nf] (in, out), `bias` [nf]; y = x·W + b. */
export class Conv1D extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(readonly nf: number, readonly nx: number, std = 0.02) {
    super();
    this.weight = this.addParameter('weight', [nx, nf], initNormal(nx * nf, std));
    this.bias = this.addParameter('bias', [nf], initFill(nf, 0));
  }
  forward(g: Graph, x: Tensor): Tensor {
    return g.linear(x, g.transpose(this.tensor(g, this.weight), 0, 1), this.tensor(g, this.bias));
  }
}

// c_attn's weight [E, 3E] split once per weight array into its query, key and value column blocks
// (host copies, [E, E] each, so each projection is one matmul and nothing is sliced at run).
const splits = new WeakMap<Float32Array, Float32Array[]>();

/** Heads of one projection for attend(): [B, nHead, T, headDim]. */
export type Attend = (q: Tensor, k: Tensor, v: Tensor) => Tensor;

/**
 * HF GPT2Attention: `c_attn` (Conv1D E → 3E: query, key, value), `c_proj`; the buffers `bias` and
 * `masked_bias` (the causal mask, in older files) are accepted and ignored.
 */
export class GPT2Attention extends Module {
  readonly cAttn: Conv1D;
  readonly cProj: Conv1D;
  readonly headDim: number;
  constructor(readonly nEmbd: number, readonly nHead: number, nLayer: number) {
    super();
    if (nEmbd % nHead) throw new ShapeError(`GPT2Attention: nEmbd ${nEmbd} is not a multiple of nHead ${nHead}`);
    this.headDim = nEmbd / nHead;
    this.cAttn = this.addModule('c_attn', new Conv1D(3 * nEmbd, nEmbd));
    this.cProj = this.addModule('c_proj', new Conv1D(nEmbd, nEmbd, 0.02 / Math.sqrt(2 * nLayer)));
    this.ignoreBuffer('bias');
    this.ignoreBuffer('masked_bias');
  }

  /** x [B, T, E] → query, key and value heads, each [B, nHead, T, headDim]. */
  qkv(g: Graph, x: Tensor): { q: Tensor; k: Tensor; v: Tensor } {
    const E = this.nEmbd, W = this.cAttn.weight.data;
    let blocks = splits.get(W);
    if (!blocks) {
      blocks = [0, 1, 2].map(() => new Float32Array(E * E));
      for (let r = 0; r < E; r++) for (let i = 0; i < 3; i++) blocks[i].set(W.subarray(r * 3 * E + i * E, r * 3 * E + (i + 1) * E), r * E);
      splits.set(W, blocks);
    }
    const [B, T] = x.shape;
    const head = (i: number) => {
      const w = g.transpose(constantOf(g, blocks![i], [E, E]), 0, 1);
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
  readonly cFc: Conv1D;
  readonly cProj: Conv1D;
  constructor(nEmbd: number, nLayer: number) {
    super();
    this.cFc = this.addModule('c_fc', new Conv1D(4 * nEmbd, nEmbd));
    this.cProj = this.addModule('c_proj', new Conv1D(nEmbd, 4 * nEmbd, 0.02 / Math.sqrt(2 * nLayer)));
  }
  forward(g: Graph, x: Tensor): Tensor {
    return this.cProj.forward(g, g.gelu(this.cFc.forward(g, x), 'tanh'));
  }
}

/** HF GPT2Block: x + attn(ln_1(x)), then + mlp(ln_2(x)). */
export class GPT2Block extends Module {
  readonly ln1: LayerNorm;
  readonly attn: GPT2Attention;
  readonly ln2: LayerNorm;
  readonly mlp: GPT2MLP;
  constructor(cfg: GPT2Config) {
    super();
    const eps = cfg.layerNormEpsilon ?? 1e-5;
    this.ln1 = this.addModule('ln_1', new LayerNorm(cfg.nEmbd, { eps }));
    this.attn = this.addModule('attn', new GPT2Attention(cfg.nEmbd, cfg.nHead, cfg.nLayer));
    this.ln2 = this.addModule('ln_2', new LayerNorm(cfg.nEmbd, { eps }));
    this.mlp = this.addModule('mlp', new GPT2MLP(cfg.nEmbd, cfg.nLayer));
  }
  forward(g: Graph, x: Tensor, attend?: Attend): Tensor {
    const h = g.add(x, this.attn.forward(g, this.ln1.forward(g, x), attend));
    return g.add(h, this.mlp.forward(g, this.ln2.forward(g, h)));
  }
}

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
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly h: ModuleList<GPT2Block>;
  readonly lnF: LayerNorm;
  constructor(readonly config: GPT2Config) {
    super();
    checkConfig(config);
    this.wte = this.addModule('wte', new Embedding(config.vocabSize, config.nEmbd));
    this.wpe = this.addModule('wpe', new Embedding(config.nPositions, config.nEmbd));
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
  readonly transformer: GPT2Model;
  /** The head's own weight [vocabSize, nEmbd] when the last load untied it from wte; null while tied. */
  lmHeadWeight: Parameter | null = null;
  constructor(readonly config: GPT2Config) {
    super();
    this.transformer = this.addModule('transformer', new GPT2Model(config));
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
      load: (data) => {
        this.lmHeadWeight = data && !sameBits(data, this.transformer.wte.weight.data) ? { shape, data } : null;
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
    return g.linear(hidden, constantOf(g, w.data, w.shape));
  }
}

/** The same f32 values bit for bit (a tied weight saved twice is an exact copy). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
