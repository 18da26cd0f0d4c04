// The package as a user gets it, for the package and README tests: `npm run build` when dist/ is
// older than its sources, `npm pack`, and a fresh project in a temporary folder with the tarball
// installed by npm. The README's code blocks, with the runtime each is marked for.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string; version: string; files: string[]; scripts: Record<string, string>; peerDependencies: Record<string, string>; dependencies: Record<string, string>;
};
/** What `npm run build` writes and the package ships. */
export const DIST_FILES = ['dist/seqgpu.js', 'dist/node.js', 'dist/testing.js', 'dist/index.d.ts', 'dist/node.d.ts', 'dist/testing.d.ts'];
const SOURCES = ['src', 'shaders', 'scripts', 'package.json', 'vite.config.ts', 'tsconfig.json', 'tsconfig.build.json'];

function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

/** Runs `npm run build` unless every dist file is newer than every source. */
export function ensureBuilt(): void {
  const built = DIST_FILES.map((f) => join(ROOT, f));
  if (built.every(existsSync)) {
    const oldest = Math.min(...built.map((f) => statSync(f).mtimeMs));
    if (oldest > Math.max(...SOURCES.map((s) => newest(join(ROOT, s))))) return;
  }
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

export const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string =>
  execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

/** `npm pack` of the built package into a new temporary folder; returns the tarball's path. */
export function pack(): string {
  const dir = mkdtempSync(join(tmpdir(), 'seqgpu-pack-'));
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT)) as { filename: string }[];
  return join(dir, info.filename);
}

/**
 * A new ES-module project with the tarball installed by npm (its dependencies from npm's cache when
 * there, as `npm ci` left them). The optional peer `webgpu` is not installed: `linkWebgpu` adds the
 * repository's copy (130 MB of Dawn builds is not worth unpacking again).
 */
export function installProject(tarball: string): { dir: string; linkWebgpu: () => void; link: (pkg: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'seqgpu-user-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'seqgpu-user', private: true, type: 'module' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', tarball], dir);
  /** Links the repository's copy of a package the README pairs seqgpu with (webgpu, gpt-tokenizer). */
  const link = (pkg: string) => {
    if (!existsSync(join(dir, 'node_modules', pkg))) symlinkSync(join(ROOT, 'node_modules', pkg), join(dir, 'node_modules', pkg), 'dir');
  };
  return { dir, link, linkWebgpu: () => link('webgpu') };
}

export interface Snippet {
  /** 1-based line of the opening fence in README.md. */
  line: number;
  lang: string;
  /**
   * Where it runs, from the `<!-- snippet: ... -->` line before the fence: `node` and/or `browser`,
   * `shell` (npm install lines), `console` (a command and what it prints), or `file NAME` (a module
   * that the other blocks import as ./NAME). Empty when the block is not marked.
   */
  tags: string[];
  code: string;
}

/** Every fenced code block of README.md. */
export function readmeSnippets(): Snippet[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`README.md:${i + 1}: a code block that never closes`);
    const mark = /^<!-- snippet: (.*) -->$/.exec(lines[i - 1] ?? '');
    out.push({ line: i + 1, lang: open[1], tags: mark ? mark[1].split(/\s+/) : [], code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}
