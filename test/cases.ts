// The parity cases, one list for Chromium and Node, gathered from the family files: test/cases-X.ts
// holds the cases of shaders/X.wgsl (helpers they share are in test/case-util.ts).
import type { ParityCase } from './parity';
import { attentionCases } from './cases-attention';
import { castCases } from './cases-cast';
import { compareCases } from './cases-compare';
import { copyCases } from './cases-copy';
import { elementwiseCases } from './cases-elementwise';
import { embeddingCases } from './cases-embedding';
import { layernormCases } from './cases-layernorm';
import { mathCases } from './cases-math';
import { matmulCases } from './cases-matmul';
import { rnnCases } from './cases-rnn';
import { softmaxCases } from './cases-softmax';
import { whereCases } from './cases-where';

export const allCases: ParityCase[] = [
  ...matmulCases, ...elementwiseCases, ...softmaxCases, ...layernormCases, ...embeddingCases, ...attentionCases, ...rnnCases, ...copyCases,
  ...mathCases, ...compareCases, ...whereCases, ...castCases,
];

const ids = new Set<string>();
for (const c of allCases) {
  if (ids.has(c.id)) throw new Error(`duplicate parity case id '${c.id}'`);
  ids.add(c.id);
}
