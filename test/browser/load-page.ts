// Loading in a page: puppeteer calls window.__load(kind, url) and gets JSON back: the tensors a
// load gave (small files only), the progress it reported, or the error it raised; for 'gpt2', the
// greedy tokens of the model loaded from a checkpoint folder URL, decoded on the page's adapter.
import { GptDecoder, LoadError, Runtime, loadGPT2FromUrl, loadSafetensors, loadShardedSafetensors, type LoadProgress } from '../../src/index';

/** What a check returns. */
export interface LoadResult {
  tensors?: Record<string, { shape: number[]; data: number[] }>;
  events?: LoadProgress[];
  tokens?: number[];
  adapter?: string;
  error?: { name: string; message: string; fault?: string; expectedBytes?: number; receivedBytes?: number; status?: number; file?: string };
}

declare global {
  interface Window {
    __load: (kind: 'file' | 'sharded' | 'gpt2', url: string, prompt?: number[], steps?: number) => Promise<LoadResult>;
  }
}

window.__load = async (kind, url, prompt = [], steps = 0) => {
  const events: LoadProgress[] = [];
  const onProgress = (p: LoadProgress) => events.push({ ...p });
  try {
    if (kind === 'gpt2') {
      const model = await loadGPT2FromUrl(url, { onProgress });
      const rt = await Runtime.create();
      const dec = await GptDecoder.create(rt, model, { maxLen: prompt.length + steps });
      const { tokens } = await dec.generate([prompt], { maxNewTokens: steps });
      dec.destroy();
      const adapter = `${rt.info.adapter.architecture} ${rt.info.adapter.description}`.trim();
      rt.destroy();
      return { tokens: tokens[0], events, adapter };
    }
    const record = kind === 'file' ? await loadSafetensors(url, { onProgress }) : await loadShardedSafetensors(url, { onProgress });
    const tensors = Object.fromEntries(Object.entries(record).map(([n, t]) => [n, { shape: t.shape, data: Array.from(t.data) }]));
    return { tensors, events };
  } catch (e) {
    const err = e as LoadError;
    return {
      events,
      error: {
        name: err.name, message: err.message, fault: err.fault, expectedBytes: err.expectedBytes,
        receivedBytes: err.receivedBytes, status: err.status, file: err.file,
      },
    };
  }
};
