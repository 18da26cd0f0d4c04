// The recurrent rows' targets, each met or MISSED with the figures that decide it, from one run's
// rows (same adapter, same run): LSTM and GRU against ONNX Runtime Web (3x where ORT takes 20 ms or
// more a run, 1.5x where less, since the submit floor dominates there), LSTM against TF.js (10x, its
// faster of tf.layers and the cell loop), the lecture classifier at B = 64 against the CPU reference
// (1.5x), and each layer's GPU time against its per-step matmul baseline (within 2x): the whole
// layer, and where the row was timed per dispatch its fused steps alone, without the input projection.
import type { Executable, Feeds } from '../src/index';
import { BASELINE_IMPL, type BenchCase } from './cases';
import { median } from './roofline';
import type { BenchRow } from './suite';

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** The one timed row of `impl` in case `name`, or null. */
function timed(rows: BenchRow[], name: string, impl: string): BenchRow | null {
  return rows.find((r) => r.name === name && r.impl === impl && r.status === 'ok' && r.medianMs !== null) ?? null;
}

export function recurrentTargetLines(rows: BenchRow[], cases: BenchCase[]): string[] {
  const out: string[] = [];
  for (const c of cases) {
    const classifier = c.suite === 'model' && /lstm-classifier.*-B64$/.test(c.name);
    if (c.suite !== 'lstm' && c.suite !== 'gru' && !classifier) continue;
    const s = timed(rows, c.name, 'seqgpu');
    if (!s) continue;
    const parts: string[] = [];
    const ratio = (peer: BenchRow, want: number, why = '') =>
      `${(peer.medianMs! / s.medianMs!).toFixed(2)}x (${peer.impl} ${fmt(peer.medianMs!)} ms) [${verdict(peer.medianMs! / s.medianMs! >= want)} ≥${want}x${why}]`;
    if (classifier) {
      const cpu = timed(rows, c.name, 'cpu-reference');
      if (cpu) parts.push(`vs CPU reference ${ratio(cpu, 1.5)}`);
    } else {
      const ort = timed(rows, c.name, 'ort-webgpu');
      if (ort) parts.push(`vs ORT ${ratio(ort, ort.medianMs! >= 20 ? 3 : 1.5, ort.medianMs! >= 20 ? ', ORT ≥ 20 ms' : ', ORT < 20 ms')}`);
      const tfjs = ['tfjs-webgpu', 'tfjs-webgpu:cell-loop'].map((i) => timed(rows, c.name, i)).filter((r): r is BenchRow => r !== null);
      if (c.suite === 'lstm' && tfjs.length) parts.push(`vs TF.js ${ratio(tfjs.reduce((a, b) => (b.medianMs! < a.medianMs! ? b : a)), 10)}`);
      const base = timed(rows, c.name, BASELINE_IMPL);
      if (base) {
        // GPU time where both have timestamps, else wall time.
        const gpu = s.gpuMs !== null && base.gpuMs !== null;
        const [mine, theirs] = gpu ? [s.gpuMs!, base.gpuMs!] : [s.medianMs!, base.medianMs!];
        const x = mine / theirs;
        parts.push(`${gpu ? 'GPU' : 'wall'} ${fmt(mine)} ms, ${x.toFixed(2)}x its ${base.dispatches ?? '?'} per-step matmuls' ${fmt(theirs)} ms ` +
          `(the layer's input projection included) [${verdict(x <= 2)} ≤2x]`);
        // Timed per dispatch: the fused steps alone against the same matmuls, the projections apart.
        if (s.profile && base.gpuMs !== null) {
          const y = s.profile.stepsMs / base.gpuMs;
          parts.push(`fused steps alone ${fmt(s.profile.stepsMs)} ms, ${y.toFixed(2)}x those matmuls [${verdict(y <= 2)} ≤2x], ` +
            `input projections ${fmt(s.profile.projectionMs)} ms (timed per dispatch, ${s.profile.runs} runs)`);
        }
      }
    }
    if (parts.length) out.push(`${c.name} (seqgpu ${fmt(s.medianMs!)} ms): ${parts.join('; ')}`);
  }
  return out;
}

/**
 * The GPU time of an executable compiled with timestamps: 'dispatch', split into the dispatches
 * labelled as input projections and the rest: medians over `runs` runs, the first one's outputs
 * given to `check`. Undefined where a dispatch reads no time.
 */
export async function profileSteps(
  exe: Executable, feeds: Feeds, runs: number, check: (out: Record<string, Float32Array>) => void,
): Promise<{ projectionMs: number; stepsMs: number; runs: number } | undefined> {
  const isProj = exe.steps.map((label) => label.includes('input projection'));
  const proj: number[] = [], steps: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = await exe.run(feeds);
    if (i === 0) check(out);
    const each = exe.stats.stepGpuMs;
    if (!each || !each.every((t) => t > 0)) return undefined;
    proj.push(each.reduce((a, t, j) => a + (isProj[j] ? t : 0), 0));
    steps.push(each.reduce((a, t, j) => a + (isProj[j] ? 0 : t), 0));
  }
  return { projectionMs: median(proj), stepsMs: median(steps), runs };
}
