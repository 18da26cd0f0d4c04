// The fuzz page: the cases are generated (and shrunk) by fast-check in Node; puppeteer sends each
// one's JSON to window.__fuzz, which builds it, runs it here and on the CPU reference, and returns
// the comparison as JSON.
import { Runtime } from '../../src/index';
import type { RuntimeInfo } from '../../src/runtime/runtime';
import { runFuzzCase, type FuzzCase, type FuzzResult } from '../fuzz-cases';

declare global {
  interface Window {
    __fuzzInit: () => Promise<RuntimeInfo>;
    __fuzz: (json: string) => Promise<FuzzResult>;
  }
}

let rt: Runtime | undefined;

window.__fuzzInit = async () => {
  rt ??= await Runtime.create();
  return rt.info;
};

window.__fuzz = async (json: string) => {
  if (!rt) throw new Error('__fuzzInit() has not run');
  return runFuzzCase(rt, JSON.parse(json) as FuzzCase);
};
