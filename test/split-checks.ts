// Tensors past the binding limit, shared by Node (test/split.test.ts) and Chromium (test/browser/
// split.*): every path that holds a tensor in parts, run under a small engine cap
// (Runtime.create({ limits: { maxStorageBufferBindingSize } })) so any adapter takes it, against
// the CPU reference; a small GPT-2 whose wte and MLP weights pass the cap; and the LimitError of
// every op that takes no operand in parts. Plain asserts, so the page runs them as they are.
import { GPT2LMHeadModel, GptDecoder, Graph, LimitError, Runtime, fullGraph, setInitSeed, stepGraph, type Feeds } from '../src/index';
import { checkParity, liveBuffers, type ParityCase, type Tolerance } from '../src/testing';
import { eq, rejects } from './defect-checks';
import { randn, rng } from './parity';
import { SPLIT16_CHECKS } from './split16-checks';

/** A GPU runtime whose binding limit is capped at `cap` bytes (made once per cap by the runner). */
export type CappedRuntime = (cap: number) => Promise<Runtime>;

/** A parity case run under an engine cap; `parts`, where given, must match a step label (the split happened). */
interface SplitCase extends ParityCase {
  cap: number;
  parts?: RegExp;
}

const exact: Tolerance = { atol: 0, rtol: 0, why: 'a gather copies values bit for bit, from whichever part holds them' };
// As test/cases-matmul.ts: f32 accumulation of K products (plus a bias) in any order, u = 2^-24.
const gemmTol = (k: number): Tolerance => ({
  atol: 4e-7 * (k + 1) + 1e-6, rtol: 1e-5,
  why: 'f32 accumulation of K products and a bias: atol 4e-7*(K+1) (between sqrt(K)*u and the K*u worst case); parts change no sum',
});

const feed = (shape: number[], seed: number): Float32Array => randn(shape.reduce((a, b) => a * b, 1), seed);
function ids(n: number, hi: number, seed: number, must: number[] = []): Int32Array {
  const r = rng(seed);
  const out = Int32Array.from({ length: n }, () => Math.floor(r() * hi));
  must.forEach((v, i) => (out[i * 3] = v));
  return out;
}
const build = (f: (g: Graph) => Feeds) => () => {
  const g = new Graph();
  return { graph: g, feeds: f(g) };
};

