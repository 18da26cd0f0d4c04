// The user kernel checks in a page: puppeteer calls window.__userKernel(name) and gets JSON back.
import { Runtime } from '../../src/index';
import { runUserKernelCheck } from '../user-kernel-checks';

declare global {
  interface Window {
    __userKernel: (name: string) => Promise<{ ok: boolean; error?: string; adapter: string }>;
  }
}

window.__userKernel = async (name) => {
  try {
    return { ok: true, adapter: await runUserKernelCheck(name, () => Runtime.create()) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), adapter: '' };
  }
};
