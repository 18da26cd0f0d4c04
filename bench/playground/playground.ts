// The kernel playground (`npm run playground`): edit a kernel module, apply it, and see at once its
// parity against the CPU reference on every parity case that uses its op, and its run time beside
// the built-in variants on the largest of those cases. A compile error is marked at its line.
import { GpuError, KernelError, LimitError, MATMUL_VARIANTS, Runtime, SeqgpuError, type CompileOptions, type Feeds, type Graph, type KernelDefinition } from '../../src/index';
import { SOFTMAX_VARIANTS } from '../../src/kernels/softmax';
import { checkParity, opCases, type ParityCase, type ParityResult } from '../../src/testing';
import { timeRuns } from '../suite';
import softmaxTemplate from '../kernels/softmax-three-pass.js?raw';
import linearTemplate from '../kernels/linear-naive.js?raw';
import reluTemplate from '../kernels/relu-plain.js?raw';

/** The ops the playground offers: a template each, and the built-in variants to time against. */
const OPS: Record<string, { template: string; family: string; variants: readonly string[] }> = {
  softmax: { template: softmaxTemplate, family: 'softmax', variants: SOFTMAX_VARIANTS },
  linear: { template: linearTemplate, family: 'matmul', variants: MATMUL_VARIANTS },
  relu: { template: reluTemplate, family: 'elementwise', variants: [] },
};
const TIME_BUDGET_MS = 400;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const code = $<HTMLTextAreaElement>('code'), gutter = $<HTMLPreElement>('gutter'), opSelect = $<HTMLSelectElement>('op');
const message = $<HTMLDivElement>('message'), applyButton = $<HTMLButtonElement>('apply');

export interface PlaygroundState {
  status: 'idle' | 'running' | 'pass' | 'fail' | 'error';
  passed: number;
  cases: number;
  /** Median ms per run of the user's kernel on the timing case. */
  mineMs?: number;
  error?: string;
  /** The editor line (1-based) a compile error points at. */
  errorLine?: number;
}

declare global {
  interface Window {
    __playground: { ready: Promise<void>; state: PlaygroundState; setCode(text: string): void; apply(): Promise<PlaygroundState> };
  }
}

let rt: Runtime;
let registered: string[] = [];
const state: PlaygroundState = { status: 'idle', passed: 0, cases: 0 };
const casesByOp = new Map<string, ParityCase[]>();

// ---- the editor: a textarea with a line-number gutter that marks the error line ----

function renderGutter(errorLine?: number): void {
  const n = code.value.split('\n').length;
  gutter.innerHTML = Array.from({ length: n }, (_, i) => (i + 1 === errorLine ? `<span class="err">${i + 1}</span>` : String(i + 1))).join('\n');
  gutter.scrollTop = code.scrollTop;
}
code.addEventListener('input', () => renderGutter(state.errorLine));
code.addEventListener('scroll', () => (gutter.scrollTop = code.scrollTop));
code.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    void apply();
  } else if (e.key === 'Tab') {
    e.preventDefault();
    code.setRangeText('  ', code.selectionStart, code.selectionEnd, 'end');
  }
});

function setCode(text: string): void {
  code.value = text;
  state.errorLine = undefined;
  renderGutter();
}

function showMessage(text: string, kind: 'bad' | 'info'): void {
  message.className = `message ${kind}`;
  message.textContent = text;
}

