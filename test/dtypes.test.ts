// The dtype-aware elementwise ops through the public API: torch's result dtypes (torch.result_type),
// values torch gives (written from torch's documented behaviour, not from our reference), and the
// typed build errors for each bad input, on the GPU runtime (Dawn) and the CPU reference alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph, Runtime, ShapeError, type DType, type Tensor } from '../src/node';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());

const runtimeOf = (name: 'gpu' | 'cpu') => (name === 'gpu' ? gpu : Runtime.cpu());

describe('result dtypes follow torch.result_type (bool < i32 < f32; div always f32)', () => {
  const g = new Graph();
  const t: Record<'f32' | 'i32' | 'bool', Tensor> = { f32: g.input('f', [2]), i32: g.input('i', [2], 'i32'), bool: g.input('b', [2], 'bool') };
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, keyof typeof t, keyof typeof t, DType][] = [
    ['add', (a, b) => g.add(a, b), 'i32', 'f32', 'f32'],
    ['add', (a, b) => g.add(a, b), 'bool', 'i32', 'i32'],
    ['add', (a, b) => g.add(a, b), 'bool', 'bool', 'bool'],
    ['mul', (a, b) => g.mul(a, b), 'i32', 'i32', 'i32'],
    ['div', (a, b) => g.div(a, b), 'i32', 'i32', 'f32'],
    ['div', (a, b) => g.div(a, b), 'bool', 'bool', 'f32'],
    ['pow', (a, b) => g.pow(a, b), 'i32', 'bool', 'i32'],
    ['maximum', (a, b) => g.maximum(a, b), 'bool', 'bool', 'bool'],
    ['minimum', (a, b) => g.minimum(a, b), 'i32', 'f32', 'f32'],
    ['lt', (a, b) => g.lt(a, b), 'i32', 'f32', 'bool'],
    ['logicalAnd', (a, b) => g.logicalAnd(a, b), 'f32', 'i32', 'bool'],
    ['where', (a, b) => g.where(t.bool, a, b), 'i32', 'bool', 'i32'],
    ['where', (a, b) => g.where(t.bool, a, b), 'f32', 'i32', 'f32'],
  ];
  for (const [op, f, a, b, want] of cases) {
    it(`${op}(${a}, ${b}) is ${want}`, () => expect(f(t[a], t[b]).dtype).toBe(want));
  }
  it('unary ops: exp, log, sqrt, rsqrt, tanh, sigmoid of i32 give f32; neg, abs, relu keep i32; logicalNot gives bool', () => {
    for (const op of ['exp', 'log', 'sqrt', 'rsqrt', 'tanh', 'sigmoid'] as const) expect(g[op](t.i32).dtype).toBe('f32');
    for (const op of ['neg', 'abs', 'relu'] as const) expect(g[op](t.i32).dtype).toBe('i32');
    expect(g.logicalNot(t.f32).dtype).toBe('bool');
    expect(g.maskedFill(t.i32, t.bool, 2.5).dtype).toBe('i32');
    expect(g.cast(t.bool, 'f32').dtype).toBe('f32');
  });
});

