// The device-loss checks in a page: puppeteer calls window.__deviceLoss(name) and gets JSON back.
// Each check makes its own runtime from navigator.gpu, so it can recover.
import { Runtime } from '../../src/index';
import { DEVICE_LOSS_CHECKS, type Figures } from '../device-loss-checks';

declare global {
  interface Window {
    __deviceLoss: (name: string) => Promise<{ ok: boolean; error?: string; adapter: string; figures: Figures }>;
  }
}

window.__deviceLoss = async (name) => {
  let adapter = '';
  try {
    const figures = await DEVICE_LOSS_CHECKS[name](async (opts) => {
      const rt = await Runtime.create(opts);
      adapter = `${rt.info.adapter.architecture} ${rt.info.adapter.description}`.trim();
      return rt;
    });
    return { ok: true, adapter, figures };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), adapter, figures: {} };
  }
};
