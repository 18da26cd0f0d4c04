// The benchmark's output: the JSON report (the schema in the README, plus each row's status and
// note, and the peers' versions and adapters), the progress line of a row, the table printed at the
// end, the seqgpu/peer ratio table and the targets of the issue with the figures that decide them.
import type { BenchCase, Target } from './cases';
import type { PeerInfo } from './peers/peer';
import type { Roofline, RooflineResult } from './roofline';
import type { BenchResult, BenchRow } from './suite';

export interface BenchReport {
  adapter: { vendor: string; architecture: string; description: string };
  runtime: 'chromium' | 'node';
  startedAt: string;
  roofline: Roofline;
  rows: BenchRow[];
  /** The peer engines of the page: version, backend, the adapter their device came from. */
  peers: (PeerInfo | { impl: string; error: string })[];
  /** Cases that are targets of the issue, by name: what the ratios must reach. */
  targets: Record<string, Target>;
  /** What the run did not do, and why (browser-only peers in Node, a missing suite). */
  notes: string[];
  /** Where the run happened. */
  env: BenchEnv;
}

/** The adapter's features and limits, the browser, Node, and the seqgpu checkout of a run. */
export interface BenchEnv {
  features: string[];
  limits: Record<string, number>;
  /** The browser's version (e.g. `HeadlessChrome/156.0.0.0`), or null for a run in Node. */
  browser: string | null;
  node: string;
  seqgpu: {
    version: string;
    /** The package's repository as an https URL, for links to the commit and the shaders. */
    repository: string | null;
    /** `git rev-parse HEAD` and its committer date (ISO 8601), or null outside a git checkout. */
    commit: string | null;
    commitDate: string | null;
    /** Whether tracked files differed from the commit. */
    dirty: boolean | null;
  };
}

const fix = (x: number | null, d: number): string => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));
const sci = (x: number | null): string => (x === null ? '-' : x === 0 ? '0' : x.toExponential(1));

