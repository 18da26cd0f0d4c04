// `--sweep KERNEL`: every tuning variant of a kernel as an engine impl string
// (`seqgpu:<variant>/<CONST>=<v>,...`, parsed by engineOptions in suite.ts), each checked for parity
// and timed by the same protocol as any row. Configs the device cannot take (too many threads, too
// much workgroup memory) come back as error rows naming the limit, so the table shows them.
import { MATMUL_VARIANTS } from '../src/index';
import { ATTENTION_VARIANTS } from '../src/kernels/attention';
import { RNN_VARIANTS } from '../src/kernels/rnn';
import { SOFTMAX_VARIANTS } from '../src/kernels/softmax';
import type { Suite } from './cases';

const impl = (variant: string | null, constants: Record<string, number>): string => {
  const c = Object.entries(constants).map(([k, v]) => `${k}=${v}`).join(',');
  return `seqgpu${variant ? `:${variant}` : ''}${c ? `/${c}` : ''}`;
};

/** TILE_M x TILE_N x TILE_K combinations of the tiled matmuls: (TILE_M/4)·(TILE_N/4) threads each. */
const TILES: [number, number, number][] = [
  [16, 16, 16], [32, 32, 8], [32, 32, 16], [32, 32, 32], [32, 64, 16], [64, 32, 16], [64, 64, 8], [64, 64, 16], [64, 64, 32],
];
const WG_PER_THREAD = [16, 32, 64, 128, 256];

function matmulSweep(): string[] {
  const out: string[] = [];
  for (const v of MATMUL_VARIANTS) {
    if (v === 'tiled' || v === 'tiled-vec4') {
      for (const [m, n, k] of TILES) out.push(impl(v, { TILE_M: m, TILE_N: n, TILE_K: k }));
    } else {
      // naive and register: one output (or one 4x4 tile) per thread, WG_NAIVE threads per workgroup.
      for (const wg of WG_PER_THREAD) out.push(impl(v, { WG_NAIVE: wg }));
    }
  }
  return out;
}

function softmaxSweep(): string[] {
  const out: string[] = [];
  for (const v of SOFTMAX_VARIANTS) {
    const wgs = v === 'row' ? [1, 4, 8, 16, 32, 64] : [32, 64, 128, 256];
    for (const wg of wgs) out.push(impl(v, { WG: wg }));
  }
  return out;
}

/**
 * The recurrence (src/kernels/rnn.ts: 'persistent', one workgroup looping over the steps; 'step', a
 * dispatch per step, a workgroup per batch row: UNITS hidden units per workgroup, KL lanes per dot
 * product; 'tiled' and 'tiled-vec4', a dispatch per step, BT batch rows x UT units per thread, UNITS x
 * ROWS threads per workgroup). A config the case cannot take (tiled-vec4 at H % 4 != 0, persistent past
 * workgroup memory) is an error row naming why.
 */
function recurrentSweep(): string[] {
  const out: string[] = [];
  for (const v of RNN_VARIANTS) {
    if (v === 'tiled' || v === 'tiled-vec4') {
      for (const bt of [4, 8, 16]) for (const ut of [1, 2, 4]) for (const units of [4, 32]) out.push(impl(v, { BT: bt, UT: ut, UNITS: units, ROWS: 1 }));
      out.push(impl(v, { BT: 8, UT: 1, UNITS: 32, ROWS: 2 }));
    } else {
      for (const units of [16, 32, 64]) for (const kl of [1, 2, 4]) out.push(impl(v, { UNITS: units, KL: kl }));
    }
  }
  return out;
}

/** Attention (src/kernels/attention.ts): every variant at its defaults, then the flash variant's key tile BK. */
function attentionSweep(): string[] {
  const out = ATTENTION_VARIANTS.map((v) => impl(v, {}));
  for (const bk of [16, 32, 64]) out.push(impl('flash', { BK: bk }));
  return out;
}

/** The kernels --sweep knows, by the suite whose cases it times them on. */
export const SWEEPS: Partial<Record<Suite, () => string[]>> = {
  matmul: matmulSweep,
  softmax: softmaxSweep,
  layerNorm: () => [32, 64, 128, 256].map((wg) => impl(null, { WG: wg })),
  lstm: recurrentSweep,
  gru: recurrentSweep,
  attention: attentionSweep,
};

export function sweepImpls(kernel: string): string[] {
  const f = SWEEPS[kernel as Suite];
  if (!f) throw new Error(`--sweep: no sweep for '${kernel}'; there are ${Object.keys(SWEEPS).join(', ')}`);
  return ['seqgpu', ...f()];
}
