// User kernels (rt.kernels.register) through the public API, shared by Node (test/user-kernels.test.ts)
// and Chromium (test/browser/user-kernels.*): the README's example on every softmax case, a new op
// built with g.custom on both runtimes, a variant of linear that fusion leaves alone, and each bad
// kernel's typed error. Plain asserts, so the page runs them as they are.
import { GpuError, Graph, KernelError, LimitError, Runtime, ShapeError, type KernelDefinition } from '../src/index';
import { checkParity, liveBuffers, opCases } from '../src/testing';
import registerLinear from '../bench/kernels/linear-naive.js';
import registerRelu from '../bench/kernels/relu-plain.js';
import registerThreePass from '../bench/kernels/softmax-three-pass.js';
import { eq, rejects } from './defect-checks';
import { randn } from './parity';

/** A GPU runtime to register on (fresh per check, so names do not collide). */
export type UserKernelCheck = (fresh: () => Promise<Runtime>) => Promise<void>;

/** Runs check `name` with fresh runtimes from `create`, destroying each after; returns the adapter. */
export async function runUserKernelCheck(name: string, create: () => Promise<Runtime>): Promise<string> {
  const check = USER_KERNEL_CHECKS[name];
  if (!check) throw new Error(`no user kernel check '${name}'`);
  const made: Runtime[] = [];
  try {
    await check(async () => {
      const rt = await create();
      made.push(rt);
      return rt;
    });
    if (!made.length) throw new Error(`${name}: the check made no runtime`);
    return made[0].info.adapter.description;
  } finally {
    made.forEach((rt) => rt.destroy());
  }
}

function assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** out = a + alpha * b over equal shapes: a new op with its shape rule and reference. */
export const SCALED_ADD: KernelDefinition = {
  op: 'scaledAdd',
  name: 'user:scaled-add',
  operands: ['a', 'b'],
  shape([a, b]) {
    if (a.shape.join() !== b.shape.join()) throw new Error(`a [${a.shape}] and b [${b.shape}] must have one shape`);
    return { shape: a.shape };
  },
  reference: ([a, b], { alpha }) => a.data.map((v, i) => v + (alpha as number) * b.data[i]),
  wgsl: `
    struct Params { n: u32, alpha: f32 }
    @group(0) @binding(0) var<uniform> p: Params;
    @group(0) @binding(1) var<storage, read> a: array<f32>;
    @group(0) @binding(2) var<storage, read> b: array<f32>;
    @group(0) @binding(3) var<storage, read_write> out: array<f32>;
    @compute @workgroup_size(64)
    fn main(@builtin(global_invocation_id) id: vec3<u32>) {
      if (id.x < p.n) { out[id.x] = a[id.x] + p.alpha * b[id.x]; }
    }`,
  plan: ({ out, attrs }) => {
    const n = out.shape.reduce((x, y) => x * y, 1);
    return { grid: [Math.ceil(n / 64)], uniforms: { n, alpha: attrs.alpha as number } };
  },
};

/** A softmax variant with its own WGSL, bindings or plan, for the error checks. */
const softmaxKernel = (name: string, wgsl: string, plan: KernelDefinition['plan'] = () => ({ grid: [1] })): KernelDefinition => ({ op: 'softmax', name, wgsl, plan });
const GOOD_BODY = `
  @group(0) @binding(0) var<storage, read> x: array<f32>;
  @group(0) @binding(1) var<storage, read_write> out: array<f32>;
  @compute @workgroup_size(1) fn main() { out[0] = x[0]; }`;

function softmaxGraph(): Graph {
  const g = new Graph();
  g.output('y', g.softmax(g.input('x', [3, 5])));
  return g;
}

