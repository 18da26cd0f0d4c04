// The lecture's Transformer encoder-decoder for translation, laid out as the PyTorch translation
// tutorial's Seq2SeqTransformer (state dict: `transformer.*`, `src_tok_emb.embedding.weight`,
// `tgt_tok_emb.embedding.weight`, `generator.*`; the `positional_encoding.pos_embedding` buffer is
// accepted and ignored, the table being computed). Greedy decoding: the encoder runs once per batch
// of sources and writes each decoder layer's cross-attention keys and values into GPU state; every
// target token is then one submit of a decode-step graph with a self-attention KV cache, whose
// greedy choice (sampleTokens) runs on the GPU, so a step reads back token ids only.
import { InputError, ShapeError } from '../errors';
import type { Executable, ExecStats } from '../graph/executable';
import { Graph, type Tensor } from '../graph/graph';
import { Serial } from '../graph/serial';
import { ignoreMaskToAdditive } from '../nn/attention';
import { Embedding, Linear } from '../nn/layers';
import { Module, constantOf } from '../nn/module';
import { PositionalEncoding, Transformer } from '../nn/transformer';
import type { Runtime } from '../runtime/runtime';
import { CacheReplay } from './resume';

/** The translation model's sizes, as the PyTorch translation tutorial's Seq2SeqTransformer takes them. */
export interface TranslatorConfig {
  /** Source vocabulary size: rows of src_tok_emb. */
  srcVocab: number;
  /** Target vocabulary size: rows of tgt_tok_emb, columns of the logits. */
  tgtVocab: number;
  /** E, the model's feature size; a multiple of nhead. */
  embSize: number;
  /** Attention heads. */
  nhead: number;
  /** Encoder layers. */
  numEncoderLayers: number;
  /** Decoder layers. */
  numDecoderLayers: number;
  /** The feed-forward blocks' hidden size; default 512 (the tutorial's). */
  dimFeedforward?: number;
  /** Rows of the positional table (the tutorial's maxlen, 5000). */
  maxPositions?: number;
  /** Pre-norm layers; default false (post-norm, as torch's default). */
  normFirst?: boolean;
  /** The feed-forward activation; default 'relu'. */
  activation?: 'relu' | 'gelu';
}

/** The tutorial's TokenEmbedding: `embedding.weight`, scaled by sqrt(embSize). */
export class TokenEmbedding extends Module {
  /** `embedding`: [vocab, size]. */
  readonly embedding: Embedding;
  /**
   * An Embedding(vocab, size) under `embedding`, N(0, 1) until loaded.
   * @param vocab rows of the table: ids must lie in 0..vocab-1
   */
  constructor(
    vocab: number,
    /** The embedding size E; vectors are multiplied by sqrt(E). */
    readonly size: number,
  ) {
    super();
    this.embedding = this.addModule('embedding', new Embedding(vocab, size));
  }
  /** ids i32 [...] → embedding rows times sqrt(size): [..., size]. */
  forward(g: Graph, ids: Tensor): Tensor {
    return g.mul(this.embedding.forward(g, ids), constantOf(g, new Float32Array([Math.sqrt(this.size)]), [1]));
  }
}

/**
 * The PyTorch translation tutorial's Seq2SeqTransformer: token embeddings scaled by sqrt(E), the
 * sinusoidal positional encoding, a torch.nn.Transformer (sequence first) and the `generator`
 * Linear to target logits. {@link Seq2SeqTransformer.compile} makes a {@link Translator}.
 */
export class Seq2SeqTransformer extends Module {
  /** `transformer`: the encoder-decoder. */
  readonly transformer: Transformer;
  /** `generator`: E → tgtVocab logits. */
  readonly generator: Linear;
  /** `src_tok_emb`: source token embeddings. */
  readonly srcTokEmb: TokenEmbedding;
  /** `tgt_tok_emb`: target token embeddings. */
  readonly tgtTokEmb: TokenEmbedding;
  /** `positional_encoding`: computed, not loaded (the file's `pos_embedding` buffer is ignored). */
  readonly positionalEncoding: PositionalEncoding;