/** The editor line of line `line` of the wgsl template literal (the line after its opening backtick). */
function editorLineOf(wgslLine: number): number | undefined {
  const m = /wgsl\s*:\s*(?:\/\*[^*]*\*\/\s*)?`/.exec(code.value);
  if (!m) return undefined;
  const startLine = code.value.slice(0, m.index + m[0].length).split('\n').length;
  return startLine + wgslLine - 1;
}

// ---- cases, parity, timing ----

/** Every parity case whose graph has a node of `op`. */
function casesFor(op: string): ParityCase[] {
  let list = casesByOp.get(op);
  if (!list) {
    list = Object.values(opCases()).flat().filter((c) => c.build().graph.nodes.some((n) => n.node.op === op));
    casesByOp.set(op, list);
  }
  return list;
}

/** The case to time on: the one with the most input values. */
function timingCase(cases: ParityCase[]): { c: ParityCase; graph: Graph; feeds: Feeds } {
  let best: { c: ParityCase; graph: Graph; feeds: Feeds; size: number } | undefined;
  for (const c of cases) {
    const { graph, feeds } = c.build();
    const size = Object.values(feeds).reduce((a, f) => a + f.length, 0);
    if (!best || size > best.size) best = { c, graph, feeds, size };
  }
  return best!;
}

async function timeImpl(graph: Graph, feeds: Feeds, options: CompileOptions): Promise<number> {
  const exe = await rt.compile(graph, options);
  try {
    await exe.run(feeds);
    const runs = await timeRuns(() => exe.run(feeds), TIME_BUDGET_MS, 5);
    return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  } finally {
    exe.destroy();
  }
}

const esc = (s: string) => s.replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[ch]!);

function renderParity(results: { c: ParityCase; r?: ParityResult; error?: string }[]): void {
  const rows = results.map(({ c, r, error }) => {
    const ok = r?.ok ?? false;
    const detail = error ?? (r && !r.ok ? r.report.split('\n').slice(1, 4).join('\n') : '');
    return `<tr><td class="${ok ? 'pass' : 'fail'}">${ok ? 'PASS' : 'FAIL'}</td><td>${esc(c.id)}${detail ? `<div class="note">${esc(detail)}</div>` : ''}</td>` +
      `<td class="num">${r ? r.maxAbsErr.toExponential(1) : '–'}</td><td class="num">${c.tol.atol} / ${c.tol.rtol}</td></tr>`;
  });
  $('parity').innerHTML = `<table><tr><th></th><th>case</th><th>max |err|</th><th>atol / rtol</th></tr>${rows.join('')}</table>`;
}

/** How the user's time compares with another's: "1.45× slower" or "2.10× faster". */
const versus = (mine: number, other: number) => (mine > other ? `${(mine / other).toFixed(2)}× slower` : `${(other / mine).toFixed(2)}× faster`);

async function renderTiming(op: string, mine: string): Promise<void> {
  const cfg = OPS[op];
  const { c, graph, feeds } = timingCase(casesFor(op));
  const key = cfg?.family === 'matmul' ? 'matmul' : op;
  const impls: { name: string; options: CompileOptions }[] = [
    { name: mine, options: { variants: { [op]: mine } } },
    { name: 'built-in (auto)', options: {} },
    ...(cfg?.variants ?? []).map((v) => ({ name: `built-in ${v}`, options: { variants: { [key]: v } } })),
  ];
  const rows: { name: string; ms?: number; error?: string }[] = [];
  $('timing').innerHTML = `<span class="note">timing on ${esc(c.id)}…</span>`;
  for (const impl of impls) {
    try {
      rows.push({ name: impl.name, ms: await timeImpl(graph, feeds, impl.options) });
    } catch (e) {
      rows.push({ name: impl.name, error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
    }
  }
  state.mineMs = rows[0].ms;
  const worst = Math.max(...rows.map((r) => r.ms ?? 0));
  const mineMs = rows[0].ms;
  $('timing').innerHTML =
    `<div class="note">median ms per run (feeds written, one submit, outputs read back) on <b>${esc(c.id)}</b>, ${TIME_BUDGET_MS} ms per variant</div>` +
    `<table><tr><th>variant</th><th>ms</th><th></th><th>yours vs it</th></tr>${rows
      .map((r, i) => `<tr class="${i === 0 ? 'mine' : ''}"><td>${esc(r.name)}</td>` +
        (r.ms === undefined
          ? `<td class="note" colspan="3">does not apply: ${esc(r.error ?? '')}</td>`
          : `<td class="num">${r.ms.toFixed(3)}</td><td><span class="bar" style="width:${Math.max(2, (120 * r.ms) / worst).toFixed(0)}px"></span></td>` +
            `<td class="num">${i === 0 || mineMs === undefined ? '' : versus(mineMs, r.ms)}</td>`) + '</tr>')
      .join('')}</table>`;
}

/** Registers the editor's module, checks it on its op's cases, then times it. */
async function apply(): Promise<PlaygroundState> {
  Object.assign(state, { status: 'running', passed: 0, cases: 0, mineMs: undefined, error: undefined, errorLine: undefined });
  applyButton.disabled = true;
  $('verdict').className = 'verdict';
  $('verdict').textContent = 'checking…';
  for (const id of ['summary', 'timing', 'parity']) $(id).textContent = '—';
  renderGutter();
  try {
    for (const name of registered) rt.kernels.unregister(name);
    registered = [];
    const defs: KernelDefinition[] = [];
    const url = URL.createObjectURL(new Blob([code.value], { type: 'text/javascript' }));
    let mod: { default?: unknown };
    try {
      mod = await import(/* @vite-ignore */ url);
    } finally {
      URL.revokeObjectURL(url);
    }
    if (typeof mod.default !== 'function') throw new KernelError('the module must default-export (kernels) => void, which calls kernels.register(...)');
    mod.default({ register: (def: KernelDefinition) => (rt.kernels.register(def), registered.push(def.name), defs.push(def)) });
    if (!defs.length) throw new KernelError('the module registered no kernel');
    const { op, name } = defs[0];
    const cases = casesFor(op);
    if (!cases.length) throw new KernelError(`no parity case uses the op '${op}'`);
    state.cases = cases.length;
    const results: { c: ParityCase; r?: ParityResult; error?: string }[] = [];
    for (const c of cases) {
      try {
        const r = await checkParity(rt, c, { variants: { [op]: name } });
        results.push({ c, r });
        if (r.ok) state.passed++;
      } catch (e) {
        if (e instanceof GpuError || e instanceof KernelError || e instanceof LimitError) throw e; // the kernel itself is broken
        results.push({ c, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      }
    }
    renderParity(results);
    const ok = state.passed === cases.length;
    state.status = ok ? 'pass' : 'fail';
    $('verdict').className = `verdict ${ok ? 'ok' : 'bad'}`;
    $('verdict').textContent = `${ok ? 'PASS' : 'FAIL'} ${state.passed}/${cases.length} cases`;
    $('summary').textContent = `${name} as ${op}, against Runtime.cpu() (float64) on ${rt.info.adapter.description || rt.info.adapter.architecture}`;
    showMessage(ok ? `${name}: every case passes.` : `${name}: ${cases.length - state.passed} case(s) fail; see the table.`, ok ? 'info' : 'bad');
    await renderTiming(op, name);
  } catch (e) {
    state.status = 'error';
    const text = e instanceof SeqgpuError || e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    state.error = text;
    const name = registered[0];
    // A WGSL error names the kernel and its line in the wgsl string: `user:mine:17:5 message`.
    const m = name ? new RegExp(`${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)(?::\\d+)? ([^\\n]*)`).exec(text) : null;
    state.errorLine = m ? editorLineOf(Number(m[1])) : undefined;
    renderGutter(state.errorLine);
    $('verdict').className = 'verdict bad';
    $('verdict').textContent = state.errorLine ? `error at line ${state.errorLine}` : 'error';
    showMessage(state.errorLine && m ? `line ${state.errorLine}: ${m[2]}\n\n${text}` : text, 'bad');
  } finally {
    applyButton.disabled = false;
  }
  return { ...state };
}

// ---- wiring ----

for (const op of Object.keys(OPS)) opSelect.add(new Option(op, op));
opSelect.addEventListener('change', () => setCode(OPS[opSelect.value].template));
$('template').addEventListener('click', () => setCode(OPS[opSelect.value].template));
$<HTMLInputElement>('file').addEventListener('change', async (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) setCode(await f.text());
});
applyButton.addEventListener('click', () => void apply());

const ready = (async () => {
  setCode(OPS.softmax.template);
  rt = await Runtime.create();
  const a = rt.info.adapter;
  $('adapter').textContent = `${a.description || a.architecture} (${a.vendor}) · ${rt.info.features.length} features`;
})();
ready.catch((e) => showMessage(`WebGPU: ${e instanceof Error ? e.message : String(e)}`, 'bad'));

window.__playground = { ready, state, setCode, apply };
