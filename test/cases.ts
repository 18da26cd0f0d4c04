/// <reference types="vite/client" />
// The parity cases, one list for Chromium and Node, gathered from the family files: test/cases-X.ts
// holds the cases of one op family (shaders/X.wgsl, or an op module on the elementwise kernel) and
// exports them as `<family>Cases` (cases-rnn.ts: rnnCases); a new file is picked up here without a line of its own. Helpers
// the files share are in test/case-util.ts.
import type { ParityCase } from './parity';

const families = import.meta.glob<Record<string, unknown>>('./cases-*.ts', { eager: true });

export const allCases: ParityCase[] = Object.keys(families)
  .sort()
  .flatMap((file) => {
    const name = `${/cases-(\w+)\.ts$/.exec(file)![1]}Cases`;
    const list = families[file][name];
    if (!Array.isArray(list)) throw new Error(`${file} must export its cases as '${name}'`);
    return list as ParityCase[];
  });

const ids = new Set<string>();
for (const c of allCases) {
  if (ids.has(c.id)) throw new Error(`duplicate parity case id '${c.id}'`);
  ids.add(c.id);
}
if (allCases.length === 0) throw new Error('no parity cases found (test/cases-*.ts)');