  /** Seeded initial weights, as torch initialises each part; load real ones with loadStateDict. */
  constructor(
    /** The sizes it was built with. */
    readonly config: TranslatorConfig,
  ) {
    super();
    const E = config.embSize;
    this.transformer = this.addModule('transformer', new Transformer({
      dModel: E, nhead: config.nhead, numEncoderLayers: config.numEncoderLayers, numDecoderLayers: config.numDecoderLayers,
      dimFeedforward: config.dimFeedforward ?? 512, normFirst: config.normFirst, activation: config.activation,
    }));
    this.generator = this.addModule('generator', new Linear(E, config.tgtVocab));
    this.srcTokEmb = this.addModule('src_tok_emb', new TokenEmbedding(config.srcVocab, E));
    this.tgtTokEmb = this.addModule('tgt_tok_emb', new TokenEmbedding(config.tgtVocab, E));
    this.positionalEncoding = this.addModule('positional_encoding', new PositionalEncoding(E, config.maxPositions ?? 5000));
    this.ignoreBuffer('positional_encoding.pos_embedding');
  }

  /** Teacher-forced logits without caches: src [S, B], tgt [T, B] i32, srcPad [B, S] bool (true = pad) → [T, B, tgtVocab]. */
  fullGraph(S: number, T: number, B: number): Graph {
    const g = new Graph();
    const src = this.positionalEncoding.forward(g, this.srcTokEmb.forward(g, g.input('src', [S, B], 'i32')));
    const tgt = this.positionalEncoding.forward(g, this.tgtTokEmb.forward(g, g.input('tgt', [T, B], 'i32')));
    const pad = g.input('srcPad', [B, S], 'bool');
    const out = this.transformer.forward(g, src, tgt, { srcKeyPaddingMask: pad, memoryKeyPaddingMask: pad, tgtIsCausal: true });
    g.output('logits', this.generator.forward(g, out));
    return g;
  }

  /**
   * Compiles the encoder graph and the decode-step graph on `rt` for `batch` (default 1) sentences
   * of up to maxSrcLen source and maxTgtLen target tokens; a ShapeError when a length passes the
   * positional table. The weights are read at compile: load them first.
   */
  async compile(rt: Runtime, opts: { maxSrcLen: number; maxTgtLen: number; batch?: number }): Promise<Translator> {
    const B = opts.batch ?? 1;
    const limit = this.positionalEncoding.maxLen;
    if (opts.maxSrcLen > limit || opts.maxTgtLen > limit) {
      throw new ShapeError(`Seq2SeqTransformer: lengths ${opts.maxSrcLen} / ${opts.maxTgtLen} pass the positional table of ${limit}`);
    }
    const encoder = await rt.compile(this.encoderGraph(opts.maxSrcLen, opts.maxTgtLen, B));
    const step = await rt.compile(this.stepGraph(opts.maxSrcLen, opts.maxTgtLen, B), { shareStateWith: encoder });
    return new Translator(this, encoder, step, opts.maxSrcLen, opts.maxTgtLen, B, rt.info.backend !== 'cpu', () => rt.deviceLosses);
  }

  private states(g: Graph, S: number, T: number, B: number) {
    const { nhead, embSize } = this.config, d = embSize / nhead;
    return {
      layers: this.transformer.decoder.layers.items.map((_, l) => ({
        crossK: g.state(`crossK${l}`, [B, nhead, S, d]), crossV: g.state(`crossV${l}`, [B, nhead, S, d]),
        selfK: g.state(`selfK${l}`, [B, nhead, T, d]), selfV: g.state(`selfV${l}`, [B, nhead, T, d]),
      })),
      srcMask: g.state('srcMask', [B, 1, 1, S]),
    };
  }

  /** src [S, B] and srcPad [B, S] → every decoder layer's cross-attention K and V, and the source mask, in state. */
  private encoderGraph(S: number, T: number, B: number): Graph {
    const g = new Graph();
    const st = this.states(g, S, T, B);
    const pad = g.input('srcPad', [B, S], 'bool');
    const src = this.positionalEncoding.forward(g, this.srcTokEmb.forward(g, g.input('src', [S, B], 'i32')));
    const memory = g.transpose(this.transformer.encode(g, src, { srcKeyPaddingMask: pad }), 0, 1); // [B, S, E]
    this.transformer.decoder.layers.items.forEach((layer, l) => {
      g.assign(st.layers[l].crossK, layer.multiheadAttn.heads(g, memory, 'k'), { dim: 2, offset: 0 });
      g.assign(st.layers[l].crossV, layer.multiheadAttn.heads(g, memory, 'v'), { dim: 2, offset: 0 });
    });
    g.assign(st.srcMask, g.reshape(ignoreMaskToAdditive(g, pad, 'srcPad'), [B, 1, 1, S]), { dim: 0, offset: 0 });
    return g;
  }

