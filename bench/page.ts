// The benchmark page: puppeteer calls window.__benchInit(placements) once, __benchRoofline() and
// __benchLimits() once, then __benchRunCase(name, impls, opts) per case, and gets JSON back from
// each. The work is bench/suite.ts and bench/roofline.ts (the same code the Node runner calls) and the peers in
// bench/peers/. __benchProbe(runs) is for a page of its own: it asks ORT where it places the nodes
// of each case, with verbose logging that would slow a timed page.
import { Runtime, type RuntimeInfo } from '../src/index';
import { plainLimits } from '../src/runtime/gpu';
import { benchCases } from './cases';
import { OrtPeer, placementKey, probePlacement } from './peers/ort';
import type { Peer, PeerInfo } from './peers/peer';
import { TfjsPeer } from './peers/tfjs';
import { measureRoofline, type RooflineResult } from './roofline';
import { BenchRunner, type BenchResult, type TimingOptions } from './suite';
import { exposedTuneStore } from './tune';

declare global {
  interface Window {
    __benchInit: (placements: Record<string, string>, tuneTable?: string | null) => Promise<RuntimeInfo>;
    __benchRoofline: () => Promise<RooflineResult>;
    __benchLimits: () => Record<string, number>;
    __benchRunCase: (name: string, impls: string[], opts: TimingOptions) => Promise<BenchResult[]>;
    __benchPeers: () => Promise<(PeerInfo | { impl: string; error: string })[]>;
    __benchKernel: (source: string) => Promise<void>;
    __benchProbe: (runs: [name: string, impl: string][]) => Promise<Record<string, string>>;
  }
}

const cases = new Map(benchCases().map((c) => [c.name, c]));
let rt: Runtime | undefined;
let runner: BenchRunner | undefined;
let peers: Record<string, Peer> = {};

function runtime(): Runtime {
  if (!rt) throw new Error('__benchInit() has not run');
  return rt;
}

/** `--kernel FILE`: the module's text, imported here and registered on this page's runtime. */
window.__benchKernel = async (source) => {
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  try {
    (await import(/* @vite-ignore */ url)).default(runtime().kernels);
  } finally {
    URL.revokeObjectURL(url);
  }
};

window.__benchInit = async (placements, tuneTable) => {
  // --tune: the table is the Node-side file tuneTable, reached through functions bench/main.ts exposes.
  // Throws if requestAdapter() gives null: no silent CPU fallback.
  rt = await Runtime.create(tuneTable ? { tuneStore: exposedTuneStore(tuneTable) } : {});
  peers = {
    'tfjs-webgpu': new TfjsPeer('tfjs-webgpu'),
    'tfjs-webgpu:cell-loop': new TfjsPeer('tfjs-webgpu:cell-loop'),
    'ort-webgpu': new OrtPeer('ort-webgpu', placements),
    'ort-webgpu:composed': new OrtPeer('ort-webgpu:composed', placements),
  };
  runner = new BenchRunner(rt, cases, peers);
  return rt.info;
};

window.__benchRoofline = () => measureRoofline(runtime().device!);

window.__benchLimits = () => plainLimits(runtime().device!.limits);

window.__benchRunCase = (name, impls, opts) => {
  runtime();
  return runner!.runCase(name, impls, opts);
};

window.__benchPeers = () =>
  Promise.all(Object.values(peers).map((p) => p.describe().catch((e: unknown) => ({ impl: p.impl, error: String(e) }))));

window.__benchProbe = async (runs) => {
  const out: Record<string, string> = {};
  for (const [name, impl] of runs) {
    const c = cases.get(name);
    if (!c) throw new Error(`bench: no case '${name}'`);
    const { feeds, consts } = c.build();
    const key = placementKey(impl, c.spec);
    try {
      out[key] = await probePlacement(impl, c.spec, { ...feeds, ...consts });
    } catch (e) {
      out[key] = `probe failed: ${e instanceof Error ? e.message : e}`;
    }
  }
  return out;
};
