// `npm run bench -- --tune`: a `seqgpu:tuned` row beside each `seqgpu` row (the engine compiled with
// { tune: true } against the built-in rule), the tuning table a JSON file on the Node side (the page
// reaches it through page.exposeFunction), and the tuned-against-untuned lines of the report.
import type { TuneStore, TuneTable } from '../src/index';
import type { BenchRow } from './suite';

/** The impl of the tuned rows. */
export const TUNED_IMPL = 'seqgpu:tuned';

/** Where the table goes unless --tune-table says: beside the report's data, ignored by git. */
export const DEFAULT_TUNE_TABLE = 'bench/report/tune-table.json';

/** The Node-side functions the bench page calls (exposed with page.exposeFunction). */
export interface TuneFileFunctions {
  __benchTuneRead: () => string | null;
  __benchTuneWrite: (text: string) => void;
}

/** In the page: a store over the exposed functions, named by the file it ends up in. */
export function exposedTuneStore(file: string): TuneStore {
  const w = window as unknown as { [K in keyof TuneFileFunctions]: (...a: Parameters<TuneFileFunctions[K]>) => Promise<ReturnType<TuneFileFunctions[K]>> };
  return {
    name: file,
    async load() {
      const text = await w.__benchTuneRead();
      if (text === null) return null;
      try {
        return JSON.parse(text) as TuneTable;
      } catch (e) {
        throw new Error(`${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
      }
    },
    save: (t) => w.__benchTuneWrite(`${JSON.stringify(t, null, 1)}\n`),
  };
}

/**
 * One line per case with both rows: untuned and tuned medians, their ratio, and a verdict. The
 * spread is the untuned row's own run-to-run range (max - min of its timed runs in this run); tuned
 * is "slower" only when its median exceeds the untuned median by more than that.
 */
export function tuneLines(rows: BenchRow[]): string[] {
  const lines: string[] = [];
  for (const tuned of rows.filter((r) => r.impl === TUNED_IMPL)) {
    const base = rows.find((r) => r.name === tuned.name && r.impl === 'seqgpu');
    if (!base) continue;
    if (tuned.status !== 'ok' || base.status !== 'ok' || tuned.medianMs === null || base.medianMs === null) {
      lines.push(`${tuned.name}: not compared (seqgpu ${base.status}, ${TUNED_IMPL} ${tuned.status})`);
      continue;
    }
    const spread = (base.maxMs ?? base.medianMs) - (base.minMs ?? base.medianMs);
    const slower = tuned.medianMs - base.medianMs;
    const verdict = slower > spread ? `SLOWER by ${slower.toFixed(3)} ms, past the spread` : slower > 0 ? 'slower within the spread' : 'not slower';
    const gpu = base.gpuMs !== null && tuned.gpuMs !== null ? `; GPU ${base.gpuMs.toFixed(3)} -> ${tuned.gpuMs.toFixed(3)} ms` : '';
    lines.push(
      `${tuned.name} ${tuned.shape}: rule ${base.medianMs.toFixed(3)} ms, tuned ${tuned.medianMs.toFixed(3)} ms ` +
        `(${(base.medianMs / tuned.medianMs).toFixed(2)}x; spread ${spread.toFixed(3)} ms over ${base.runs} runs${gpu}): ${verdict}`,
    );
  }
  return lines;
}
