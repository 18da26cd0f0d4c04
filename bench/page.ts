// The benchmark page: puppeteer calls window.__benchInit() once, __benchRoofline() once, then
// __benchRun(name, impl, opts) per row, and gets JSON back from each. The work is bench/suite.ts and
// bench/roofline.ts, the same code the Node runner calls.
import { Runtime, type RuntimeInfo } from '../src/index';
import { measureRoofline, type RooflineResult } from './roofline';
import { BenchRunner, type BenchResult, type Impl, type TimingOptions } from './suite';

declare global {
  interface Window {
    __benchInit: () => Promise<RuntimeInfo>;
    __benchRoofline: () => Promise<RooflineResult>;
    __benchRun: (name: string, impl: Impl, opts: TimingOptions) => Promise<BenchResult>;
  }
}

let rt: Runtime | undefined;
let runner: BenchRunner | undefined;

function runtime(): Runtime {
  if (!rt) throw new Error('__benchInit() has not run');
  return rt;
}

window.__benchInit = async () => {
  rt = await Runtime.create(); // throws if requestAdapter() gives null: no silent CPU fallback
  runner = new BenchRunner(rt);
  return rt.info;
};

window.__benchRoofline = () => measureRoofline(runtime().device!);

window.__benchRun = (name, impl, opts) => {
  runtime();
  return runner!.run(name, impl, opts);
};
