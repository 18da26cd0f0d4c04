// Every code block of README.md is marked with where it runs (`<!-- snippet: ... -->` on the line
// before it), and runs there as written: `node` blocks in a fresh project with the packed package
// installed (beside the `file` blocks they import), `browser` blocks as module scripts in a
// Chromium page whose import map points 'seqgpu' at that project's bundle, `shell` npm install lines
// through npm (a dry run, the packed tarball standing in for the registry's seqgpu), and
// `console` blocks by running their command and comparing its output line by line, numbers aside.
// The examples' flags are checked too.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer';
import ts from 'typescript';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startServer } from '../bench/chromium';
import { GPT2LMHeadModel, setInitSeed, writeSafetensors } from '../src/index';
import { exampleInProcess } from './example-util';
import { PKG, ROOT, ensureBuilt, installProject, pack, readmeSnippets, type Snippet } from './package-util';
import { hfConfig, hfTensors, writeHfFolder } from './load-util';

const snippets = readmeSnippets();
const where = (s: Snippet) => `README.md:${s.line}`;
const isCode = (s: Snippet) => s.lang === 'ts' || s.lang === 'js';
const runsIn = (s: Snippet, runtime: 'node' | 'browser') => isCode(s) && s.tags.includes(runtime);
const fileName = (s: Snippet) => (s.tags[0] === 'file' ? s.tags[1] : null);

/** Plain JavaScript of a snippet: TypeScript's own transpile, types erased, imports kept. */
const toJs = (code: string) =>
  ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;

/** A state dict of the GPT2LMHeadModel a snippet builds, seeded, as safetensors bytes. */
function weightsFor(code: string): Uint8Array | null {
  const m = /new GPT2LMHeadModel\((\{[^)]*\})\)/.exec(code);
  if (!m) return null;
  setInitSeed(7);
  return writeSafetensors(new GPT2LMHeadModel(new Function(`return ${m[1]}`)()).stateDict());
}

/** The Hugging Face GPT-2 folder a snippet loads (loadGPT2FromFolder('NAME')): seeded, GPT-2's vocabulary, small. */
function hfFolderFor(code: string, dir: string): void {
  const m = /loadGPT2FromFolder\('([\w-]+)'/.exec(code);
  if (!m) return;
  setInitSeed(7);
  const cfg = { vocabSize: 50257, nPositions: 64, nEmbd: 16, nLayer: 1, nHead: 2 };
  writeHfFolder(hfConfig(cfg), hfTensors(new GPT2LMHeadModel(cfg)), 2, join(dir, m[1]));
}

describe('README.md code blocks', () => {
  it('each is marked with where it runs', () => {
    const files = new Set(snippets.map(fileName).filter(Boolean));
    const bad = snippets.filter((s) => {
      const t = s.tags.join(' ');
      if (isCode(s)) {
        if (fileName(s)) return s.tags.length !== 2 || !/^[\w.-]+\.m?js$/.test(s.tags[1]);
        // A relative import must be a `file` block of the README.
        const imports = [...s.code.matchAll(/from '\.\/([^']+)'/g)].map((m) => m[1]);
        return !s.tags.length || !s.tags.every((x) => x === 'node' || x === 'browser') || !imports.every((f) => files.has(f));
      }
      if (s.lang === 'sh') return t !== 'shell' || !s.code.split('\n').every((l) => /^npm install [\w@./ -]+$/.test(l));
      if (s.lang === 'console') return t !== 'console' || !s.code.startsWith('$ npm run ');
      return true;
    });
    expect(bad.map((s) => `${where(s)} \`\`\`${s.lang} marked '${s.tags.join(' ')}'`),
      'put `<!-- snippet: node -->` (or browser, or "node browser") on the line before a ts/js block, `<!-- snippet: file NAME.js -->` ' +
      'before a module the others import as ./NAME.js, `<!-- snippet: shell -->` before npm install lines, and `<!-- snippet: console -->` ' +
      'before a `$ npm run ...` transcript').toEqual([]);
    expect(snippets.filter((s) => runsIn(s, 'node')).length).toBeGreaterThan(0);
    expect(snippets.filter((s) => runsIn(s, 'browser')).length).toBeGreaterThan(0);
  });

  it('names only npm scripts that exist', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const named = new Set([...readme.matchAll(/npm run (\w[\w:-]*)/g)].map((m) => m[1]));
    expect([...named].filter((n) => !(n in PKG.scripts))).toEqual([]);
  });
});

// The packed package, installed into a fresh project: Node snippets run there, and the page gets
// its bundle from there too.
let project: ReturnType<typeof installProject>;
let tarball: string;
beforeAll(() => {
  ensureBuilt();
  tarball = pack();
  project = installProject(tarball);
  project.linkWebgpu();
  // The README pairs GPT-2 with gpt-tokenizer, a devDependency here: the project gets this copy.
  project.link('gpt-tokenizer');
  for (const s of snippets.filter(fileName)) writeFileSync(join(project.dir, fileName(s)!), toJs(s.code));
}, 300_000);

