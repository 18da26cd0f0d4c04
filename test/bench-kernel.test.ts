// `npm run bench -- --sweep OP --kernel FILE`: the user's kernel is a row beside the built-in
// variants, parity-checked before it is timed (here in Node, on the README's example kernel).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bench = (...args: string[]) => spawnSync('node', ['bench/run.mjs', ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });

describe('bench --kernel', () => {
  it("times the user's kernel beside the built-in softmax variants, checked first", () => {
    const json = join(mkdtempSync(join(tmpdir(), 'seqgpu-bench-kernel-')), 'out.json');
    const r = bench('--runtime', 'node', '--sweep', 'softmax', '--kernel', 'bench/kernels/softmax-three-pass.js', '--filter', 'softmax-64x1024', '--budget', '0.05', '--json', json);
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(readFileSync(json, 'utf8')).rows.filter((row: { name: string }) => row.name === 'softmax-64x1024');
    const mine = rows.find((row: { impl: string }) => row.impl === 'seqgpu:user:three-pass');
    expect(mine?.status).toBe('ok');
    expect(mine.maxAbsErr).toBeLessThan(1e-6);
    expect(mine.note).toContain('(user:three-pass)');
    expect(rows.filter((row: { impl: string; status: string }) => row.impl.startsWith('seqgpu:row') && row.status === 'ok').length).toBeGreaterThan(2);
    expect(r.stdout).toMatch(/seqgpu:user:three-pass\s+ok/);
  });
  it('refuses --kernel without --sweep, and a missing file, with exit 2', () => {
    expect(bench('--kernel', 'bench/kernels/softmax-three-pass.js').stderr).toMatch(/--kernel needs --sweep OP/);
    const missing = bench('--sweep', 'softmax', '--kernel', 'no-such-kernel.js');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--kernel: no file 'no-such-kernel.js'/);
  });
});
