// Structure checks that keep the code cheap to extend: the import graph of src/ is a DAG (type-only
// imports included, ?raw shader imports and the wgsl_reflect alias resolved), checked with
// dependency-cruiser; and no kernel binding is addressed by number in TypeScript.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cruise, type IReporterOutput } from 'dependency-cruiser';

const root = new URL('..', import.meta.url).pathname;

async function violations(dir: string): Promise<string[]> {
  const out: IReporterOutput = await cruise(
    [dir],
    {
      baseDir: root,
      validate: true,
      tsPreCompilationDeps: true,
      tsConfig: { fileName: 'tsconfig.json' },
      doNotFollow: { path: 'node_modules' },
      ruleSet: {
        forbidden: [
          { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
          { name: 'not-to-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
        ],
      },
    },
    { extensions: ['.ts', '.js'], alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' } },
  );
  if (typeof out.output === 'string') throw new Error(`dependency-cruiser: unexpected output ${out.output.slice(0, 200)}`);
  return out.output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`);
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((f) => {
    const p = join(dir, f);
    return statSync(join(root, p)).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

// `binding: 3`, `bind[6]`, `{ 1: x.slot }`: a buffer addressed by its binding number.
const BY_NUMBER = [/\bbinding:\s*\d/, /\bbind\w*\s*\[\s*\d/, /\{\s*\d+\s*:\s*[\w.]+(slot|'dummy')/];

describe('structure', () => {
  it('no binding number remains in the TypeScript of src/ and bench/', () => {
    const hits = [...tsFiles('src'), ...tsFiles('bench')].flatMap((f) =>
      readFileSync(join(root, f), 'utf8').split('\n').flatMap((line, i) => (BY_NUMBER.some((r) => r.test(line)) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });
  it('the binding-number check sees the forms it forbids', () => {
    for (const line of ['{ binding: 3, resource }', 'prod.bind[6] = r;', "{ 1: x.slot, 2: 'dummy' }"]) expect(BY_NUMBER.some((r) => r.test(line)), line).toBe(true);
  });
  it('src/ imports form a DAG and every import resolves', async () => {
    expect(await violations('src')).toEqual([]);
  }, 60_000);
  it('the checker sees a cycle made of type-only imports', async () => {
    const v = await violations('test/fixtures/cycle');
    expect(v.some((x) => x.startsWith('no-circular'))).toBe(true);
  }, 60_000);
});
