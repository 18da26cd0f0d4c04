// The package as users get it: built, packed by npm, checked by attw and publint, installed into a
// fresh project, type-checked there under bundler, node16 and nodenext, bundled and minified by a
// consumer's Vite build, and imported without the optional 'webgpu' peer. Every check reads the
// packed tarball or the project it was installed into, never dist/ (another test rebuilds that).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST_FILES, PKG, ROOT, ensureBuilt, installProject, pack, readmeSnippets, run } from './package-util';

let tarball: string;
let project: ReturnType<typeof installProject>;

beforeAll(() => {
  ensureBuilt();
  tarball = pack();
  project = installProject(tarball);
}, 300_000);

const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);
const npx = (name: string, args: string[], cwd = ROOT) => spawnSync(bin(name), args, { cwd, encoding: 'utf8' });

describe('npm pack', () => {
  it('ships the three bundles, their declarations, README, LICENSE, CHANGELOG and package.json, nothing else', () => {
    const files = run('tar', ['-tzf', tarball], ROOT).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, '')).sort();
    expect(files).toEqual([...DIST_FILES, 'CHANGELOG.md', 'LICENSE', 'README.md', 'package.json'].sort());
  });

  it('is publishable: not private, with a license, repository, homepage, bugs and keywords', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.private).toBeUndefined();
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    for (const k of ['repository', 'homepage', 'bugs', 'keywords']) expect(pkg[k], k).toBeTruthy();
    expect(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8')).toContain(`## [${pkg.version}]`);
  });

  // attw --pack packs, then checks the tarball; this checks the tarball packed above.
  it('attw --profile esm-only finds no problem in the tarball', () => {
    const r = npx('attw', [tarball, '--profile', 'esm-only', '--format', 'table-flipped']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  it('publint --strict finds no problem in the tarball', () => {
    const r = npx('publint', ['run', tarball, '--strict']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('All good');
  }, 60_000);

  it('each .d.ts has no relative import (seqgpu/node and seqgpu/testing import \'seqgpu\') and references the WebGPU types', () => {
    for (const f of DIST_FILES.filter((x) => x.endsWith('.d.ts'))) {
      const src = readFileSync(join(project.dir, 'node_modules/seqgpu', f), 'utf8');
      expect(src.split('\n')[0], f).toBe('/// <reference types="@webgpu/types" />');
      expect(src, f).not.toMatch(/from\s+['"]\.{1,2}\//);
      expect(src, f).not.toMatch(/import\(['"]\.{1,2}\//);
      if (f !== 'dist/index.d.ts') expect(src, f).toMatch(/from 'seqgpu';/);
    }
    expect(PKG.dependencies['@webgpu/types']).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

// A user's code: every name it uses must keep its type (a lost import makes it `any`, silently).
const CONSUMER = `import { Graph, GPT2LMHeadModel, Runtime, SeqgpuError, ShapeError, readSafetensors, type Executable } from 'seqgpu';
import * as node from 'seqgpu/node';
import { liveBuffers } from 'seqgpu/testing';

type IsAny<T> = 0 extends 1 & T ? true : false;
type NotAny<T extends false> = T;
export type Checks = [
  NotAny<IsAny<Runtime>>, NotAny<IsAny<Graph>>, NotAny<IsAny<GPT2LMHeadModel>>, NotAny<IsAny<typeof readSafetensors>>,
  NotAny<IsAny<Executable>>, NotAny<IsAny<node.Runtime>>, NotAny<IsAny<typeof node.GptDecoder>>, NotAny<IsAny<typeof liveBuffers>>,
];

export async function use(bytes: Uint8Array): Promise<number> {
  const rt = await Runtime.create();
  const device: GPUDevice | null = rt.device;
  const g = new Graph();
  g.output('y', g.relu(g.input('x', [2])));
  const exe: Executable = await rt.compile(g);
  const { y } = await exe.run({ x: new Float32Array(2) });
  const model = new GPT2LMHeadModel({ vocabSize: 8, nPositions: 4, nEmbd: 4, nLayer: 1, nHead: 1 });
  model.loadStateDict(readSafetensors(bytes));
  const e: SeqgpuError = new ShapeError('x');
  const n = await node.Runtime.create();
  return y.length + liveBuffers(n) + (device ? 1 : 0) + e.message.length;
}
`;

function tsc(dir: string, config: object): { status: number | null; out: string } {
  const file = join(dir, `tsconfig.${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', file], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('the installed package', () => {
  it.each([['bundler', 'esnext'], ['node16', 'node16'], ['nodenext', 'nodenext']])(
    'type-checks a consumer under moduleResolution %s, with no @types/node and skipLibCheck off',
    (resolution, module) => {
      writeFileSync(join(project.dir, 'consumer.ts'), CONSUMER);
      const r = tsc(project.dir, {
        compilerOptions: { module, moduleResolution: resolution, target: 'es2022', lib: ['es2022', 'dom'], types: [], strict: true, noEmit: true, skipLibCheck: false },
        files: ['consumer.ts'],
      });
      expect(r.status, r.out).toBe(0);
    },
    60_000,
  );

  it("type-checks the README's TypeScript snippets under nodenext", () => {
    project.link('gpt-tokenizer'); // the tokenizer the README pairs GPT-2 with, as a user installs it
    const dir = join(project.dir, 'snippets');
    mkdirSync(dir, { recursive: true });
    const files = readmeSnippets().filter((s) => s.lang === 'ts').map((s) => {
      const name = `snippets/readme-${s.line}.ts`;
      writeFileSync(join(project.dir, name), s.code);
      return name;
    });
    expect(files.length).toBeGreaterThan(0);
    const r = tsc(project.dir, {
      compilerOptions: {
        module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], strict: true, noEmit: true,
        skipLibCheck: true, typeRoots: [join(ROOT, 'node_modules/@types')], types: ['node'],
      },
      files,
    });
    expect(r.status, r.out).toBe(0);
  }, 60_000);

  it("seqgpu/node without 'webgpu' throws a SeqgpuError that gives the install command", () => {
    const script = `import('seqgpu/node').then(async (m) => {
      try { await m.Runtime.create(); console.log(JSON.stringify({ created: true })); }
      catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message, seqgpu: e instanceof m.SeqgpuError, stack: e.stack })); }
    });`;
    const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script], project.dir));
    expect(out.name).toBe('SeqgpuError');
    expect(out.seqgpu).toBe(true);
    expect(out.message).toContain(`npm install webgpu@${PKG.peerDependencies.webgpu}`);
  });

  describe("a consumer's minified production build (Vite)", () => {
    let code: string;
    let errors: () => Promise<Record<string, { name: string; text: string; isClass: boolean }>>;
    beforeAll(async () => {
      const entry = join(project.dir, 'app.js');
      writeFileSync(entry, `import * as s from 'seqgpu';
const seen = (e, Cls) => ({ name: e.name, text: String(e), isClass: e instanceof Cls });
const caught = async (f) => { try { await f(); } catch (e) { return e; } throw new Error('no error'); };
export async function errors() {
  const g = new s.Graph();
  const out = {
    ShapeError: seen(await caught(() => g.matmul(g.input('a', [2, 3]), g.input('b', [4, 5]))), s.ShapeError),
    StateDictError: seen(await caught(() => new s.Linear(2, 3).loadStateDict({})), s.StateDictError),
    SafetensorsError: seen(await caught(() => s.readSafetensors(new Uint8Array(4))), s.SafetensorsError),
  };
  g.output('y', g.relu(g.input('x', [2])));
  const exe = await s.Runtime.cpu().compile(g);
  out.InputError = seen(await caught(() => exe.run({ x: new Float32Array(3) })), s.InputError);
  exe.destroy();
  out.DestroyedError = seen(await caught(() => exe.run({ x: new Float32Array(2) })), s.DestroyedError);
  for (const n of ['SeqgpuError', 'LimitError', 'GpuError', 'DeviceLostError', 'KernelError']) if (s[n]) out[n] = seen(new s[n]('m'), s[n]);
  return out;
}`);
      const outDir = join(project.dir, 'build');
      await build({
        root: project.dir, configFile: false, logLevel: 'silent',
        build: {
          outDir, emptyOutDir: true, minify: true, target: 'es2022',
          rollupOptions: { input: entry, preserveEntrySignatures: 'exports-only', output: { entryFileNames: 'app.js' } },
        },
      });
      code = readFileSync(join(outDir, 'app.js'), 'utf8');
      ({ errors } = await import(/* @vite-ignore */ pathToFileURL(join(outDir, 'app.js')).href));
    }, 120_000);

    it('renames the classes (the premise of the next checks)', () => {
      expect(code).not.toMatch(/class (ShapeError|StateDictError)\b/);
    });

    it("keeps the engine's error names: the page shows 'ShapeError: matmul: ...'", async () => {
      const got = await errors();
      for (const n of ['SeqgpuError', 'ShapeError', 'InputError', 'LimitError', 'GpuError', 'DeviceLostError', 'DestroyedError', 'KernelError']) {
        expect(got[n], n).toMatchObject({ name: n, isClass: true });
      }
      expect(got.ShapeError.text).toMatch(/^ShapeError: matmul: /);
    });

    it('keeps the names of the error classes the nn modules declare', async () => {
      const got = await errors();
      for (const n of ['StateDictError', 'SafetensorsError']) expect(got[n], n).toMatchObject({ name: n, isClass: true });
    });
  });
});