describe('README.md in Node, with the packed package installed', () => {
  for (const s of snippets.filter((x) => runsIn(x, 'node'))) {
    it(`${where(s)} runs as written`, () => {
      const file = join(project.dir, `readme-${s.line}.mjs`);
      writeFileSync(file, toJs(s.code));
      const weights = weightsFor(s.code);
      if (weights) writeFileSync(join(project.dir, 'model.safetensors'), weights);
      hfFolderFor(s.code, project.dir);
      const r = spawnSync(process.execPath, [file], { cwd: project.dir, encoding: 'utf8', timeout: 240_000 });
      expect(r.status, `${where(s)}\n${r.stdout}\n${r.stderr}`).toBe(0);
    }, 300_000);
  }

  for (const s of snippets.filter((x) => x.lang === 'sh')) {
    it(`${where(s)}: npm resolves each install line (the tarball standing in for the registry's seqgpu)`, () => {
      for (const line of s.code.split('\n')) {
        const args = line.split(/\s+/).slice(2).map((a) => (a === PKG.name ? tarball : a));
        const r = spawnSync('npm', ['install', '--dry-run', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...args], { cwd: project.dir, encoding: 'utf8' });
        expect(r.status, `${line}\n${r.stderr}`).toBe(0);
      }
    }, 120_000);
  }
});

describe('README.md in a page', () => {
  const PAGE = '/readme-snippets.html';
  const BUNDLE = '/node_modules/seqgpu/dist/seqgpu.js';
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let weights: Uint8Array | null = null;
  const problems: string[] = [];

  beforeAll(async () => {
    const bundle = readFileSync(join(project.dir, 'node_modules/seqgpu/dist/seqgpu.js'));
    const s = await startServer();
    server = s.server;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    // The page, the installed package's bundle and the weights come from the test; the server is
    // there for an origin WebGPU is offered on.
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      const path = new URL(req.url()).pathname;
      if (path === PAGE) {
        void req.respond({ status: 200, contentType: 'text/html', body: `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "seqgpu": "${BUNDLE}" } }</script><body></body>` });
      } else if (path === BUNDLE) {
        void req.respond({ status: 200, contentType: 'text/javascript', body: bundle });
      } else if (path === '/model.safetensors' && weights) {
        void req.respond({ status: 200, contentType: 'application/octet-stream', body: Buffer.from(weights) });
      } else void req.continue();
    });
    await page.goto(`${s.url}${PAGE}`, { waitUntil: 'load' });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const s of snippets.filter((x) => runsIn(x, 'browser'))) {
    it(`${where(s)} runs as written`, async () => {
      weights = weightsFor(s.code);
      problems.length = 0;
      // A module of its own, as a <script type="module"> would run it; the promise settles when it
      // has run. A string, so that vitest's transform leaves the page's import() alone.
      const error = await page.evaluate(`(async (code) => {
        const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
        try {
          await import(url);
          return null;
        } catch (e) {
          return e instanceof Error ? e.name + ': ' + e.message : String(e);
        } finally {
          URL.revokeObjectURL(url);
        }
      })(${JSON.stringify(toJs(s.code))})`);
      expect(error, where(s)).toBeNull();
      expect(problems, where(s)).toEqual([]);
    }, 300_000);
  }
});

describe('README.md console blocks', () => {
  for (const s of snippets.filter((x) => x.lang === 'console')) {
    it(`${where(s)}: the command prints what the README shows, numbers aside`, () => {
      const [command, ...shown] = s.code.split('\n');
      const [cmd, ...args] = command.slice(2).split(' ');
      const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
      expect(r.status, r.stderr).toBe(0);
      // npm's own "> seqgpu@x script" banner is not the example's output.
      const printed = r.stdout.split('\n').filter((l) => l && !l.startsWith('> '));
      // Numbers differ from run to run and machine to machine (the adapter line names the driver).
      const shape = (l: string) => (l.startsWith('runtime: ') ? l.replace(/ on .*/, ' on …') : l.replace(/\d+(\.\d+)?/g, '#'));
      expect(printed.map(shape)).toEqual(shown.map(shape));
    }, 600_000);
  }
});

describe('npm run example', () => {
  const example = (...args: string[]) => spawnSync('npm', ['run', '--silent', 'example', '--', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

  const inProcess = exampleInProcess;

  it('refuses an unknown flag with status 2 and the usage, before it runs anything', () => {
    const r = example('gpt', '--wieghts', 'model.safetensors');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Unknown option '--wieghts'");
    expect(r.stderr).toContain('usage: npm run example -- <lstm-classifier | rnn-classifier | gpt | translator>');
    expect(r.stdout).toBe('');
  }, 120_000);

  it('refuses a missing example, two examples, a bad seed and a flag without its value with status 2', async () => {
    const dtypes = [['gpt', '--dtype', 'f64'], ['translator', '--dtype', 'f16']];
    for (const args of [[], ['gpt', 'translator'], ['gtp'], ['gpt', '--seed', 'x'], ['gpt', '--weights'], ...dtypes]) {
      const r = await inProcess(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('usage: npm run example');
      expect(r.stdout, args.join(' ')).toBe('');
    }
  });

  it('refuses --weights of other sizes with status 1, naming every name and shape that differs', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'seqgpu-weights-')), 'other.safetensors');
    writeFileSync(file, writeSafetensors({ 'fc.weight': { shape: [1], data: new Float32Array(1) } }));
    const r = await inProcess('lstm-classifier', '--cpu', '--weights', file);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/missing 6: embedding\.weight, .*wrong shape 1: fc\.weight is \[1\], expected \[4, 128\]/);
  });

  it('--help lists every example with its sizes and every flag, with status 0', async () => {
    const r = await inProcess('--help');
    expect(r.status).toBe(0);
    for (const s of ['lstm-classifier', 'rnn-classifier', 'gpt', 'translator', '--cpu', '--weights', '--seed', '--dtype', 'vocab 512']) expect(r.stdout).toContain(s);
  });
});
