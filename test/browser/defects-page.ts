// The defect checks in a page: puppeteer calls window.__defect(name, runtime) and gets JSON back.
import { Runtime } from '../../src/index';
import { DEFECT_CHECKS } from '../defect-checks';

declare global {
  interface Window {
    __defect: (name: string, runtime: 'gpu' | 'cpu') => Promise<{ ok: boolean; error?: string; adapter: string }>;
  }
}

let gpu: Promise<Runtime> | undefined;

window.__defect = async (name, runtime) => {
  const check = DEFECT_CHECKS[name];
  if (!check) throw new Error(`no defect check '${name}'`);
  const fresh = async () => (runtime === 'gpu' ? Runtime.create() : Runtime.cpu());
  const rt = runtime === 'gpu' ? await (gpu ??= Runtime.create()) : Runtime.cpu();
  try {
    await check({ rt, fresh });
    return { ok: true, adapter: rt.info.adapter.description };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), adapter: rt.info.adapter.description };
  }
};
