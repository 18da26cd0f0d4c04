// Bundles the declarations tsc wrote to dist/types/ into one .d.ts per entry point (dist/index.d.ts,
// dist/node.d.ts, dist/testing.d.ts), so that no relative import is left for a consumer's module
// resolution to get wrong (node16 and nodenext want file extensions, bundler does not). seqgpu/node
// and seqgpu/testing take what the main entry exports from 'seqgpu' itself, so a Runtime or a
// Graph is one type whichever entry it came from; the rest of what they declare is bundled in.
// Each file references @webgpu/types, a dependency, for the GPU* types its signatures use.
// Run by `npm run build` after tsc; dist/types/ is removed once bundled.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const root = fileURLToPath(new URL('..', import.meta.url));
const staged = resolve(root, 'dist/types');
const MAIN = 'index';
const ENTRIES = [MAIN, 'node', 'testing'];
const BANNER = '/// <reference types="@webgpu/types" />';
const PACKAGE = 'seqgpu';

/** The staged .d.ts a relative specifier in `from` points to. */
function target(from, spec) {
  const base = resolve(dirname(from), spec);
  return [`${base}.d.ts`, `${base}/index.d.ts`, base].find((p) => existsSync(p)) ?? null;
}

// `export ... from` statements, and `import ... from` ones: the names they take, and the specifier.
const FROM = /\b(import|export)\s+(type\s+)?(\*(?:\s+as\s+\w+)?|\{[^}]*\})\s+from\s+(['"])(\.{1,2}\/[^'"]+)\4/g;
const names = (list) => list.replace(/[{}]/g, '').split(',').map((n) => n.trim().replace(/^type\s+/, '')).filter(Boolean);

/** What the main entry re-exports under its own name: staged file -> every name, or '*'. */
function mainExports() {
  const file = resolve(staged, `${MAIN}.d.ts`);
  const out = new Map([[file, '*']]);
  for (const m of readFileSync(file, 'utf8').matchAll(FROM)) {
    if (m[1] !== 'export') continue;
    const t = target(file, m[5]);
    if (!t) continue;
    if (m[3].startsWith('*')) out.set(t, '*');
    else {
      const same = names(m[3]).filter((n) => !/\sas\s/.test(n));
      const prev = out.get(t);
      if (prev !== '*') out.set(t, new Set([...(prev ?? []), ...same]));
    }
  }
  return out;
}

/** Points imports of what the main entry exports at the package itself, where every name is exported. */
function fromPackage(exported) {
  return {
    name: 'seqgpu-from-package',
    resolveId: (id) => (id === PACKAGE ? { id, external: true } : null),
    transform(code, id) {
      return code.replace(FROM, (stmt, _kind, _type, list, quote, spec) => {
        const t = target(id, spec);
        const has = t && exported.get(t);
        if (!has) return stmt;
        const taken = list.startsWith('*') ? null : names(list).map((n) => n.split(/\s+as\s+/)[0]);
        if (has !== '*' && (taken === null || !taken.every((n) => has.has(n)))) return stmt;
        return stmt.replace(`${quote}${spec}${quote}`, `${quote}${PACKAGE}${quote}`);
      });
    },
  };
}

const exported = mainExports();
for (const entry of ENTRIES) {
  const plugins = entry === MAIN ? [dts()] : [fromPackage(exported), dts()];
  const bundle = await rollup({ input: resolve(staged, `${entry}.d.ts`), plugins });
  const { output } = await bundle.write({ file: resolve(root, `dist/${entry}.d.ts`), format: 'es', banner: BANNER });
  await bundle.close();
  const relative = output.flatMap((o) => (o.type === 'chunk' ? o.imports : [])).filter((i) => i !== PACKAGE);
  if (relative.length) throw new Error(`build-types: dist/${entry}.d.ts still imports ${relative.join(', ')}`);
}
rmSync(staged, { recursive: true, force: true });
