// The parity cases, one list for Chromium and Node: every family's (test/cases-X.ts, exporting
// XCases; a new file needs no line here), as seqgpu/testing's opCases() gathers them. Helpers the
// files share are in test/case-util.ts.
import { opCases } from '../src/testing';
import type { ParityCase } from './parity';

const families = opCases();
export const allCases: ParityCase[] = Object.keys(families).sort().flatMap((f) => families[f]);

const ids = new Set<string>();
for (const c of allCases) {
  if (ids.has(c.id)) throw new Error(`duplicate parity case id '${c.id}'`);
  ids.add(c.id);
}
if (allCases.length === 0) throw new Error('no parity cases found (test/cases-*.ts)');
