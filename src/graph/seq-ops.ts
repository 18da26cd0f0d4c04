// Older import sites, until they move: the recurrent vocabulary lives in ir.ts, the builders in src/ops.
export { GATES, rnnParamNames } from './ir';
export type { RnnOptions, RnnParams } from '../ops/rnn';
export type { AttentionOptions } from '../ops/attention';
