// The split-tensor checks in a page: puppeteer calls window.__split(name) and gets JSON back.
import { Runtime } from '../../src/index';
import { runSplitCheck } from '../split-checks';

declare global {
  interface Window {
    __split: (name: string) => Promise<{ ok: boolean; note?: string; error?: string; adapter: string }>;
  }
}

window.__split = async (name) => {
  let adapter = '';
  try {
    const note = await runSplitCheck(name, async (cap) => {
      const rt = await Runtime.create({ limits: { maxStorageBufferBindingSize: cap } });
      adapter = `${rt.info.adapter.architecture} ${rt.info.adapter.description}`.trim();
      return rt;
    });
    return { ok: true, note, adapter };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), adapter };
  }
};
