// The lecture's text classifier: Embedding(vocab, 64) -> RNN or LSTM(64, 128) -> Linear(128,
// classes) on each sequence's last valid step. State dict prefixes `embedding.`, `rnn.` or `lstm.`,
// `fc.`, as in the lecture's code. Token ids are [T, B] (sequence first, as torch's default).
import { InputError, ShapeError } from '../errors';
import type { Executable } from '../graph/executable';
import { Graph } from '../graph/graph';
import { Serial } from '../graph/serial';
import { Embedding, LSTM, Linear, RNN } from '../nn/layers';
import { Module } from '../nn/module';
import type { Runtime } from '../runtime/runtime';
import { argmax } from './sampling';

/** The classifier's sizes and its recurrent cell. */
export interface TextClassifierConfig {
  /** Rows of the embedding table: ids must lie in 0..vocabSize-1. */
  vocabSize: number;
  /** Logits per sequence. */
  numClasses: number;
  /** The embedding size, the recurrence's input size; default 64. */
  embedDim?: number;
  /** H, the recurrence's hidden size; default 128. */
  hiddenSize?: number;
  /** 'lstm' (default; state dict prefix `lstm.`) or 'rnn' (tanh; prefix `rnn.`). */
  cell?: 'lstm' | 'rnn';
}

/**
 * A recurrent text classifier: Embedding → one-layer LSTM or RNN (sequence first) → Linear on
 * each sequence's last valid step. Parameters under `embedding.`, `lstm.` or `rnn.`, and `fc.`.
 */
export class TextClassifier extends Module {
  /** `embedding`: [vocabSize, embedDim]. */
  readonly embedding: Embedding;
  /** `lstm` or `rnn`: the recurrence, embedDim → hiddenSize. */
  readonly recurrent: LSTM | RNN;
  /** `fc`: hiddenSize → numClasses. */
  readonly fc: Linear;
  /** H, the recurrence's hidden size. */
  readonly hiddenSize: number;

  /** Seeded initial weights (load real ones with loadStateDict); a ShapeError for another cell. */
  constructor(
    /** The sizes and cell it was built with. */
    readonly config: TextClassifierConfig,
  ) {
    super();
    const embedDim = config.embedDim ?? 64;
    this.hiddenSize = config.hiddenSize ?? 128;
    const cell = config.cell ?? 'lstm';
    if (cell !== 'lstm' && cell !== 'rnn') throw new ShapeError(`TextClassifier: cell must be 'lstm' or 'rnn', got '${cell}'`);
    this.embedding = this.addModule('embedding', new Embedding(config.vocabSize, embedDim));
    this.recurrent = this.addModule(cell, cell === 'lstm' ? new LSTM(embedDim, this.hiddenSize) : new RNN(embedDim, this.hiddenSize));
    this.fc = this.addModule('fc', new Linear(this.hiddenSize, config.numClasses));
  }

  /**
   * ids [maxLen, batch] i32 and `last` [1, batch, H] i32 (each sequence's last valid step, repeated
   * over H for torch.gather) -> logits [batch, classes].
   */
  graph(maxLen: number, batch: number): Graph {
    const g = new Graph();
    const H = this.hiddenSize;
    const x = this.embedding.forward(g, g.input('ids', [maxLen, batch], 'i32'));
    const { output } = this.recurrent.forward(g, x);
    // A forward recurrence's output at step len-1 does not depend on the padding after it.
    const last = g.gather(output, 0, g.input('last', [1, batch, H], 'i32'));
    g.output('logits', this.fc.forward(g, g.reshape(last, [batch, H])));
    return g;
  }

  /**
   * Compiles the classifier on `rt` for batches of `batch` sequences of up to `maxLen` tokens; the
   * session takes any lengths in 1..maxLen. The weights are read at compile: load them first.
   */
  async compile(rt: Runtime, opts: { maxLen: number; batch: number }): Promise<ClassifierSession> {
    return new ClassifierSession(this, await rt.compile(this.graph(opts.maxLen, opts.batch)), opts.maxLen, opts.batch);
  }
}

/** A compiled TextClassifier ({@link TextClassifier.compile}): classifies one batch per call. */
export class ClassifierSession {
  /** One classify at a time, in call order, as exe.run. */
  private readonly serial = new Serial();

  /** Made by {@link TextClassifier.compile}, which compiles `exe` from the model's graph. */
  constructor(
    /** The model it was compiled from. */
    readonly model: TextClassifier,
    /** The compiled graph: inputs `ids` and `last`, output `logits`. */
    readonly exe: Executable,
    /** The longest sequence it takes (the compiled T). */
    readonly maxLen: number,
    /** Sequences per call (the compiled B). */
    readonly batch: number,
  ) {}

  /**
   * ids: [maxLen, batch] row-major, padded after each sequence's end (any valid id); lengths: [batch],
   * each in 1..maxLen. One submit.
   */
  classify(ids: Int32Array, lengths: ArrayLike<number>): Promise<{
    /** [batch, numClasses] row-major. */
    logits: Float32Array;
    /** Each sequence's highest-scoring class (the first of equal ones). */
    predictions: number[];
  }> {
    const own = { ids: ids instanceof Int32Array ? ids.slice() : ids, lengths: Array.from(lengths ?? []) };
    return this.serial.run(() => this.classify_(own.ids, own.lengths));
  }

  private async classify_(ids: Int32Array, lengths: ArrayLike<number>): Promise<{ logits: Float32Array; predictions: number[] }> {
    const { batch, maxLen } = this, H = this.model.hiddenSize;
    if (lengths.length !== batch) throw new InputError(`TextClassifier: ${lengths.length} lengths for a batch of ${batch}`);
    const last = new Int32Array(batch * H);
    for (let b = 0; b < batch; b++) {
      const n = lengths[b];
      if (!Number.isInteger(n) || n < 1 || n > maxLen) {
        throw new InputError(`TextClassifier: length ${n} of sequence ${b} is outside 1..${maxLen} (the compiled maximum)`);
      }
      last.fill(n - 1, b * H, (b + 1) * H);
    }
    const { logits } = await this.exe.run({ ids, last });
    const C = this.model.config.numClasses;
    const predictions = Array.from({ length: batch }, (_, b) => argmax(logits, b * C, (b + 1) * C));
    return { logits, predictions };
  }

  /** Releases the compiled graph's GPU buffers; the model is untouched. */
  destroy(): void {
    this.exe.destroy();
  }
}
