// The tuning checks in a page. puppeteer calls window.__tuneCheck(name) (the table a JSON file on the
// Node side, through the functions the test exposes) or window.__tuneLocal(tune) (the page's default
// store, localStorage) and gets JSON back.
import { Runtime, type TuneStore, type TuneTable } from '../../src/index';
import { TUNE_CHECKS, smallGraph, type TuneEnv } from '../tune-checks';

declare global {
  interface Window {
    __tuneCheck: (name: string) => Promise<{ ok: boolean; said?: string; error?: string }>;
    __tuneLocal: (tune: boolean) => Promise<{ steps: string[]; candidatesTimed: number; stored: boolean; adapter: string }>;
    /** Exposed by the test (page.exposeFunction): a new table file's path, and reading and writing it. */
    __tuneFileNew: () => Promise<string>;
    __tuneFileRead: (path: string) => Promise<string | null>;
    __tuneFileWrite: (path: string, text: string) => Promise<void>;
  }
}

/** A table in a JSON file on the Node side; what it holds is parsed here, so a corrupt file fails here. */
function nodeFileStore(path: string): TuneStore {
  return {
    name: path,
    async load() {
      const text = await window.__tuneFileRead(path);
      if (text === null) return null;
      try {
        return JSON.parse(text) as TuneTable;
      } catch (e) {
        throw new Error(`${path} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
      }
    },
    save: (t) => window.__tuneFileWrite(path, JSON.stringify(t, null, 1)),
  };
}

const env: TuneEnv = {
  create: (opts) => Runtime.create(opts),
  store: async () => {
    const path = await window.__tuneFileNew();
    return { store: nodeFileStore(path), write: (text) => window.__tuneFileWrite(path, text) };
  },
};

window.__tuneCheck = async (name) => {
  try {
    return { ok: true, said: await TUNE_CHECKS[name](env) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
};

window.__tuneLocal = async (tune) => {
  const rt = await Runtime.create();
  try {
    const { graph, feeds } = smallGraph();
    // No tune option on reuse: compile then reads the table without timing (tune: false would skip it).
    const exe = await rt.compile(graph, tune ? { tune: true } : {});
    await exe.run(feeds);
    exe.destroy();
    return {
      steps: exe.steps, candidatesTimed: rt.tuneStats.candidatesTimed, stored: localStorage.getItem('seqgpu:tune') !== null,
      adapter: rt.info.adapter.architecture,
    };
  } finally {
    rt.destroy();
  }
};
