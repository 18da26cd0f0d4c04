// Comparisons (eq, ne, lt, le, gt, ge) and logic (logicalAnd, logicalOr, logicalNot), with bool
// results, torch's semantics (elementwise.ts's framework). A comparison is made in the promoted
// dtype of its operands (an i32 against an f32 compares as f32, as torch); NaN compares unequal to
// everything, itself included. Logical ops take any dtype, non-zero (and NaN) being true.
import { elementwiseTable, logical, predicate, type ElementwiseDef } from './elementwise';

const SOURCE = 'src/ops/compare.ts';

// WGSL may assume no NaN, so a comparison with one is settled by the bit test before it is made.
const NAN = '(is_nan(x) || is_nan(y))';

const compare = (f32: string, i32: string, bool: string, ref: (x: number, y: number) => boolean): ElementwiseDef => ({
  operands: ['input', 'other'], result: predicate, source: SOURCE,
  wgsl: { f32, i32, bool }, ref: ([x, y]) => Number(ref(x, y)),
});

export const COMPARE = {
  eq: compare(`!${NAN} && x == y`, 'x == y', 'x == y', (x, y) => x === y),
  ne: compare(`${NAN} || x != y`, 'x != y', 'x != y', (x, y) => x !== y),
  lt: compare(`!${NAN} && x < y`, 'x < y', '!x && y', (x, y) => x < y),
  le: compare(`!${NAN} && x <= y`, 'x <= y', '!x || y', (x, y) => x <= y),
  gt: compare(`!${NAN} && x > y`, 'x > y', 'x && !y', (x, y) => x > y),
  ge: compare(`!${NAN} && x >= y`, 'x >= y', 'x || !y', (x, y) => x >= y),
  logicalAnd: {
    operands: ['input', 'other'], loads: ['bool', 'bool'], result: logical, source: SOURCE,
    wgsl: { bool: 'x && y' }, ref: ([x, y]) => Number(x && y),
  },
  logicalOr: {
    operands: ['input', 'other'], loads: ['bool', 'bool'], result: logical, source: SOURCE,
    wgsl: { bool: 'x || y' }, ref: ([x, y]) => Number(x || y),
  },
  logicalNot: {
    operands: ['input'], loads: ['bool'], result: logical, source: SOURCE,
    wgsl: { bool: '!x' }, ref: ([x]) => Number(!x),
  },
} satisfies Record<string, ElementwiseDef>;

export const compareOps = elementwiseTable(COMPARE);
