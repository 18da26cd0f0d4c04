// The lecture's GPT decoder: a GPT2LMHeadModel with a KV cache kept on the GPU. A prefill graph
// (one per prompt length) writes the prompt's keys and values into the cache; a decode-step graph
// appends one token's at a fed position and attends over the cache under a fed mask, so each new
// token costs one submit and uploads only its id, its position and a mask row.
import { InputError, ShapeError } from '../errors';
import type { Executable, ExecStats } from '../graph/executable';
import { Graph, type Tensor } from '../graph/graph';
import { Serial } from '../graph/serial';
import type { GPT2LMHeadModel } from '../nn/gpt2';
import type { Runtime } from '../runtime/runtime';
import { pickToken, SeededRandom, type SamplingOptions } from './sampling';

export interface GptDecoderOptions {
  /** Cache length: prompt plus generated tokens; at most the model's nPositions. */
  maxLen: number;
  batch?: number;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Seeds a SeededRandom when sampling and no rng is given. */
  seed?: number;
  /** Stop once every sequence has produced it. */
  eosId?: number;
}

export interface GenerateResult {
  /** [batch][prompt + generated] */
  tokens: number[][];
  prefillMs: number;
  stepMs: number[];
  /** Generated tokens per second over the decode steps (batch included). */
  tokensPerSecond: number;
  /** exe.stats of the last decode step: dispatches and submits per token. */
  stepStats: ExecStats;
}

export class GptDecoder {
  private readonly prefills = new Map<number, Executable>();
  private length = 0;
  /** prefill, step and generate share one KV cache: calls run one at a time, in call order. */
  private readonly serial = new Serial();

  private constructor(
    private readonly rt: Runtime,
    readonly model: GPT2LMHeadModel,
    readonly maxLen: number,
    readonly batch: number,
    private readonly stepExe: Executable,
  ) {}

  static async create(rt: Runtime, model: GPT2LMHeadModel, opts: GptDecoderOptions): Promise<GptDecoder> {
    const { nPositions } = model.config;
    const batch = opts.batch ?? 1;
    if (!Number.isInteger(opts.maxLen) || opts.maxLen < 1 || opts.maxLen > nPositions) {
      throw new ShapeError(`GptDecoder: maxLen ${opts.maxLen} must be in 1..${nPositions} (the positional table wpe)`);
    }
    const stepExe = await rt.compile(stepGraph(model, opts.maxLen, batch));
    return new GptDecoder(rt, model, opts.maxLen, batch, stepExe);
  }

  /** Tokens in the cache. */
  get cached(): number {
    return this.length;
  }

  /** Clears the cache and runs the prompt ids [batch, P]; returns the last position's logits [batch, vocab]. */
  prefill(ids: Int32Array, promptLen: number): Promise<Float32Array> {
    const own = ids instanceof Int32Array ? ids.slice() : ids;
    return this.serial.run(() => this.prefill_(own, promptLen));
  }

  private async prefill_(ids: Int32Array, promptLen: number): Promise<Float32Array> {
    if (!Number.isInteger(promptLen) || promptLen < 1 || promptLen > this.maxLen) {
      throw new InputError(`GptDecoder: a prompt of ${promptLen} tokens does not fit the KV cache of ${this.maxLen}`);
    }
    if (ids.length !== this.batch * promptLen) throw new InputError(`GptDecoder: prefill got ${ids.length} ids for [${this.batch}, ${promptLen}]`);
    let exe = this.prefills.get(promptLen);
    if (!exe) {
      exe = await this.rt.compile(prefillGraph(this.model, this.maxLen, this.batch, promptLen), { shareStateWith: this.stepExe });
      this.prefills.set(promptLen, exe);
    }
    // Rows past the prompt keep an earlier sequence's keys; the masks never let a query see them.
    const { logits } = await exe.run({ ids });
    this.length = promptLen;
    return logits;
  }

  /** Appends one token per sequence (ids [batch]); returns the logits [batch, vocab] it predicts. */
  step(ids: Int32Array): Promise<Float32Array> {
    const own = ids instanceof Int32Array ? ids.slice() : ids;
    return this.serial.run(() => this.step_(own));
  }