describe('typed errors at build time', () => {
  const g = new Graph();
  const f = g.input('f', [2, 3]), i = g.input('i', [3], 'i32'), b = g.input('b', [3], 'bool'), b4 = g.input('b4', [4], 'bool');
  const bad: [string, () => unknown, RegExp][] = [
    ['sub of bools', () => g.sub(b, b), /^sub: subtraction with a bool tensor is not supported \(as in torch\) \(input bool \[3\], other bool \[3\]\)$/],
    ['sub of bool and i32', () => g.sub(i, b), /^sub: subtraction with a bool tensor/],
    ['neg of bool', () => g.neg(b), /^neg: negation of a bool tensor is not supported .*\(input bool \[3\]\)$/],
    ['abs of bool', () => g.abs(b), /^abs: abs of a bool tensor is not supported/],
    ['relu of bool', () => g.relu(b), /^relu: relu does not take bool \(input bool \[3\]\)$/],
    ['pow of bools', () => g.pow(b, b), /^pow: pow of bool tensors is not supported/],
    ['gelu of i32', () => g.gelu(i), /^gelu: gelu takes f32 only \(input i32 \[3\]\)$/],
    ['where with an f32 condition', () => g.where(f, f, f), /^where: condition must be bool, got f32 \[2, 3\]$/],
    ['where with an i32 condition', () => g.where(i, f, f), /^where: condition must be bool, got i32 \[3\]$/],
    ['maskedFill with an i32 mask', () => g.maskedFill(f, i, 0), /^maskedFill: mask must be bool, got i32 \[3\]$/],
    ['maskedFill with a string value', () => g.maskedFill(f, b, '0' as unknown as number), /^maskedFill: value must be a number, got string \(input f32 \[2, 3\]\)$/],
    ['where of unbroadcastable shapes', () => g.where(b4, f, i), /^where: condition bool \[4\], input f32 \[2, 3\], other i32 \[3\] do not broadcast \(dim -1: 4 vs 3\)$/],
    ['maskedFill of unbroadcastable shapes', () => g.maskedFill(f, b4, 1), /^maskedFill: input f32 \[2, 3\], mask bool \[4\] do not broadcast \(dim -1: 3 vs 4\)$/],
    ['eq of unbroadcastable shapes', () => g.eq(f, g.input('f5', [5])), /^eq: input f32 \[2, 3\], other f32 \[5\] do not broadcast/],
    ['cast to an unknown dtype', () => g.cast(f, 'f64' as DType), /^cast: unknown dtype 'f64'; the dtypes are f32, i32, bool$/],
    ['a tensor of another graph', () => g.where(b, f, new Graph().input('x', [3])), /^where: an operand is not a tensor of this graph$/],
  ];
  for (const [what, f_, re] of bad) {
    it(what, () => {
      let err: unknown;
      try { f_(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(ShapeError);
      expect((err as Error).message).toMatch(re);
    });
  }
  it('a failed build adds no node', () => {
    const n = g.nodes.length;
    expect(() => g.where(f, f, f)).toThrow(ShapeError);
    expect(g.nodes.length).toBe(n);
  });
});

// Values torch gives for these inputs (torch 2.x, float32 / int32 / bool tensors).
describe('values torch gives', () => {
  for (const name of ['gpu', 'cpu'] as const) {
    it(`on ${name}: casts, NaN rules, integer wrap and pow, masks`, async () => {
      const rt = runtimeOf(name);
      const g = new Graph();
      const x = g.input('x', [6]), n = g.input('n', [4], 'i32'), e = g.input('e', [4], 'i32'), m = g.input('m', [6], 'bool');
      g.output('trunc', g.cast(g.input('t', [4]), 'i32')); // torch: tensor([ 2, -2,  0, 0])
      g.output('toBool', g.cast(x, 'bool'));
      g.output('max', g.maximum(x, g.input('y', [6])));
      g.output('ne', g.ne(x, x));
      g.output('powI', g.pow(n, e));
      g.output('divI', g.div(n, e));
      g.output('addB', g.add(m, m));
      g.output('fill', g.maskedFill(x, m, -1.5));
      g.output('where', g.where(m, g.slice(g.concat([n, n], 0), 0, 0, 6), x));
      const exe = await rt.compile(g);
      const out = await exe.run({
        x: Float32Array.from([NaN, -0, 0, Infinity, 2, -3]),
        y: Float32Array.from([1, 0, NaN, -Infinity, 3, -4]),
        t: Float32Array.from([2.9, -2.9, -0.5, 0.5]),
        n: Int32Array.from([2, -3, 1, 5]), e: Int32Array.from([3, 3, -2, -1]),
        m: Uint8Array.from([1, 0, 0, 1, 1, 0]),
      });
      exe.destroy();
      expect([...out.trunc]).toEqual([2, -2, 0, 0]);
      expect([...out.toBool]).toEqual([1, 0, 0, 1, 1, 1]);
      expect([...out.max].map(String)).toEqual(['NaN', '0', 'NaN', 'Infinity', '3', '-3']);
      expect([...out.ne]).toEqual([1, 0, 0, 0, 0, 0]);
      expect([...out.powI]).toEqual([8, -27, 1, 0]);
      expect([...out.divI]).toEqual([2 / 3, -1, -0.5, -5].map(Math.fround));
      expect([...out.addB]).toEqual([1, 0, 0, 1, 1, 0]);
      expect([...out.fill].map(String)).toEqual(['-1.5', '0', '0', '-1.5', '-1.5', '-3']);
      expect([...out.where].map(String)).toEqual(['2', '0', '0', '5', '2', '-3']);
    });
  }
});
