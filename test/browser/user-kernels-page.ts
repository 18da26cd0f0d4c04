// The user kernel checks in a page: puppeteer calls window.__userKernel(name) and gets JSON back.
import { Runtime } from '../../src/index';
import { USER_KERNEL_CHECKS } from '../user-kernel-checks';

declare global {
  interface Window {
    __userKernel: (name: string) => Promise<{ ok: boolean; error?: string; adapter: string }>;
  }
}

window.__userKernel = async (name) => {
  const check = USER_KERNEL_CHECKS[name];
  if (!check) throw new Error(`no user kernel check '${name}'`);
  const made: Runtime[] = [];
  const fresh = async () => {
    const rt = await Runtime.create();
    made.push(rt);
    return rt;
  };
  try {
    await check(fresh);
    return { ok: true, adapter: made[0]?.info.adapter.description ?? '' };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), adapter: made[0]?.info.adapter.description ?? '' };
  } finally {
    made.forEach((rt) => rt.destroy());
  }
};
