// The lecture's GPT decoder: a GPT2LMHeadModel with a KV cache kept on the GPU. A prefill graph
// (one per prompt length) writes the prompt's keys and values into the cache; a decode-step graph
// appends one token's at a fed position and attends over the cache under a fed mask, so each new
// token costs one submit and uploads only its id, its position and a mask row. generate() picks
// tokens on the GPU (the sampleTokens op, fed the host's draws), so a step reads back token ids only.
// A device loss mid-generate() zeroes the cache: it is rebuilt by replaying the prompt and the tokens
// so far, and generation goes on with the tokens an uninterrupted run gives.
import { InputError, ShapeError } from '../errors';
import type { Executable, ExecStats } from '../graph/executable';
import { Graph, type Tensor } from '../graph/graph';
import { Serial } from '../graph/serial';
import type { GPT2LMHeadModel } from '../nn/gpt2';
import type { Runtime } from '../runtime/runtime';
import { CacheReplay } from './resume';
import { checkSampling, SeededRandom, type SamplingOptions } from './sampling';

/** The KV cache's size: what {@link GptDecoder.create} compiles for. */
export interface GptDecoderOptions {
  /** Cache length: prompt plus generated tokens; at most the model's nPositions. */
  maxLen: number;
  /** Sequences decoded together (B); default 1. */
  batch?: number;
}

/** GptDecoder.generate's options: how many tokens, and how each is chosen (greedy by default). */
export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate after the prompt (fewer if eosId ends every sequence); prompt + maxNewTokens ≤ maxLen. */
  maxNewTokens: number;
  /** Seeds a SeededRandom when sampling and no rng is given. */
  seed?: number;
  /** Stop once every sequence has produced it. */
  eosId?: number;
  /**
   * Called after each generated token with that token of every sequence (`tokens[b]`) and its
   * index among the generated ones (0 for the first). It runs before the next step is encoded.
   */
  onToken?: (tokens: number[], index: number) => void;
}


/** What GptDecoder.generate returns: the tokens and the time each phase took. */
export interface GenerateResult {
  /** [batch][prompt + generated] */
  tokens: number[][];
  /** Host wall time of the prefill run, in ms (compile included the first time a prompt length is seen). */
  prefillMs: number;
  /** Host wall time of each decode step, in ms, one entry per step run. */
  stepMs: number[];
  /** Generated tokens per second over the decode steps (batch included). */
  tokensPerSecond: number;
  /** exe.stats of the last decode step: dispatches and submits per token. */
  stepStats: ExecStats;
  /**
   * Times a device loss made generate() rebuild the KV cache (the prompt's prefill, then a step per
   * token produced so far) before going on; 0 when the device was not lost.
   */
  recoveries: number;
}

/**
 * Incremental decoding with a GPT2LMHeadModel and a KV cache held on the GPU between runs: a
 * prefill graph per prompt length writes the prompt's keys and values, and one decode-step graph
 * appends a token per sequence in one submit. Calls (prefill, step, generate) run one at a time,
 * in call order.
 */
export class GptDecoder {
  private readonly prefills = new Map<number, Executable>();
  private length = 0;
  /**
   * What the cache holds, so that a loss can be ridden out: the prompt of the last prefill and the
   * ids of each step since, replayed into a new cache (greedy feeds: their outputs are not used).
   */
  private history: { ids: Int32Array; promptLen: number; steps: Int32Array[] } | null = null;
  /** Rebuilds for prefill() and step() (generate() makes its own, then hands it on). */
  private replay = this.newReplay('GptDecoder');
  /** prefill, step and generate share one KV cache: calls run one at a time, in call order. */
  private readonly serial = new Serial();
  /** generate() leaves logits on the GPU (a GPU runtime): its steps read back token ids only. */
  private get onGpu(): boolean {
    return this.rt.info.backend !== 'cpu';
  }

  private constructor(
    private readonly rt: Runtime,
    /** The model it decodes with (its weights were read at compile). */
    readonly model: GPT2LMHeadModel,
    /** The KV cache's length: prompt plus generated tokens. */
    readonly maxLen: number,
    /** Sequences decoded together. */
    readonly batch: number,
    private readonly stepExe: Executable,
  ) {}

