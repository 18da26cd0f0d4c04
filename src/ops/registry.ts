// The op table: every node kind's lowering, reference and index operands, one entry per kind. The
// planner and the CPU interpreter iterate this; a new op is an op module and a line here.
import type { NodeKind } from '../graph/ir';
import { attentionOps } from './attention';
import { copyOps } from './copy';
import { coreOps } from './core';
import { elementwiseOps } from './elementwise';
import { embeddingOps } from './embedding';
import { layernormOps } from './layernorm';
import { matmulOps } from './matmul';
import type { OpTable } from './op';
import { rnnOps } from './rnn';
import { softmaxOps } from './softmax';

export const OPS: OpTable<NodeKind> = {
  ...coreOps,
  ...matmulOps,
  ...elementwiseOps,
  ...softmaxOps,
  ...layernormOps,
  ...embeddingOps,
  ...attentionOps,
  ...rnnOps,
  ...copyOps,
};