  private async step_(ids: Int32Array): Promise<Float32Array> {
    const pos = this.length;
    if (pos < 1) throw new InputError('GptDecoder: step() before prefill()');
    if (pos >= this.maxLen) throw new InputError(`GptDecoder: the KV cache of ${this.maxLen} tokens is full`);
    const mask = new Uint8Array(this.maxLen);
    mask.fill(1, 0, pos + 1);
    const { logits } = await this.stepExe.run({
      ids, mask, pos: new Int32Array([pos]), posIds: new Int32Array(this.batch).fill(pos),
    });
    this.length = pos + 1;
    return logits;
  }

  get stepStats(): ExecStats {
    return this.stepExe.stats;
  }

  /** Prefill, then one token per step: greedy, or sampled (temperature, top-k) from a seeded generator. */
  generate(prompt: number[][], opts: GenerateOptions): Promise<GenerateResult> {
    const own = Array.isArray(prompt) ? prompt.map((p) => (Array.isArray(p) ? p.slice() : p)) : prompt;
    return this.serial.run(() => this.generate_(own, { ...opts }));
  }

  private async generate_(prompt: number[][], opts: GenerateOptions): Promise<GenerateResult> {
    const B = this.batch, V = this.model.config.vocabSize;
    const P = prompt[0]?.length ?? 0;
    if (prompt.length !== B || prompt.some((p) => p.length !== P)) {
      throw new InputError(`GptDecoder: the prompt must be ${B} sequence(s) of one length`);
    }
    if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0 || P + opts.maxNewTokens > this.maxLen) {
      throw new InputError(`GptDecoder: ${P} prompt + ${opts.maxNewTokens} new tokens pass the KV cache of ${this.maxLen}`);
    }
    const sampling: SamplingOptions = { ...opts, rng: opts.rng ?? (opts.temperature ? new SeededRandom(opts.seed ?? 0) : undefined) };
    const tokens = prompt.map((p) => p.slice());
    const t0 = performance.now();
    let logits = await this.prefill_(Int32Array.from(prompt.flat()), P);
    const prefillMs = performance.now() - t0;
    const stepMs: number[] = [];
    const done = new Array<boolean>(B).fill(false);
    for (let n = 0; n < opts.maxNewTokens; n++) {
      const next = Array.from({ length: B }, (_, b) => pickToken(logits, sampling, b * V, (b + 1) * V));
      next.forEach((t, b) => {
        tokens[b].push(t);
        if (t === opts.eosId) done[b] = true;
      });
      if (done.every(Boolean) || n === opts.maxNewTokens - 1) break;
      const t = performance.now();
      logits = await this.step_(Int32Array.from(next));
      stepMs.push(performance.now() - t);
    }
    const total = stepMs.reduce((a, b) => a + b, 0);
    return { tokens, prefillMs, stepMs, tokensPerSecond: total > 0 ? (B * stepMs.length * 1000) / total : 0, stepStats: { ...this.stepExe.stats } };
  }

  destroy(): void {
    for (const e of this.prefills.values()) e.destroy();
    this.stepExe.destroy();
  }
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
export function prefillGraph(model: GPT2LMHeadModel, maxLen: number, batch: number, promptLen: number): Graph {
  const g = new Graph();
  const cache = cacheStates(g, model, maxLen, batch);
  const hidden = model.transformer.forward(g, g.input('ids', [batch, promptLen], 'i32'), {
    attend: (i, q, k, v) => {
      g.assign(cache[i].k, k, { dim: 2, offset: 0 });
      g.assign(cache[i].v, v, { dim: 2, offset: 0 });
      return g.scaledDotProductAttention(q, k, v, { isCausal: true });
    },
  });
  g.output('logits', lastLogits(g, model, hidden));
  return g;
}

/**
 * One token per sequence: ids [B, 1], its position `pos` [1] (and as posIds [B, 1] for wpe), and
 * `mask` [1, maxLen] (true for the cache rows 0..pos) → logits [B, vocab]. No causal flag: the
 * single query attends to every valid row, as torch's cached decoding does.
 */
export function stepGraph(model: GPT2LMHeadModel, maxLen: number, batch: number): Graph {
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
  g.output('logits', lastLogits(g, model, hidden));
  return g;
}

/** Full recompute without a cache: ids [B, T] → logits [B, T, vocab] (the reference for cached decoding). */
export function fullGraph(model: GPT2LMHeadModel, batch: number, length: number): Graph {
  const g = new Graph();
  g.output('logits', model.forward(g, g.input('ids', [batch, length], 'i32')));
  return g;
}