  /**
   * Compiles the decode-step graph on `rt` (prefill graphs are compiled at first use of each prompt
   * length). Throws a ShapeError when maxLen is not in 1..nPositions. Load the weights first.
   */
  static async create(rt: Runtime, model: GPT2LMHeadModel, opts: GptDecoderOptions): Promise<GptDecoder> {
    const { nPositions } = model.config;
    const batch = opts.batch ?? 1;
    if (!Number.isInteger(opts.maxLen) || opts.maxLen < 1 || opts.maxLen > nPositions) {
      throw new ShapeError(`GptDecoder: maxLen ${opts.maxLen} must be in 1..${nPositions} (the positional table wpe)`);
    }
    const stepExe = await rt.compile(stepGraph(model, opts.maxLen, batch, { sample: true }));
    return new GptDecoder(rt, model, opts.maxLen, batch, stepExe);
  }

  /** Tokens in the cache. */
  get cached(): number {
    return this.length;
  }

  /**
   * Clears the cache and runs the prompt ids [batch, P]; returns the last position's logits [batch,
   * vocab]. After a device loss, this and later step() calls refill the new device's cache (the
   * prompt, then the ids stepped since) before they run.
   */
  prefill(ids: Int32Array, promptLen: number): Promise<Float32Array> {
    const own = ids instanceof Int32Array ? ids.slice() : ids;
    return this.serial.run(async () => {
      this.replay = this.newReplay('GptDecoder.prefill');
      this.history = null;
      const out = await this.replay.run(() => this.prefill_(own, promptLen), 0);
      this.history = { ids: own, promptLen, steps: [] };
      return out.logits as Float32Array;
    });
  }

  /** A cache rebuild from `history`: its prompt, then its steps up to position upTo - 1. */
  private newReplay(what: string): CacheReplay {
    return new CacheReplay(() => this.rt.deviceLosses, async (upTo) => {
      const h = this.history;
      if (!h) return;
      await this.prefill_(h.ids, h.promptLen, this.greedyFeeds_());
      for (let k = 0; k < upTo - h.promptLen; k++) await this.step_(h.steps[k], this.greedyFeeds_());
    }, what);
  }

  /** Runs the prompt; with `pick`, the next tokens are chosen on the GPU and only they are read back. */
  private async prefill_(ids: Int32Array, promptLen: number, pick?: PickFeeds): Promise<Record<string, unknown>> {
    if (!Number.isInteger(promptLen) || promptLen < 1 || promptLen > this.maxLen) {
      throw new InputError(`GptDecoder: a prompt of ${promptLen} tokens does not fit the KV cache of ${this.maxLen}`);
    }
    if (ids.length !== this.batch * promptLen) throw new InputError(`GptDecoder: prefill got ${ids.length} ids for [${this.batch}, ${promptLen}]`);
    let exe = this.prefills.get(promptLen);
    if (!exe) {
      exe = await this.rt.compile(prefillGraph(this.model, this.maxLen, this.batch, promptLen, { sample: true }), { shareStateWith: this.stepExe });
      this.prefills.set(promptLen, exe);
    }
    // Rows past the prompt keep an earlier sequence's keys; the masks never let a query see them.
    const out = await exe.run({ ids, ...(pick ?? this.greedyFeeds_()) }, pick && this.onGpu ? { keepOnGpu: ['logits'] } : undefined);
    this.length = promptLen;
    return out;
  }

  /** The sampling feeds of a run whose tokens are not used. */
  private greedyFeeds_(): PickFeeds {
    return { draws: new Float32Array(this.batch), temperature: new Float32Array(1), topK: new Int32Array(1) };
  }

  /** Appends one token per sequence (ids [batch]); returns the logits [batch, vocab] it predicts. */
  step(ids: Int32Array): Promise<Float32Array> {
    const own = ids instanceof Int32Array ? ids.slice() : ids;
    return this.serial.run(async () => {
      const out = await this.replay.run(() => this.step_(own), this.length);
      this.history?.steps.push(own);
      return out.logits as Float32Array;
    });
  }

