// The benchmark's output: the JSON report (DESIGN.md, "Benchmark output"), the progress line of a
// row, and the table printed at the end.
import type { Roofline, RooflineResult } from './roofline';
import type { BenchResult, BenchRow } from './suite';

export interface BenchReport {
  adapter: { vendor: string; architecture: string; description: string };
  runtime: 'chromium' | 'node';
  startedAt: string;
  roofline: Roofline;
  rows: BenchRow[];
}

const fix = (x: number | null, d: number): string => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));
const sci = (x: number | null): string => (x === null ? '-' : x === 0 ? '0' : x.toExponential(1));

/** Milliseconds with about 3 significant digits. */
function ms(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

export function rooflineLine(r: RooflineResult): string {
  const f = r.roofline;
  return `roofline (${r.timing}): fma ${fix(f.fmaGflops, 2)} GFLOP/s, copy ${fix(f.copyGbps, 2)} GB/s, ` +
    `empty dispatch ${fix(f.dispatchUs, 1)} us, submit+readback ${fix(f.roundTripMs, 3)} ms\n  (${r.detail})`;
}

export function progressLine(r: BenchResult, index: number, total: number): string {
  const row = r.row;
  const rate = row.gflops !== null ? `${fix(row.gflops, 2)} GFLOP/s` : `${fix(row.gbps, 2)} GB/s`;
  const roof = row.pctRoof !== null ? ` ${fix(row.pctRoof, 1)}% roof` : '';
  const note = r.note ? `; ${r.note}` : '';
  return `[${index}/${total}] ${row.name} ${row.impl}: median ${ms(row.medianMs)} ms over ${row.runs} runs ` +
    `(min ${ms(row.minMs)}, max ${ms(row.maxMs)}), ${rate}${roof}, max |err| ${sci(row.maxAbsErr)}` +
    `\n      ${r.steps.join('; ')}${note}`;
}

/** Wall-time speedup of each matmul row over seqgpu:naive on the same case (null if naive did not run). */
function speedup(row: BenchRow, rows: BenchRow[]): number | null {
  if (row.suite !== 'matmul' || !row.impl.startsWith('seqgpu')) return null;
  const naive = rows.find((r) => r.name === row.name && r.impl === 'seqgpu:naive');
  return naive ? naive.medianMs / row.medianMs : null;
}

export function table(rows: BenchRow[]): string {
  const head = ['suite', 'name', 'shape', 'impl', 'median ms', 'runs', 'GFLOP/s', 'GB/s', '%roof', 'max|err|', 'timing', 'vs naive'];
  const body = rows.map((r) => {
    const s = speedup(r, rows);
    return [
      r.suite, r.name, r.shape, r.impl, ms(r.medianMs), String(r.runs), fix(r.gflops, 2), fix(r.gbps, 2),
      fix(r.pctRoof, 1), sci(r.maxAbsErr), r.timing, s === null ? '-' : `${s.toFixed(2)}x`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const numeric = new Set([4, 5, 6, 7, 8, 9, 11]);
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') +
    '\nmedian ms: wall per run (inputs written, outputs read back); GFLOP/s, GB/s and %roof: kernel time ' +
    '(the timing column); vs naive: wall-time speedup over seqgpu:naive.';
}
