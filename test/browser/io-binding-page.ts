// The IO binding checks in a page: puppeteer calls window.__io(name) and gets JSON back.
import { Runtime } from '../../src/index';
import { IO_CHECKS } from '../io-binding-checks';

declare global {
  interface Window {
    __io: (name: string) => Promise<{ ok: boolean; error?: string; adapter: string }>;
  }
}

let rt: Promise<Runtime> | undefined;

window.__io = async (name) => {
  let adapter = '';
  try {
    const r = await (rt ??= Runtime.create());
    adapter = `${r.info.adapter.architecture} ${r.info.adapter.description}`.trim();
    await IO_CHECKS[name](r, () => Runtime.create());
    return { ok: true, adapter };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), adapter };
  }
};