  private async step_(ids: Int32Array, pick?: PickFeeds): Promise<Record<string, unknown>> {
    const pos = this.length;
    if (pos < 1) throw new InputError('GptDecoder: step() before prefill()');
    if (pos >= this.maxLen) throw new InputError(`GptDecoder: the KV cache of ${this.maxLen} tokens is full`);
    const mask = new Uint8Array(this.maxLen);
    mask.fill(1, 0, pos + 1);
    const out = await this.stepExe.run({
      ids, mask, pos: new Int32Array([pos]), posIds: new Int32Array(this.batch).fill(pos), ...(pick ?? this.greedyFeeds_()),
    }, pick && this.onGpu ? { keepOnGpu: ['logits'] } : undefined);
    this.length = pos + 1;
    return out;
  }

  /** The decode-step executable's stats after its last run (dispatches and submits per token). */
  get stepStats(): ExecStats {
    return this.stepExe.stats;
  }

  /** Prefill, then one token per step: greedy, or sampled (temperature, top-k) from a seeded generator. */
  generate(prompt: number[][], opts: GenerateOptions): Promise<GenerateResult> {
    const own = Array.isArray(prompt) ? prompt.map((p) => (Array.isArray(p) ? p.slice() : p)) : prompt;
    return this.serial.run(() => this.generate_(own, { ...opts }));
  }

  private async generate_(prompt: number[][], opts: GenerateOptions): Promise<GenerateResult> {
    const B = this.batch;
    const P = prompt[0]?.length ?? 0;
    if (prompt.length !== B || prompt.some((p) => p.length !== P)) {
      throw new InputError(`GptDecoder: the prompt must be ${B} sequence(s) of one length`);
    }
    if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0 || P + opts.maxNewTokens > this.maxLen) {
      throw new InputError(`GptDecoder: ${P} prompt + ${opts.maxNewTokens} new tokens pass the KV cache of ${this.maxLen}`);
    }
    const sampling: SamplingOptions = { ...opts, rng: opts.rng ?? (opts.temperature ? new SeededRandom(opts.seed ?? 0) : undefined) };
    checkSampling(sampling, 'GptDecoder');
    // One draw per sequence per token when sampling, as pickToken takes them; greedy takes none.
    const t = sampling.temperature ?? 0;
    const pick = (): PickFeeds => ({
      draws: t > 0 ? Float32Array.from({ length: B }, () => sampling.rng!.next()) : new Float32Array(B),
      temperature: new Float32Array([t]), topK: new Int32Array([sampling.topK ?? 0]),
    });
    const tokens = prompt.map((p) => p.slice());
    const ids = Int32Array.from(prompt.flat());
    // The rebuilds go by `history`, so step() calls after this one ride out a loss too.
    const replay = this.newReplay('GptDecoder.generate');
    this.replay = replay;
    this.history = null;
    const t0 = performance.now();
    const first = pick();
    let out = await replay.run(() => this.prefill_(ids, P, first), 0);
    const history = { ids, promptLen: P, steps: [] as Int32Array[] };
    this.history = history;
    const prefillMs = performance.now() - t0;
    const stepMs: number[] = [];
    const done = new Array<boolean>(B).fill(false);
    for (let n = 0; n < opts.maxNewTokens; n++) {
      const next = Array.from(out.tokens as Float32Array);
      next.forEach((t, b) => {
        tokens[b].push(t);
        if (t === opts.eosId) done[b] = true;
      });
      opts.onToken?.(next.slice(), n);
      if (done.every(Boolean) || n === opts.maxNewTokens - 1) break;
      const s = performance.now();
      const feeds = pick();
      const at = tokens[0].length - 1; // the position this step writes
      const stepIds = Int32Array.from(next);
      out = await replay.run(() => this.step_(stepIds, feeds), at);
      history.steps.push(stepIds);
      stepMs.push(performance.now() - s);
    }
    const total = stepMs.reduce((a, b) => a + b, 0);
    return {
      tokens, prefillMs, stepMs, tokensPerSecond: total > 0 ? (B * stepMs.length * 1000) / total : 0, stepStats: { ...this.stepExe.stats }, recoveries: replay.recoveries,
    };
  }

  /** Releases every compiled graph and the KV cache; the model is untouched. */
  destroy(): void {
    for (const e of this.prefills.values()) e.destroy();
    this.stepExe.destroy();
  }
}

/** What a run that picks its tokens on the GPU is fed: a draw per sequence, the temperature and k. */
interface PickFeeds {
  [name: string]: Float32Array | Int32Array;
  draws: Float32Array;
  temperature: Float32Array;
  topK: Int32Array;
}

