// The parity page: puppeteer calls window.__init() once, then window.__parity(id) per case, and gets
// JSON back from each.
import { Runtime } from '../../src/index';
import { allCases } from '../cases';
import { runParity, type ParityResult } from '../parity';
import type { RuntimeInfo } from '../../src/runtime/runtime';

declare global {
  interface Window {
    __init: () => Promise<RuntimeInfo>;
    __parity: (id: string) => Promise<ParityResult>;
    __run: (fn: string) => Promise<unknown>;
  }
}

let rt: Runtime | undefined;

window.__init = async () => {
  rt = await Runtime.create();
  return rt.info;
};

window.__parity = async (id: string) => {
  const c = allCases.find((x) => x.id === id);
  if (!c) throw new Error(`no parity case '${id}'`);
  if (!rt) throw new Error('__init() has not run');
  return runParity(rt, c);
};
