// The API reference: typedoc (typedoc.json) over the three entry points must pass its validation
// with nothing to say: every export and public member documented, every type a signature uses
// exported, every {@link} resolved. typedoc.json treats validation warnings as errors, so a
// warning also fails the run; the failure lists them all.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');
const TYPEDOC = join(ROOT, 'node_modules/typedoc/bin/typedoc');

it('typedoc documents the whole public API with no warning', () => {
  const out = mkdtempSync(join(tmpdir(), 'seqgpu-docs-'));
  try {
    const r = spawnSync(process.execPath, [TYPEDOC, '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      timeout: 240_000,
    });
    // typedoc colours its log when it thinks it may; the escapes would split the lines matched below.
    const log = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    const problems = log.split('\n').filter((l) => /\[(warning|error)\]/.test(l) && !/\] Found \d+ errors and \d+ warnings/.test(l));
    expect(r.error, String(r.error)).toBeUndefined();
    expect(problems, `typedoc reported:\n${problems.join('\n')}`).toEqual([]);
    expect(r.status, `typedoc exited ${r.status}:\n${log}`).toBe(0);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 300_000);