export const SPLIT_CASES: SplitCase[] = [
  {
    id: 'embedding: constant table [37, 24] (3552 B) at cap 1024 in row parts 8,8,8,8,5; result [3, 7, 24] in 3 row parts',
    kernel: 'embedding', tol: exact, cap: 1024, dispatches: 15, parts: /rows 14..20 from table rows 32..36/,
    build: build((g) => {
      g.output('y', g.embedding(g.input('ids', [3, 7], 'i32'), g.constant(feed([37, 24], 1), [37, 24])));
      return { ids: ids(21, 37, 2, [0, 36, 7, 8, 31, 32]) };
    }),
  },
  {
    id: 'embedding: fed table [41, 6] split on upload at cap 256 (rows 8 x 5 + 1)',
    kernel: 'embedding', tol: exact, cap: 256, dispatches: 6, parts: /table rows 40..40/,
    build: build((g) => {
      g.output('y', g.embedding(g.input('ids', [2, 5], 'i32'), g.input('w', [41, 6])));
      return { ids: ids(10, 41, 3, [40, 0, 39]), w: feed([41, 6], 4) };
    }),
  },
  {
    id: 'embedding: table [16, 16] exactly at cap 1024 is one buffer; [16, 17] two parts (12 + 4 rows)',
    kernel: 'embedding', tol: exact, cap: 1024, dispatches: 3, parts: /table rows 12..15/,
    build: build((g) => {
      const i = g.input('ids', [6], 'i32');
      g.output('a', g.embedding(i, g.constant(feed([16, 16], 5), [16, 16])));
      g.output('b', g.embedding(i, g.constant(feed([16, 17], 6), [16, 17])));
      return { ids: Int32Array.from([0, 15, 11, 12, 3, 7]) };
    }),
  },
  {
    id: 'gather dim 0: fed x [29, 13] (1508 B) at cap 512 in row parts 8,8,8,5',
    kernel: 'copy', tol: exact, cap: 512, dispatches: 4, parts: /x rows 24..28/,
    build: build((g) => {
      g.output('y', g.gather(g.input('x', [29, 13]), 0, g.input('i', [5, 13], 'i32')));
      return { x: feed([29, 13], 7), i: ids(65, 29, 8, [0, 28, 7, 8, 23, 24]) };
    }),
  },
  {
    id: 'gather dim 1: constant x [29, 13] at cap 512 in row parts 8,8,8,5; index [29, 3]',
    kernel: 'copy', tol: exact, cap: 512, dispatches: 4, parts: /x rows 24..28/,
    build: build((g) => {
      g.output('y', g.gather(g.constant(feed([29, 13], 9), [29, 13]), 1, g.input('i', [29, 3], 'i32')));
      return { i: ids(29 * 3, 13, 10, [0, 12]) };
    }),
  },
  {
    id: 'gather dim 0 of an i32 constant [23, 7] at cap 256 (rows 8,8,7)',
    kernel: 'copy', tol: exact, cap: 256, dispatches: 3, parts: /x rows 16..22/,
    build: build((g) => {
      const x = Int32Array.from({ length: 23 * 7 }, (_, k) => k * 7919 - 500000);
      g.output('y', g.gather(g.constant(x, [23, 7]), 0, g.input('i', [4, 7], 'i32')));
      return { i: ids(28, 23, 11, [22, 0, 16, 15]) };
    }),
  },
  {
    id: 'linear LM head: weight [101, 20] (prime vocab) at cap 1024 in 12-row parts, bias, relu; logits [2, 3, 101] in column parts 40,40,21',
    kernel: 'matmul', tol: gemmTol(20), cap: 1024, dispatches: 11, parts: /columns 96..100/,
    build: build((g) => {
      g.output('y', g.relu(g.linear(g.input('x', [2, 3, 20]), g.constant(feed([101, 20], 12), [101, 20]), g.input('b', [101]))));
      return { x: feed([2, 3, 20], 13), b: feed([101], 14) };
    }),
  },
  // Every matmul entry point reads B and the bias at an offset when a block of columns starts
  // inside a part (here at columns 40 and 80 of 12-row parts).
  ...(['naive', 'tiled', 'tiled-vec4', 'register'] as const).map((variant): SplitCase => ({
    id: `linear LM head [101, 20] at cap 1024, variant ${variant}: blocks start inside weight parts`,
    kernel: 'matmul', tol: gemmTol(20), cap: 1024, dispatches: 11, parts: new RegExp(`columns 40..47 \\(${variant}\\)`),
    options: { variants: { matmul: variant } },
    build: build((g) => {
      g.output('y', g.linear(g.input('x', [6, 20]), g.input('w', [101, 20]), g.constant(feed([101], 34), [101])));
      return { x: feed([6, 20], 35), w: feed([101, 20], 36) };
    }),
  })),
  {
    id: 'linear at cap 256: fed weight [101, 20] (3-row parts), constant bias [101] in parts too, logits in 20-column parts',
    kernel: 'matmul', tol: gemmTol(20), cap: 256, parts: /columns 99..99/,
    build: build((g) => {
      g.output('y', g.linear(g.input('x', [1, 3, 20]), g.input('w', [101, 20]), g.constant(feed([101], 15), [101])));
      return { x: feed([1, 3, 20], 16), w: feed([101, 20], 17) };
    }),
  },
  {
    id: 'matmul x [5, 16] by a constant [16, 67] at cap 1024: column blocks of 16; result [5, 67] in parts 48 + 19',
    kernel: 'matmul', tol: gemmTol(16), cap: 1024, dispatches: 5, parts: /columns 64..66/,
    build: build((g) => {
      g.output('y', g.matmul(g.input('x', [5, 16]), g.constant(feed([16, 67], 18), [16, 67])));
      return { x: feed([5, 16], 19) };
    }),
  },
  {
    id: 'batched matmul [2, 5, 16] x fed [2, 16, 37] at cap 1024: 8-column blocks; result in parts 24 + 13',
    kernel: 'matmul', tol: gemmTol(16), cap: 1024, dispatches: 5, parts: /columns 32..36/,
    build: build((g) => {
      g.output('y', g.matmul(g.input('x', [2, 5, 16]), g.input('w', [2, 16, 37])));
      return { x: feed([2, 5, 16], 20), w: feed([2, 16, 37], 21) };
    }),
  },
  {
    id: 'tied table [53, 12] at cap 512: embedding rows and LM head (linear and matmul of its transpose) from one set of parts',
    kernel: 'matmul', tol: gemmTol(12), cap: 512, parts: /linear#\d+ \[2, 4, 53\] columns 48..52/,
    build: build((g) => {
      const table = g.constant(feed([53, 12], 22), [53, 12]);
      const h = g.embedding(g.input('ids', [2, 4], 'i32'), table);
      g.output('logits', g.linear(h, table));
      g.output('viaMatmul', g.matmul(h, g.transpose(table, 0, 1)));
      g.output('h', h);
      return { ids: ids(8, 53, 23, [52, 0, 47]) };
    }),
  },
  {
    id: 'linear + residual with a weight [37, 20] in parts at cap 1024: the result [4, 37] fits, the add fuses',
    kernel: 'matmul', tol: gemmTol(21), cap: 1024, dispatches: 4, parts: /\+residual columns 36..36/,
    build: build((g) => {
      g.output('y', g.add(g.linear(g.input('x', [4, 20]), g.constant(feed([37, 20], 24), [37, 20])), g.input('r', [4, 37])));
      return { x: feed([4, 20], 25), r: feed([4, 37], 26) };
    }),
  },
  {
    id: 'a result in column parts reshaped: logits [2, 3, 101] read back as [6, 101]',
    kernel: 'matmul', tol: gemmTol(20), cap: 1024, parts: /columns 80..83/,
    build: build((g) => {
      g.output('y', g.reshape(g.linear(g.input('x', [2, 3, 20]), g.input('w', [101, 20])), [6, 101]));
      return { x: feed([2, 3, 20], 27), w: feed([101, 20], 28) };
    }),
  },
  {
    id: 'an input [50, 10] and a constant [9, 40] past cap 256 read back as outputs, in row parts',
    kernel: 'copy', tol: exact, cap: 256, dispatches: 0,
    build: build((g) => {
      g.output('x', g.input('x', [50, 10]));
      g.output('c', g.constant(feed([9, 40], 29), [9, 40]));
      return { x: feed([50, 10], 30) };
    }),
  },
];