  /** One target token per sequence at position `pos` → logits [B, tgtVocab]. */
  private stepGraph(S: number, T: number, B: number): Graph {
    const g = new Graph();
    const st = this.states(g, S, T, B);
    const E = this.config.embSize;
    const pos = g.input('pos', [1], 'i32');
    const selfMask = g.input('selfMask', [1, T], 'bool');
    const emb = this.tgtTokEmb.forward(g, g.input('tgt', [B, 1], 'i32'));
    const pe = g.embedding(pos, constantOf(g, this.positionalEncoding.table, [this.positionalEncoding.maxLen, E]));
    let x = g.add(emb, g.reshape(pe, [1, 1, E])); // [B, 1, E]
    this.transformer.decoder.layers.items.forEach((layer, l) => {
      const { selfAttn, multiheadAttn } = layer;
      // x is [B, 1, E]: the new position's keys and values go into the cache, its query attends to it.
      x = layer.forwardWith(g, x, (h) => selfAttn.attendHeads(g, selfAttn.heads(g, h, 'q'),
        g.assign(st.layers[l].selfK, selfAttn.heads(g, h, 'k'), { dim: 2, offset: pos }),
        g.assign(st.layers[l].selfV, selfAttn.heads(g, h, 'v'), { dim: 2, offset: pos }), { attnMask: selfMask }),
      (h) => multiheadAttn.attendHeads(g, multiheadAttn.heads(g, h, 'q'), st.layers[l].crossK, st.layers[l].crossV, { attnMask: st.srcMask }));
    });
    const norm = this.transformer.decoder.norm;
    if (norm) x = norm.forward(g, x);
    const logits = g.reshape(this.generator.forward(g, x), [B, this.config.tgtVocab]);
    g.output('logits', logits);
    g.output('tokens', g.sampleTokens(logits));
    return g;
  }
}

/** What Translator.translate returns: the target tokens and the time each phase took. */
export interface TranslateResult {
  /** Per sentence: the generated target ids, BOS first, EOS last when it was reached. */
  tokens: number[][];
  /** Host wall time of the encoder run, in ms. */
  encodeMs: number;
  /** Host wall time of each decode step, in ms. */
  stepMs: number[];
  /** Sentences per second, encode and every step included. */
  sentencesPerSecond: number;
  /** The decode-step executable's stats after the last step (dispatches and submits per token). */
  stepStats: ExecStats;
  /**
   * Times a device loss made translate() rebuild its GPU state (the encoder run, then a step per
   * target token so far) before going on; 0 when the device was not lost.
   */
  recoveries: number;
}

/** Translator.translate's options. */
export interface TranslateOptions {
  /** The target's begin-of-sentence id, fed first. */
  bos: number;
  /** The end-of-sentence id: a sentence stops once it produces it. */
  eos: number;
  /** The most target tokens, BOS included; default and at most maxTgtLen. */
  maxLen?: number;
  /**
   * Called after each decode step with the token it chose for every sentence (`tokens[b]`; a
   * finished sentence's is eos) and the step's index (0 for the first).
   */
  onToken?: (tokens: number[], index: number) => void;
}

/**
 * A compiled Seq2SeqTransformer ({@link Seq2SeqTransformer.compile}): the encoder runs once per
 * batch of sources and keeps each decoder layer's cross-attention keys and values on the GPU; each
 * target token is then one submit. Calls run one at a time, in call order.
 */
export class Translator {
  /** translate and teacherForced share the encoder's K/V states and the cache: one call at a time. */
  private readonly serial = new Serial();

  /**
   * Made by {@link Seq2SeqTransformer.compile}, which compiles the encoder graph and the step graph
   * (sharing the encoder's state).
   * @param encoder the encoder graph: writes memory's cross-attention keys and values into state
   * @param step the decode-step graph: one target token per sentence, with its self-attention cache
   */
  constructor(
    /** The model it was compiled from. */
    readonly model: Seq2SeqTransformer,
    private readonly encoder: Executable,
    private readonly step: Executable,
    /** The longest source sentence it takes, in tokens. */
    readonly maxSrcLen: number,
    /** The longest target it generates, BOS included (the KV cache's length). */
    readonly maxTgtLen: number,
    /** Sentences per call. */
    readonly batch: number,
    /** Leave each step's logits on the GPU while translating (a GPU runtime's executables): only token ids are read back. */
    private readonly keepLogitsOnGpu = false,
    /** The runtime's device-loss count (rt.deviceLosses): a change means the GPU state was zeroed. */
    private readonly losses: () => number = () => 0,
  ) {}

