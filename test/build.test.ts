// npm run build's bundle: dist/seqgpu.js imports as it is in plain Node (nothing touches navigator
// at import) and in a page, where it runs a graph on the page's WebGPU adapter.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, startServer } from '../bench/chromium';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}/dist/seqgpu.js`;

beforeAll(() => {
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  execFileSync('npx', ['vite', 'build', '--mode', 'node', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  execFileSync('npx', ['vite', 'build', '--mode', 'testing', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
}, 120_000);

describe('dist/seqgpu.js', () => {
  it('is one self-contained module (no imports left) with the shaders inlined', () => {
    const src = readFileSync(dist, 'utf8');
    expect(src).not.toMatch(/^\s*import\s/m);
    expect(src).toContain('fn matmul_tiled');
    expect(existsSync(`${root}/dist/node.js`)).toBe(true);
  });

  it('imports in plain Node and runs the CPU reference', async () => {
    const m = await import(/* @vite-ignore */ pathToFileURL(dist).href);
    for (const name of ['Runtime', 'Graph', 'SeqgpuError', 'ShapeError', 'InputError', 'LimitError', 'GpuError', 'DeviceLostError']) {
      expect(m[name], name).toBeTypeOf('function');
    }
    const g = new m.Graph();
    g.output('y', g.softmax(g.input('x', [1, 3]), -1));
    const exe = await m.Runtime.cpu().compile(g);
    const { y } = await exe.run({ x: new Float32Array([0, 0, Math.log(2)]) });
    expect(Array.from(y)).toEqual([0.25, 0.25, 0.5]);
    await expect(m.Runtime.create()).rejects.toThrow(/no WebGPU here/);
  });

  it('dist/node.js runs on Dawn', async () => {
    const m = await import(/* @vite-ignore */ pathToFileURL(`${root}/dist/node.js`).href);
    const rt = await m.Runtime.create();
    const g = new m.Graph();
    g.output('y', g.relu(g.input('x', [4])));
    const exe = await rt.compile(g);
    expect(Array.from((await exe.run({ x: new Float32Array([-1, 2, -3, 4]) })).y)).toEqual([0, 2, 0, 4]);
    rt.destroy();
  });
});

describe('dist/testing.js (seqgpu/testing)', () => {
  it('holds no engine of its own and counts the buffers of a Runtime from dist/node.js', async () => {
    const src = readFileSync(`${root}/dist/testing.js`, 'utf8');
    // Its only import is the engine itself, the user's copy ('seqgpu').
    expect(src.match(/^\s*import\s.*$/gm)).toEqual(['import { Graph, Runtime } from "seqgpu";']);
    expect(src).not.toContain('fn matmul');
    const testing = await import(/* @vite-ignore */ pathToFileURL(`${root}/dist/testing.js`).href);
    const m = await import(/* @vite-ignore */ pathToFileURL(`${root}/dist/node.js`).href);
    const rt = await m.Runtime.create();
    const base = testing.liveBuffers(rt);
    const g = new m.Graph();
    g.output('y', g.relu(g.input('x', [4])));
    const exe = await rt.compile(g);
    expect(testing.liveBuffers(rt)).toBeGreaterThan(base);
    await exe.run({ x: new Float32Array(4) });
    exe.destroy();
    expect(testing.liveBuffers(rt)).toBe(base);
    expect(testing.bufferCounts(rt).live).toBe(base);
    expect(() => testing.liveBuffers(m.Runtime.cpu())).toThrow(/CPU runtime/);
    rt.destroy();
  });

  it("checks a user kernel registered on dist/node.js's runtime on the softmax cases", async () => {
    const testing = await import(/* @vite-ignore */ pathToFileURL(`${root}/dist/testing.js`).href);
    const m = await import(/* @vite-ignore */ pathToFileURL(`${root}/dist/node.js`).href);
    const register = (await import(/* @vite-ignore */ pathToFileURL(`${root}/bench/kernels/softmax-three-pass.js`).href)).default;
    const rt = await m.Runtime.create();
    register(rt.kernels);
    const cases = testing.opCases().softmax;
    expect(cases.length).toBeGreaterThan(10);
    for (const c of cases.slice(0, 8)) {
      const r = await testing.checkParity(rt, c, { variants: { softmax: 'user:three-pass' } });
      expect(r.ok, r.report).toBe(true);
      expect(r.steps.join()).toContain('(user:three-pass)');
    }
    rt.destroy();
  });
});

describe('dist/seqgpu.js in a page', () => {
  let close: () => Promise<void>;
  let url: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    const s = await startServer();
    url = s.url;
    browser = await launchChromium();
    close = async () => {
      await browser.close();
      await s.server.close();
    };
  });
  afterAll(() => close?.());

  it('imports and runs a linear + softmax on WebGPU', async () => {
    const page = await openPage(browser, url, '/test/browser/parity.html', '__parity');
    // A string, so vitest's transform leaves the page's dynamic import() alone.
    const out = (await page.evaluate(`(async () => {
      const m = await import(location.origin + '/dist/seqgpu.js');
      const rt = await m.Runtime.create();
      const g = new m.Graph();
      g.output('y', g.softmax(g.linear(g.input('x', [1, 2]), g.input('w', [3, 2])), -1));
      const exe = await rt.compile(g);
      const { y } = await exe.run({ x: new Float32Array([1, 0]), w: new Float32Array([0, 0, 0, 0, Math.log(2), 0]) });
      return { y: Array.from(y), backend: rt.info.backend };
    })()`)) as { y: number[]; backend: string };
    expect(out.backend).toBe('webgpu');
    expect(out.y.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.25, 0.25, 0.5]);
  });
});
