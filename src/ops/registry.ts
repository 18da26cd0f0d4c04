// The op table: every node kind's lowering, reference and index operands, one entry per kind. The
// planner and the CPU interpreter iterate this; a new op is an op module and a line here.
import type { NodeKind } from '../graph/ir';
import { attentionOps } from './attention';
import { castOps } from './cast';
import { compareOps } from './compare';
import { copyOps } from './copy';
import { customOpTable } from './custom';
import { coreOps } from './core';
import { elementwiseOps } from './elementwise';
import { embeddingOps } from './embedding';
import { layernormOps } from './layernorm';
import { mathOps } from './math';
import { matmulOps } from './matmul';
import type { OpTable } from './op';
import { rnnOps } from './rnn';
import { sampleOps } from './sample';
import { softmaxOps } from './softmax';
import { whereOps } from './where';

export const OPS: OpTable<NodeKind> = {
  ...coreOps,
  ...matmulOps,
  ...elementwiseOps,
  ...mathOps,
  ...compareOps,
  ...whereOps,
  ...castOps,
  ...softmaxOps,
  ...layernormOps,
  ...embeddingOps,
  ...attentionOps,
  ...rnnOps,
  ...copyOps,
  ...sampleOps,
  ...customOpTable,
};