async function parity(c: SplitCase, capped: CappedRuntime): Promise<string> {
  const r = await checkParity(await capped(c.cap), c);
  if (!r.ok) throw new Error(r.report);
  if (c.parts && !r.steps.some((s) => c.parts!.test(s))) {
    throw new Error(`${c.id}: no step matches ${c.parts} (${r.steps.join('; ')})`);
  }
  return r.report;
}

/** A small GPT-2 (vocab 211, a prime) whose wte [211, 32] and MLP weights [32, 128] pass an 8 KiB cap. */
function smallGpt(): GPT2LMHeadModel {
  setInitSeed(13);
  return new GPT2LMHeadModel({ vocabSize: 211, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 2 });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// Logits sum nEmbd = 32 products through two layers; GPU and CPU sum in other orders (see
// test/models.test.ts, which uses the same bound for the same reason).
const LOGIT_TOL = 2e-4;

/** Compile errors of graphs whose over-limit operand reaches an op that takes none in parts. */
async function limitError(rt: Runtime, graph: (g: Graph) => void, message: RegExp, what: string): Promise<void> {
  const g = new Graph();
  graph(g);
  const before = liveBuffers(rt);
  await rejects(() => rt.compile(g), LimitError, message, what);
  eq([liveBuffers(rt)], [before], `${what}: GPU buffers after the failed compile`);
}

export const SPLIT_CHECKS: Record<string, (capped: CappedRuntime) => Promise<string | void>> = {
  ...Object.fromEntries(SPLIT_CASES.map((c) => [c.id, (capped: CappedRuntime) => parity(c, capped)])),
  // 16-bit weights in parts (test/split16-checks.ts).
  ...SPLIT16_CHECKS,

  async 'tied table: the LM head reads the embedding parts, no second copy of the table'(capped) {
    const rt = await capped(512);
    const data = feed([53, 12], 31);
    const bytes = async (tied: boolean) => {
      const g = new Graph();
      const table = g.constant(data, [53, 12]);
      const h = g.embedding(g.input('ids', [1, 2], 'i32'), table);
      g.output('y', g.linear(h, tied ? table : g.constant(data.slice(), [53, 12])));
      const exe = await rt.compile(g);
      const { y } = await exe.run({ ids: Int32Array.from([3, 50]) });
      eq([y.length], [106], 'logits');
      const n = exe.stats.bytesAllocated;
      exe.destroy();
      return n;
    };
    const before = liveBuffers(rt);
    const tied = await bytes(true), untied = await bytes(false);
    // The untied graph holds the table twice: 7 parts of 8 rows (the last 5), 384 bytes and 240.
    eq([untied - tied], [6 * 384 + 240], 'bytes the tied graph saves');
    eq([liveBuffers(rt)], [before], 'GPU buffers once the executables are destroyed (parts included)');
  },

  async 'GPT-2 at cap 8 KiB: wte in 4 row parts, MLP weights in column parts; greedy tokens and logits equal the CPU reference'(capped) {
    const rt = await capped(8192);
    const model = smallGpt();
    const prompt = [[5, 210, 17]];
    const gpu = await GptDecoder.create(rt, model, { maxLen: 12 });
    const cpu = await GptDecoder.create(Runtime.cpu(), model, { maxLen: 12 });
    try {
      const a = await gpu.generate(prompt, { maxNewTokens: 7 });
      const b = await cpu.generate(prompt, { maxNewTokens: 7 });
      eq(a.tokens, b.tokens, 'greedy tokens');
      const [la, lb] = [await gpu.step(Int32Array.from([a.tokens[0][9]])), await cpu.step(Int32Array.from([b.tokens[0][9]]))];
      const d = maxDiff(la, lb);
      if (!(d <= LOGIT_TOL)) throw new Error(`decode-step logits differ by ${d}`);
      return `tokens ${a.tokens[0].join(' ')}, logits within ${d.toExponential(2)}`;
    } finally {
      gpu.destroy();
      cpu.destroy();
    }
  },

  async "GPT-2 from torch's state_dict at cap 8 KiB: lm_head.weight equal to wte reads wte's parts; one that differs has its own and decodes as the CPU does"(capped) {
    const rt = await capped(8192);
    const sd = smallGpt().stateDict();
    const wte = sd['transformer.wte.weight'];
    const load = (head: Float32Array) => {
      const m = smallGpt();
      m.loadStateDict({ ...sd, 'lm_head.weight': { shape: wte.shape, data: head } });
      return m;
    };
    const tied = load(wte.data.slice()), untied = load(randn(211 * 32, 41, 0.05));
    if (tied.lmHeadWeight !== null || untied.lmHeadWeight === null) throw new Error('an equal lm_head.weight must tie, a different one untie');
    const bytes = async (m: GPT2LMHeadModel) => {
      const exe = await rt.compile(stepGraph(m, 12, 1));
      const n = exe.stats.bytesAllocated;
      exe.destroy();
      return n;
    };
    eq([(await bytes(untied)) - (await bytes(tied))], [211 * 32 * 4], 'bytes of the untied head (its own 4 parts)');
    const gpu = await GptDecoder.create(rt, untied, { maxLen: 12 });
    const cpu = await GptDecoder.create(Runtime.cpu(), untied, { maxLen: 12 });
    try {
      const [a, b] = [await gpu.generate([[7, 1, 200]], { maxNewTokens: 6 }), await cpu.generate([[7, 1, 200]], { maxNewTokens: 6 })];
      eq(a.tokens, b.tokens, 'greedy tokens through the untied head');
      return `tokens ${a.tokens[0].join(' ')}`;
    } finally {
      gpu.destroy();
      cpu.destroy();
    }
  },

  async 'GPT-2 at cap 4 KiB: full-recompute logits [1, 8, 211] come back from column parts'(capped) {
    const rt = await capped(4096);
    const model = smallGpt();
    const g = fullGraph(model, 1, 8);
    const feeds = { ids: Int32Array.from([0, 210, 3, 99, 100, 101, 150, 7]) };
    const exe = await rt.compile(g);
    const cpu = await Runtime.cpu().compile(g);
    try {
      const [got, want] = [(await exe.run(feeds)).logits, (await cpu.run(feeds)).logits];
      const d = maxDiff(got, want);
      if (!(got.length === want.length && d <= LOGIT_TOL)) throw new Error(`logits differ by ${d} (${got.length} values, want ${want.length})`);
      for (const want of [/embedding#\d+ .* from table rows 0..31/, /linear#\d+ \[1, 8, 211\] columns 128..159/]) {
        if (!exe.steps.some((s) => want.test(s))) throw new Error(`no step matches ${want}`);
      }
      return `max |err| ${d.toExponential(2)}`;
    } finally {
      exe.destroy();
      cpu.destroy();
    }
  },

  async 'an op that takes no operand in parts is a LimitError naming it, at compile, with no buffer left'(capped) {
    const rt = await capped(1024);
    await limitError(rt, (g) => g.output('y', g.relu(g.input('x', [300]))),
      /^relu: operand 0 \(input 'x'\) f32 \[300\] needs a 1200-byte buffer; the device binds at most 1024 bytes, and relu takes no operand in parts/, 'relu');
    await limitError(rt, (g) => g.output('y', g.softmax(g.linear(g.input('x', [3, 8]), g.input('w', [100, 8])), -1)),
      /^softmax: operand 0 \(the result of linear#\d+\) f32 \[3, 100\] needs a 1200-byte buffer/, 'softmax of logits in parts');
    await limitError(rt, (g) => g.output('y', g.slice(g.linear(g.input('x', [3, 8]), g.input('w', [100, 8])), 0, 2, 3)),
      /^slice: operand 0 \(the result of linear#\d+\) f32 \[3, 100\] needs a 1200-byte buffer/, 'slice of logits in parts');
    await limitError(rt, (g) => g.output('y', g.concat([g.input('x', [300]), g.input('z', [2])], 0)),
      /^concat: f32 \[302\] needs a 1216-byte buffer; the device binds at most 1024 bytes/, 'concat (its result, made first)');
    await limitError(rt, (g) => g.output('y', g.layerNorm(g.constant(feed([20, 20], 32), [20, 20]), [20])),
      /^layerNorm: operand 0 \(a constant\) f32 \[20, 20\]/, 'layerNorm');
    await limitError(rt, (g) => g.output('y', g.add(g.linear(g.input('x', [3, 8]), g.input('w', [100, 8])), g.input('r', [3, 100]))),
      /^add \(fused into linear#\d+\): operand f32 \[3, 100\] needs a 1200-byte buffer; the device binds at most 1024 bytes/, 'a residual add');
    await limitError(rt, (g) => g.output('y', g.matmul(g.input('a', [30, 10]), g.input('b', [10, 4]))),
      /^matmul: operand 0 \(input 'a'\) f32 \[30, 10\] needs a 1200-byte buffer/, "matmul's A (only B is read in parts)");
    await limitError(rt, (g) => g.output('y', g.embedding(g.input('i', [2], 'i32'), g.constant(feed([3, 300], 33), [3, 300]))),
      /^embedding: f32 \[3, 300\] cannot be held in parts of whole slices: one slice of 1x300 takes 1200 bytes/, 'a row past the cap');
    await limitError(rt, (g) => g.output('y', g.reshape(g.transpose(g.input('x', [20, 20]), 0, 1), [400])),
      /^reshape: a transposed view \[20, 20\] of a tensor past the binding limit/, 'reshape of a transposed view');
    await limitError(rt, (g) => g.output('y', g.transpose(g.input('x', [20, 20]), 0, 1)),
      /^output 'y': a transposed view \[20, 20\] of a tensor past the binding limit \(1024 bytes\) cannot be read back/, 'transposed output');
    await limitError(rt, (g) => g.output('y', g.assign(g.state('s', [300]), g.input('x', [300]), { dim: 0, offset: 0 })),
      /^state: f32 \[300\] needs a 1200-byte buffer; the device binds at most 1024 bytes/, 'a state');
  },

  async 'Runtime.create refuses a cap that is not a positive multiple of 16, or a limit it does not cap'() {
    await rejects(() => Runtime.create({ limits: { maxStorageBufferBindingSize: 1000 } }), LimitError,
      /^Runtime.create: limits.maxStorageBufferBindingSize must be a positive multiple of 16 bytes, got 1000/, 'cap 1000');
    await rejects(() => Runtime.create({ limits: { maxStorageBufferBindingSize: 0 } }), LimitError, /multiple of 16 bytes, got 0/, 'cap 0');
    await rejects(() => Runtime.create({ limits: { maxBufferSize: 1024 } as never }), LimitError,
      /^Runtime.create: limits.maxBufferSize is not a limit the engine caps/, 'maxBufferSize');
  },
};

/** Runs check `name`, making one capped runtime per cap and destroying them after; returns its note. */
export async function runSplitCheck(name: string, create: (cap: number) => Promise<Runtime>): Promise<string> {
  const check = SPLIT_CHECKS[name];
  if (!check) throw new Error(`no split check '${name}'`);
  const made = new Map<number, Promise<Runtime>>();
  try {
    const note = await check((cap) => {
      if (!made.has(cap)) made.set(cap, create(cap));
      return made.get(cap)!;
    });
    return note || 'ok';
  } finally {
    for (const rt of made.values()) (await rt).destroy();
  }
}