/** Milliseconds with about 3 significant digits. */
export function ms(x: number | null): string {
  if (x === null) return '-';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

/**
 * The adapter's best showing over several roofline measurements (the start and the end of a run, so
 * a busy stretch of a shared machine does not lower the peak): highest fma and copy rates, lowest
 * dispatch and round-trip costs.
 */
export function bestRoofline(rs: Roofline[]): Roofline {
  return {
    fmaGflops: Math.max(...rs.map((r) => r.fmaGflops)),
    copyGbps: Math.max(...rs.map((r) => r.copyGbps)),
    dispatchUs: Math.min(...rs.map((r) => r.dispatchUs)),
    roundTripMs: Math.min(...rs.map((r) => r.roundTripMs)),
    busyRoundTripMs: Math.min(...rs.map((r) => r.busyRoundTripMs)),
  };
}

/** Recomputes rates (where they rest on the round trip) and % of roofline of timed rows against `roof`. */
export function applyRoofline(rows: BenchRow[], cases: BenchCase[], roof: Roofline): void {
  const byName = new Map(cases.map((c) => [c.name, c]));
  for (const r of rows) {
    const c = byName.get(r.name);
    if (!c || r.status !== 'ok' || r.medianMs === null || r.impl === 'cpu-reference') continue;
    if (r.timing === 'wall-minus-roundtrip') {
      const kernelMs = Math.max(r.medianMs - roof.roundTripMs, 1e-3);
      r.gflops = c.flops ? c.flops / kernelMs / 1e6 : null;
      r.gbps = c.bytes / kernelMs / 1e6;
    }
    r.pctRoof = c.roof === 'fma' ? (r.gflops === null ? null : (r.gflops / roof.fmaGflops) * 100) : r.gbps === null ? null : (r.gbps / roof.copyGbps) * 100;
  }
}

export function rooflineLine(r: RooflineResult): string {
  const f = r.roofline;
  return `roofline (${r.timing}): fma ${fix(f.fmaGflops, 2)} GFLOP/s, copy ${fix(f.copyGbps, 2)} GB/s, ` +
    `empty dispatch ${fix(f.dispatchUs, 1)} us, submit+readback ${fix(f.roundTripMs, 3)} ms, ` +
    `submit+wait of a short busy dispatch ${fix(f.busyRoundTripMs, 3)} ms\n  (${r.detail})`;
}

const firstLine = (s: string) => s.split('\n')[0];

export function progressLine(r: BenchResult, index: number, total: number): string {
  const row = r.row;
  const head = `[${index}/${total}] ${row.name} ${row.impl}`;
  if (row.status !== 'ok') {
    const err = row.maxAbsErr !== null ? ` (max |err| ${sci(row.maxAbsErr)})` : '';
    return `${head}: ${row.status.toUpperCase()}${err}: ${row.note}`;
  }
  const rate = row.gflops !== null ? `${fix(row.gflops, 2)} GFLOP/s` : `${fix(row.gbps, 2)} GB/s`;
  const roof = row.pctRoof !== null ? ` ${fix(row.pctRoof, 1)}% roof` : '';
  const detail = r.detail ? `; ${r.detail}` : '';
  return `${head}: median ${ms(row.medianMs)} ms over ${row.runs} runs (min ${ms(row.minMs)}, max ${ms(row.maxMs)}), ` +
    `${rate}${roof}, max |err| ${sci(row.maxAbsErr)}\n      ${row.note}${detail}`;
}

/** The seqgpu row of a case (the engine's own choice), if it was timed. */
const engineRow = (rows: BenchRow[], name: string) => rows.find((r) => r.name === name && r.impl === 'seqgpu' && r.status === 'ok');

/** How many times faster seqgpu ran than `row` (wall time per run), or null. */
export function speedup(row: BenchRow, rows: BenchRow[]): number | null {
  const s = engineRow(rows, row.name);
  if (!s || row.status !== 'ok' || row.impl === 'seqgpu' || row.medianMs === null) return null;
  return row.medianMs / s.medianMs!;
}

/** Per case, the fastest checked engine row when a case has several (a sweep). */
function fastestEngine(rows: BenchRow[]): Set<BenchRow> {
  const best = new Map<string, BenchRow>();
  for (const r of rows) {
    if (!r.impl.startsWith('seqgpu') || r.status !== 'ok') continue;
    const b = best.get(r.name);
    if (!b || r.medianMs! < b.medianMs!) best.set(r.name, r);
  }
  const many = (name: string) => rows.filter((r) => r.name === name && r.impl.startsWith('seqgpu')).length > 1;
  return new Set([...best.values()].filter((r) => many(r.name)));
}

function grid(head: string[], body: string[][], numeric: Set<number>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function table(rows: BenchRow[]): string {
  const fastest = fastestEngine(rows);
  const head = ['suite', 'name', 'shape', 'impl', 'status', 'median ms', 'runs', 'GFLOP/s', 'GB/s', '%roof', 'max|err|', 'timing', 'disp', 'seqgpu x'];
  const body = rows.map((r) => {
    const s = speedup(r, rows);
    return [
      r.suite, r.name, r.shape, `${r.impl}${fastest.has(r) ? ' *' : ''}`, r.status, ms(r.medianMs), String(r.runs),
      fix(r.gflops, 2), fix(r.gbps, 2), fix(r.pctRoof, 1), sci(r.maxAbsErr), r.timing, r.dispatches === null ? '-' : String(r.dispatches),
      s === null ? '-' : `${s.toFixed(2)}x`,
    ];
  });
  const notes = rows.filter((r) => r.status !== 'ok').map((r) => `  ${r.status.toUpperCase()} ${r.name} ${r.impl}: ${firstLine(r.note)}`);
  return grid(head, body, new Set([5, 6, 7, 8, 9, 10, 12, 13])) +
    '\nmedian ms: wall per run, inputs written and outputs read back, the same for every impl. GFLOP/s, GB/s, %roof: ' +
    'kernel time (timing column: GPU timestamps, or wall less the measured round trip). seqgpu x: this row\'s ' +
    'median over seqgpu\'s (how many times faster seqgpu ran). matmul shape: MxKxN; attention: BxHxTqxTkxD; ' +
    'lstm/gru: TxBxIxH. *: fastest engine row of the case.' +
    (notes.length ? `\nrows not timed:\n${notes.join('\n')}` : '');
}

const PEER_COLS = [
  ['tfjs-webgpu', 'TF.js'], ['tfjs-webgpu:cell-loop', 'TF.js cell loop'], ['ort-webgpu', 'ORT'], ['ort-webgpu:composed', 'ORT composed'],
] as const;

/** Per case with a timed seqgpu row: its ms and % of roofline, each peer's ms and the seqgpu/peer speed ratio. */
export function ratioTable(rows: BenchRow[], cases: BenchCase[]): string {
  const cols = PEER_COLS.filter(([impl]) => rows.some((r) => r.impl === impl));
  if (!cols.length) return '';
  const body: string[][] = [];
  for (const c of cases) {
    const s = engineRow(rows, c.name);
    const peerRows = rows.filter((r) => r.name === c.name && cols.some(([impl]) => impl === r.impl));
    if (peerRows.length === 0) continue;
    const cells = [c.name, c.shape, s ? ms(s.medianMs) : '-', s ? ms(s.gpuMs) : '-', s ? fix(s.pctRoof, 1) : '-', s ? ms(s.floorMs) : '-'];
    for (const [impl] of cols) {
      const p = rows.find((r) => r.name === c.name && r.impl === impl);
      if (!p) cells.push('', '');
      else if (p.status !== 'ok') cells.push(p.status, '');
      else {
        const x = speedup(p, rows);
        cells.push(ms(p.medianMs), x === null ? '-' : `${x.toFixed(2)}x`);
      }
    }
    body.push(cells);
  }
  if (!body.length) return '';
  const head = ['case', 'shape', 'seqgpu ms', 'GPU ms', '%roof', 'floor ms'];
  for (const [, label] of cols) head.push(`${label} ms`, `vs ${label}`);
  return grid(head, body, new Set(head.map((_, i) => i).filter((i) => i >= 2))) +
    '\nseqgpu ms: wall per run; GPU ms: its pass from timestamps; floor ms: one short busy dispatch submitted and awaited, timed in the same turns (no run that does work waits less).' +
    '\nvs X: X\'s wall time over seqgpu\'s on the same adapter in this run (above 1: seqgpu faster). ' +
    'A peer that failed the check, threw, or has no such op shows its status instead of a time.';
}

/** The issue's targets, each criterion met or MISSED, with the figures that decide it and the floors. */
export function targetLines(rows: BenchRow[], cases: BenchCase[], roof: Roofline): string[] {
  const out: string[] = [];
  for (const c of cases.filter((x) => x.target)) {
    const t = c.target!;
    const s = engineRow(rows, c.name);
    if (!s) {
      const r = rows.find((x) => x.name === c.name && x.impl === 'seqgpu');
      out.push(`${t.text}\n    seqgpu ${r ? `${r.status}: ${firstLine(r.note)}` : 'not run'}`);
      continue;
    }
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    const parts: string[] = [];
    const split = s.gpuMs !== null && s.hostMs !== null ? ` (GPU ${ms(s.gpuMs)} + host ${ms(s.hostMs)})` : '';
    parts.push(`seqgpu ${ms(s.medianMs)} ms${split}`);
    if (t.pctRoof !== undefined) {
      const of = c.roof === 'fma' ? `fma peak ${fix(roof.fmaGflops, 2)} GFLOP/s` : `copy ${fix(roof.copyGbps, 2)} GB/s`;
      parts.push(`${fix(s.pctRoof, 1)}% of ${of} [${verdict((s.pctRoof ?? 0) >= t.pctRoof)} ≥${t.pctRoof}%]`);
    }
    const ratio = (impls: string[], label: string, want?: number) => {
      const timed = rows.filter((r) => r.name === c.name && impls.includes(r.impl) && r.status === 'ok');
      const untimed = rows.filter((r) => r.name === c.name && impls.includes(r.impl) && r.status !== 'ok');
      if (!timed.length) {
        parts.push(`${label}: ${untimed.map((r) => `${r.impl} ${r.status}`).join(', ') || 'not run'}${want ? ` [no ratio for ≥${want}x]` : ''}`);
        return;
      }
      const best = timed.reduce((a, b) => (b.medianMs! < a.medianMs! ? b : a));
      const x = speedup(best, rows)!;
      parts.push(`${x.toFixed(2)}x ${label} (${best.impl} ${ms(best.medianMs)} ms)${want ? ` [${verdict(x >= want)} ≥${want}x]` : ''}`);
    };
    ratio(['tfjs-webgpu', 'tfjs-webgpu:cell-loop'], 'TF.js', t.vsTfjs);
    ratio(['ort-webgpu'], 'ORT', t.vsOrt);
    if (rows.some((r) => r.name === c.name && r.impl === 'ort-webgpu:composed')) ratio(['ort-webgpu:composed'], 'ORT composed ops');
    const floorRun = s.floorMs !== null ? `a short busy dispatch, submitted and awaited in the same turns, ${ms(s.floorMs)} ms; ` : '';
    out.push(`${t.text}\n    ${parts.join(', ')}\n    floors: ${floorRun}empty submit+readback ${fix(roof.roundTripMs, 3)} ms; ` +
      `${s.dispatches ?? '?'} dispatch(es) x ${fix(roof.dispatchUs, 1)} us = ${fix(((s.dispatches ?? 0) * roof.dispatchUs) / 1000, 3)} ms`);
  }
  return out;
}