/** Options of the decoder's graphs. */
export interface DecodeGraphOptions {
  /**
   * Add token choice on the GPU: inputs `draws` f32 [B] (one u in [0, 1) per sequence),
   * `temperature` f32 [1] (0: greedy) and `topK` i32 [1] (0: all), and output `tokens` i32 [B]
   * (sampleTokens over the logits). Default false: logits only.
   */
  sample?: boolean;
}

/** logits [B, vocab] and, when asked, the GPU's token choice over them as output `tokens`. */
function outputs(g: Graph, logits: Tensor, batch: number, opts: DecodeGraphOptions): void {
  g.output('logits', logits);
  if (!opts.sample) return;
  const draws = g.input('draws', [batch]);
  g.output('tokens', g.sampleTokens(logits, { temperature: g.input('temperature', [1]), topK: g.input('topK', [1], 'i32'), draws }));
}

/** The cache: one [batch, heads, maxLen, headDim] state per layer for keys and one for values. */
function cacheStates(g: Graph, model: GPT2LMHeadModel, maxLen: number, batch: number): { k: Tensor; v: Tensor }[] {
  const { nLayer, nHead, nEmbd } = model.config;
  const shape = [batch, nHead, maxLen, nEmbd / nHead];
  return Array.from({ length: nLayer }, (_, i) => ({ k: g.state(`k${i}`, shape), v: g.state(`v${i}`, shape) }));
}

/** The last position's hidden state [B, 1, E] through the tied head → logits [B, vocab]. */
function lastLogits(g: Graph, model: GPT2LMHeadModel, hidden: Tensor): Tensor {
  const [B, T] = hidden.shape;
  const last = T === 1 ? hidden : g.slice(hidden, 1, T - 1, T);
  return g.reshape(model.lmHead(g, last), [B, model.config.vocabSize]);
}

/** Prompt ids [B, P] → the cache's first P rows written, and the last position's logits. */
export function prefillGraph(model: GPT2LMHeadModel, maxLen: number, batch: number, promptLen: number, opts: DecodeGraphOptions = {}): Graph {
  const g = new Graph();
  const cache = cacheStates(g, model, maxLen, batch);
  const hidden = model.transformer.forward(g, g.input('ids', [batch, promptLen], 'i32'), {
    attend: (i, q, k, v) => {
      g.assign(cache[i].k, k, { dim: 2, offset: 0 });
      g.assign(cache[i].v, v, { dim: 2, offset: 0 });
      return g.scaledDotProductAttention(q, k, v, { isCausal: true });
    },
  });
  outputs(g, lastLogits(g, model, hidden), batch, opts);
  return g;
}

/**
 * One token per sequence: ids [B, 1], its position `pos` [1] (and as posIds [B, 1] for wpe), and
 * `mask` [1, maxLen] (true for the cache rows 0..pos) → logits [B, vocab]. No causal flag: the
 * single query attends to every valid row, as torch's cached decoding does.
 */
export function stepGraph(model: GPT2LMHeadModel, maxLen: number, batch: number, opts: DecodeGraphOptions = {}): Graph {
  const g = new Graph();
  const cache = cacheStates(g, model, maxLen, batch);
  const pos = g.input('pos', [1], 'i32');
  const mask = g.input('mask', [1, maxLen], 'bool');
  const hidden = model.transformer.forward(g, g.input('ids', [batch, 1], 'i32'), {
    positionIds: g.input('posIds', [batch, 1], 'i32'),
    attend: (i, q, k, v) => {
      const keys = g.assign(cache[i].k, k, { dim: 2, offset: pos });
      const values = g.assign(cache[i].v, v, { dim: 2, offset: pos });
      return g.scaledDotProductAttention(q, keys, values, { attnMask: mask });
    },
  });
  outputs(g, lastLogits(g, model, hidden), batch, opts);
  return g;
}

/** Full recompute without a cache: ids [B, T] → logits [B, T, vocab] (the reference for cached decoding). */
export function fullGraph(model: GPT2LMHeadModel, batch: number, length: number): Graph {
  const g = new Graph();
  g.output('logits', model.forward(g, g.input('ids', [batch, length], 'i32')));
  return g;
}