export const USER_KERNEL_CHECKS: Record<string, UserKernelCheck> = {
  async 'the README example (user:three-pass) passes every softmax case and is the kernel run'(fresh) {
    const rt = await fresh();
    registerThreePass(rt.kernels);
    const cases = opCases().softmax;
    assert(cases.length > 10, `softmax has ${cases.length} cases`);
    for (const c of cases) {
      const r = await checkParity(rt, c, { variants: { softmax: 'user:three-pass' } });
      assert(r.ok, r.report);
      assert(r.steps.every((s) => !s.startsWith('softmax') || s.endsWith('(user:three-pass)')), `${c.id}: steps ${r.steps.join('; ')}`);
    }
  },

  async 'the playground templates (linear, relu) pass every parity case that uses their op'(fresh) {
    const rt = await fresh();
    registerLinear(rt.kernels);
    registerRelu(rt.kernels);
    for (const [op, name] of [['linear', 'user:naive-linear'], ['relu', 'user:relu']]) {
      const all = Object.values(opCases()).flat().filter((c) => c.build().graph.nodes.some((n) => n.node.op === op));
      // 16-bit weights are refused by user variants (KernelError, checked below); every other case runs.
      const half = (c: (typeof all)[number]) => {
        const { nodes } = c.build().graph;
        return nodes.some((n) => n.node.op === op && n.inputs.some((i) => nodes[i].dtype === 'f16' || nodes[i].dtype === 'bf16'));
      };
      const cases = all.filter((c) => !half(c));
      assert(cases.length >= 3, `${op}: ${cases.length} cases`);
      for (const c of all.filter(half)) {
        const r = await checkParity(rt, c, { variants: { [op]: name } }).then(() => null, (e: Error) => e);
        assert(r?.name === 'KernelError' && /reads f32, i32 and bool operands; .* is b?f16/.test(r.message), `${c.id}: ${r?.name}: ${r?.message}`);
      }
      for (const c of cases) {
        const r = await checkParity(rt, c, { variants: { [op]: name } });
        assert(r.ok, r.report);
        assert(r.steps.some((s) => s.endsWith(`(${name})`)), `${c.id}: ${name} not run: ${r.steps.join('; ')}`);
      }
    }
  },

  async 'a new op (g.custom) runs on the GPU and on the CPU reference alike'(fresh) {
    const rt = await fresh(), cpu = Runtime.cpu();
    rt.kernels.register(SCALED_ADD);
    cpu.kernels.register(SCALED_ADD);
    const g = new Graph();
    const a = g.input('a', [4, 33]), b = g.input('b', [4, 33]);
    const y = g.custom('scaledAdd', [a, b], { alpha: -2.5 });
    assert(y.shape.join() === '4,33' && y.dtype === 'f32', `shape rule: ${y.shape} ${y.dtype}`);
    g.output('y', g.relu(y));
    const feeds = { a: randn(132, 1), b: randn(132, 2) };
    const want = Array.from(feeds.a, (v, i) => Math.max(0, Math.fround(v + -2.5 * feeds.b[i])));
    for (const r of [rt, cpu]) {
      const exe = await r.compile(g);
      const out = await exe.run(feeds);
      exe.destroy();
      const err = Math.max(...Array.from(out.y, (v, i) => Math.abs(v - want[i])));
      assert(err <= 1e-6, `${r.info.backend}: max |err| ${err}`);
    }
    rt.destroy();
  },

  async 'a variant of linear is used where forced; fusion leaves its node alone'(fresh) {
    const rt = await fresh();
    registerLinear(rt.kernels);
    const g = new Graph();
    const x = g.input('x', [2, 3, 17]);
    g.output('y', g.relu(g.linear(x, g.input('w', [13, 17]), g.input('b', [13]))));
    const r = await checkParity(rt, { id: 'linear via user:naive-linear', kernel: 'matmul', tol: { atol: 1e-5, rtol: 1e-5, why: 'f32 dot products of 17' }, build: () => ({ graph: g, feeds: { x: randn(102, 3), w: randn(221, 4), b: randn(13, 5) } }) }, { variants: { linear: 'user:naive-linear' } });
    assert(r.ok, r.report);
    assert(r.steps.length === 2 && r.steps[0].endsWith('(user:naive-linear)') && r.steps[1].startsWith('relu'), `steps: ${r.steps.join('; ')}`);
    rt.destroy();
  },

  async 'a WGSL error is a GpuError at compile naming the kernel and its line'(fresh) {
    const rt = await fresh();
    rt.kernels.register(softmaxKernel('user:broken', GOOD_BODY.replace('out[0] = x[0];', 'out[0] = x[0] + 1u;')));
    await rejects(() => rt.compile(softmaxGraph(), { variants: { softmax: 'user:broken' } }), GpuError, /user:broken:4:\d+ /, 'WGSL error');
    rt.destroy();
  },

  async 'bindings that are not the op\'s operands, and a missing out, are KernelErrors'(fresh) {
    const rt = await fresh();
    rt.kernels.register(softmaxKernel('user:renamed', GOOD_BODY.replaceAll('x', 'input')));
    rt.kernels.register(softmaxKernel('user:no-out', GOOD_BODY.replaceAll('out', 'result')));
    await rejects(() => rt.compile(softmaxGraph(), { variants: { softmax: 'user:renamed' } }), KernelError, /^user:renamed: binding 'input' is not an operand of softmax \(operands: x; result: out\)$/, 'renamed');
    await rejects(() => rt.compile(softmaxGraph(), { variants: { softmax: 'user:no-out' } }), KernelError, /user:no-out: binding 'result' is not an operand/, 'no out');
    rt.destroy();
  },

  async 'a grid past the device limit is a LimitError; a failing or empty plan a KernelError'(fresh) {
    const rt = await fresh();
    rt.kernels.register(softmaxKernel('user:huge', GOOD_BODY, () => ({ grid: [1 << 20] })));
    rt.kernels.register(softmaxKernel('user:throws', GOOD_BODY, () => { throw new Error('len must be a multiple of 64'); }));
    rt.kernels.register(softmaxKernel('user:nogrid', GOOD_BODY, () => ({}) as never));
    const before = liveBuffers(rt);
    await rejects(() => rt.compile(softmaxGraph(), { variants: { softmax: 'user:huge' } }), LimitError, /^user:huge: grid \[1048576, 1, 1\] for softmax \[3, 5\] passes the device's \d+ workgroups per dimension$/, 'huge grid');
    await rejects(() => rt.compile(softmaxGraph(), { variants: { softmax: 'user:throws' } }), KernelError, /^user:throws: plan failed for softmax \[3, 5\]: len must be a multiple of 64$/, 'plan throws');
    await rejects(() => rt.compile(softmaxGraph(), { variants: { softmax: 'user:nogrid' } }), KernelError, /^user:nogrid: plan must return \{ grid/, 'no grid');
    await rejects(() => rt.compile(softmaxGraph(), { variants: { softmax: 'user:absent' } }), KernelError, /^softmax: no user variant 'user:absent' is registered on this runtime; softmax has user:huge, user:throws, user:nogrid$/, 'unknown variant');
    eq([liveBuffers(rt)], [before], 'buffers after failed compiles');
    rt.destroy();
  },

  async 'bad registrations are KernelErrors naming the kernel'(fresh) {
    const rt = await fresh();
    const k = rt.kernels;
    const bad: [string, unknown, RegExp][] = [
      ['no user: prefix', { ...SCALED_ADD, name: 'mine' }, /name must be 'user:'/],
      ['an op without user variants', { ...softmaxKernel('user:x', GOOD_BODY), op: 'rnn' }, /rnn takes no user variants; the ops that do are .*softmax/],
      ['a shape rule for an engine op', { ...softmaxKernel('user:y', GOOD_BODY), shape: SCALED_ADD.shape }, /softmax is an engine op/],
      ['a new op without a reference', { ...SCALED_ADD, op: 'halfDone', reference: undefined }, /new op 'halfDone' needs a shape rule .* and a CPU reference/],
      ['a new op without operands', { ...SCALED_ADD, op: 'noOperands', operands: undefined }, /new op 'noOperands' needs operands/],
      ['an operand named out', { ...SCALED_ADD, op: 'outOperand', operands: ['a', 'out'] }, /needs operands: distinct binding names \(not 'out'\)/],
      ['no plan', { ...softmaxKernel('user:z', GOOD_BODY), plan: undefined }, /plan must be a function/],
    ];
    for (const [what, def, re] of bad) await rejects(() => k.register(def as KernelDefinition), KernelError, re, what);
    k.register(SCALED_ADD);
    await rejects(() => k.register(SCALED_ADD), KernelError, /a kernel named 'user:scaled-add' is already registered on this runtime/, 'duplicate');
    await rejects(() => k.register({ ...SCALED_ADD, name: 'user:other', reference: () => [] }), KernelError, /op 'scaledAdd' is already defined with other operands, shape rule or reference/, 'redefined op');
    eq([k.names('scaledAdd').length], [1], 'one scaledAdd kernel');
    rt.destroy();
  },

  async 'g.custom errors: an unregistered op, a refused shape; a runtime without its kernel'(fresh) {
    const rt = await fresh();
    Runtime.cpu().kernels.register(SCALED_ADD); // defines the op (process-wide), no GPU kernel on rt
    const g = new Graph();
    await rejects(() => g.custom('noSuchOp', [g.input('a', [2])]), ShapeError, /^custom: no op 'noSuchOp' is registered/, 'unregistered');
    await rejects(() => g.custom('scaledAdd', [g.input('p', [2]), g.input('q', [3])]), ShapeError, /^scaledAdd \(a f32 \[2\], b f32 \[3\]\): a \[2\] and b \[3\] must have one shape$/, 'refused shape');
    await rejects(() => g.custom('scaledAdd', [g.input('r', [2])]), ShapeError, /^scaledAdd: takes 2 operand\(s\) \(a, b\), got 1$/, 'arity');
    g.output('y', g.custom('scaledAdd', [g.input('s', [2]), g.input('t', [2])], { alpha: 1 }));
    await rejects(() => rt.compile(g), KernelError, /^scaledAdd: no kernel for this op is registered on this runtime/, 'no kernel');
    rt.destroy();
  },
};