  /** The source masks and padded ids; sentences of 1..maxSrcLen tokens, `batch` of them. */
  private encodeFeeds(sources: number[][]) {
    const { batch: B, maxSrcLen: S } = this;
    if (sources.length !== B) throw new InputError(`Translator: ${sources.length} sources for a batch of ${B}`);
    const src = new Int32Array(S * B), srcPad = new Uint8Array(B * S).fill(1);
    sources.forEach((s, b) => {
      if (s.length < 1 || s.length > S) throw new InputError(`Translator: source ${b} has ${s.length} tokens; the compiled maximum is ${S}`);
      s.forEach((id, t) => {
        src[t * B + b] = id;
        srcPad[b * S + t] = 0;
      });
    });
    return { src, srcPad };
  }

  /** Greedy decoding from `bos` until every sentence has produced `eos`, or `maxLen` target tokens. */
  translate(sources: number[][], opts: TranslateOptions): Promise<TranslateResult> {
    const own = copyRows(sources);
    return this.serial.run(() => this.translate_(own, { ...opts }));
  }

  private async translate_(sources: number[][], opts: TranslateOptions): Promise<TranslateResult> {
    const B = this.batch;
    const maxLen = opts.maxLen ?? this.maxTgtLen;
    if (!Number.isInteger(maxLen) || maxLen < 1 || maxLen > this.maxTgtLen) {
      throw new InputError(`Translator: maxLen ${maxLen} must be in 1..${this.maxTgtLen} (the compiled KV cache)`);
    }
    const t0 = performance.now();
    const feeds = this.encodeFeeds(sources);
    const tokens = sources.map(() => [opts.bos]);
    const keep = this.keepLogitsOnGpu ? { keepOnGpu: ['logits'] } : undefined;
    const stepRun = (pos: number) => {
      const selfMask = new Uint8Array(this.maxTgtLen).fill(1, 0, pos + 1);
      return this.step.run({ tgt: Int32Array.from(tokens, (s) => s[pos]), pos: new Int32Array([pos]), selfMask }, keep);
    };
    // A device loss zeroes the encoder's K/V and the cache: rebuilt by the encoder run and the steps so far.
    const replay = new CacheReplay(this.losses, async (upTo) => {
      await this.encoder.run(feeds);
      for (let pos = 0; pos < upTo; pos++) await stepRun(pos);
    }, 'Translator.translate');
    await replay.run(() => this.encoder.run(feeds), 0);
    const encodeMs = performance.now() - t0;
    const done = new Array<boolean>(B).fill(false);
    const stepMs: number[] = [];
    for (let pos = 0; pos < maxLen - 1 && !done.every(Boolean); pos++) {
      const t = performance.now();
      const out = await replay.run(() => stepRun(pos), pos);
      const picked = out.tokens as Float32Array;
      stepMs.push(performance.now() - t);
      tokens.forEach((s, b) => {
        if (done[b]) return s.push(opts.eos); // finished sentences ride along; trimmed below
        const next = picked[b];
        s.push(next);
        if (next === opts.eos) done[b] = true;
      });
      opts.onToken?.(tokens.map((s) => s[pos + 1]), pos);
    }
    const trimmed = tokens.map((s) => s.slice(0, s.indexOf(opts.eos, 1) < 0 ? s.length : s.indexOf(opts.eos, 1) + 1));
    const totalMs = performance.now() - t0;
    return { tokens: trimmed, encodeMs, stepMs, sentencesPerSecond: (B * 1000) / totalMs, stepStats: { ...this.step.stats }, recoveries: replay.recoveries };
  }

  /** Logits of each position, teacher-forced through the cached step graph: [tgt.length - 1][B * vocab]. */
  teacherForced(sources: number[][], targets: number[][]): Promise<Float32Array[]> {
    const [s, t] = [copyRows(sources), copyRows(targets)];
    return this.serial.run(() => this.teacherForced_(s, t));
  }

  private async teacherForced_(sources: number[][], targets: number[][]): Promise<Float32Array[]> {
    await this.encoder.run(this.encodeFeeds(sources));
    const T = targets[0].length;
    const selfMask = new Uint8Array(this.maxTgtLen);
    const out: Float32Array[] = [];
    for (let pos = 0; pos < T; pos++) {
      selfMask[pos] = 1;
      const { logits } = await this.step.run({ tgt: Int32Array.from(targets, (s) => s[pos]), pos: new Int32Array([pos]), selfMask });
      out.push(logits);
    }
    return out;
  }

  /** Releases both compiled graphs and their GPU state; the model is untouched. */
  destroy(): void {
    this.step.destroy();
    this.encoder.destroy();
  }
}

/** A copy of rows of token ids taken when a call is made, so a queued call keeps its arguments. */
const copyRows = (rows: number[][]): number[][] => (Array.isArray(rows) ? rows.map((r) => (Array.isArray(r) ? r.slice() : r)) : rows);
