// Draws a bench report (bench/report.ts's BenchReport JSON) as plain SVG: throughput by case for
// each impl, % of the adapter's roofline, and seqgpu's speed ratio against each peer, then every row
// with its status and note. No dependencies: the page works from any static server or as a file.

const COLORS = {
  seqgpu: '#1f6feb', 'cpu-reference': '#999', 'tfjs-webgpu': '#e8890c', 'tfjs-webgpu:cell-loop': '#f2b45a', 'ort-webgpu': '#2da44e', 'ort-webgpu:composed': '#8fd19e',
};
const VARIANT_COLORS = ['#6e40c9', '#bf3989', '#0a7ea4', '#8a6d00', '#57606a', '#cf222e', '#1b7c83', '#953800'];
const PEERS = [['tfjs-webgpu', 'TF.js'], ['tfjs-webgpu:cell-loop', 'TF.js cell loop'], ['ort-webgpu', 'ORT'], ['ort-webgpu:composed', 'ORT composed']];
const NS = 'http://www.w3.org/2000/svg';

const out = document.getElementById('out');
const errorBox = document.getElementById('error');

function el(tag, attrs = {}, text) {
  const e = tag.startsWith('svg:') ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function colorOf(impl, variants) {
  if (COLORS[impl]) return COLORS[impl];
  const i = variants.indexOf(impl);
  return VARIANT_COLORS[(i < 0 ? 0 : i) % VARIANT_COLORS.length];
}

const fmt = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2));

/**
 * A grouped bar chart: one group per category, one bar per series, on a log or linear axis.
 * `value(cat, series)` is a number or null (no bar); `lines` are horizontal reference values.
 */
function barChart({ cats, series, value, color, log, unit, lines = [], height = 160 }) {
  const barW = 9, gap = 14, left = 56, top = 20, bottom = 90;
  const groupW = Math.max(series.length * barW, 20);
  const width = left + cats.length * (groupW + gap) + 10;
  const vals = cats.flatMap((c) => series.map((s) => value(c, s))).filter((v) => v !== null && v > 0);
  if (!vals.length) return el('p', {}, 'no timed rows');
  let lo = Math.min(...vals, ...lines), hi = Math.max(...vals, ...lines);
  if (log) {
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
  } else {
    // A round top: the next multiple of a power of ten's 1, 2 or 5.
    lo = 0;
    const step = 10 ** Math.floor(Math.log10(hi));
    hi = [1, 2, 5, 10].map((m) => m * step).find((v) => v >= hi * 1.05) ?? 10 * step;
  }
  const y = (v) => top + height * (1 - (log ? Math.log10(v / lo) / Math.log10(hi / lo) : (v - lo) / (hi - lo)));
  const svg = el('svg:svg', { width, height: top + height + bottom });
  const ticks = log ? Array.from({ length: Math.round(Math.log10(hi / lo)) + 1 }, (_, i) => lo * 10 ** i) : [0, 0.25, 0.5, 0.75, 1].map((f) => hi * f);
  for (const t of ticks) {
    svg.append(el('svg:line', { x1: left, x2: width, y1: y(t), y2: y(t), stroke: '#eee' }));
    svg.append(el('svg:text', { x: left - 4, y: y(t) + 4, 'text-anchor': 'end' }, fmt(t)));
  }
  svg.append(el('svg:text', { x: left, y: 10, 'text-anchor': 'middle' }, unit));
  for (const l of lines) svg.append(el('svg:line', { x1: left, x2: width, y1: y(l), y2: y(l), stroke: '#cf222e', 'stroke-dasharray': '4 3' }));
  cats.forEach((c, i) => {
    const x0 = left + gap / 2 + i * (groupW + gap);
    series.forEach((s, j) => {
      const v = value(c, s);
      if (v === null || !(v > 0)) return;
      const yv = y(Math.max(v, lo));
      const bar = el('svg:rect', { x: x0 + j * barW, y: yv, width: barW - 1, height: top + height - yv, fill: color(s) });
      bar.append(el('svg:title', {}, `${c} ${s}: ${fmt(v)} ${unit}`));
      svg.append(bar);
    });
    const lx = x0 + groupW / 2, ly = top + height + 8;
    svg.append(el('svg:text', { x: lx, y: ly, transform: `rotate(40 ${lx} ${ly})` }, c));
  });
  return svg;
}

function legend(series, color) {
  const p = el('p', { class: 'legend' });
  for (const s of series) {
    const span = el('span');
    span.append(el('i', { style: `background:${color(s)}` }), s);
    p.append(span);
  }
  return p;
}

function draw(report, source) {
  out.replaceChildren();
  errorBox.textContent = '';
  document.getElementById('source').textContent = source;
  const { rows, roofline: roof, adapter } = report;
  const ok = rows.filter((r) => r.status === undefined || r.status === 'ok');
  const variants = [...new Set(rows.map((r) => r.impl).filter((i) => i.startsWith('seqgpu:') || i.startsWith('seqgpu/')))];
  const color = (s) => colorOf(s, variants);
  const meta = el('div', { class: 'meta' });
  meta.innerHTML = '';
  const line = (t) => meta.append(el('div', {}, t));
  line(`${report.runtime} on ${adapter.vendor} ${adapter.architecture} ${adapter.description}, started ${report.startedAt}`);
  line(`roofline: fma ${fmt(roof.fmaGflops)} GFLOP/s, copy ${fmt(roof.copyGbps)} GB/s, empty dispatch ${fmt(roof.dispatchUs)} µs, ` +
    `submit + readback ${fmt(roof.roundTripMs)} ms, submit + wait of a short busy dispatch ${fmt(roof.busyRoundTripMs)} ms`);
  for (const p of report.peers ?? []) line(p.error ? `${p.impl}: ${p.error}` : `${p.impl} ${p.version} (${p.backend}) on ${p.adapter}`);
  for (const n of report.notes ?? []) line(`note: ${n}`);
  out.append(meta);

  const suites = [...new Set(rows.map((r) => r.suite))];
  out.append(el('h2', {}, 'Throughput by case, each impl (log scale; kernel time: GPU timestamps, or wall less the round trip)'));
  const charts = el('div', { class: 'charts' });
  out.append(charts);
  for (const suite of suites) {
    const sr = ok.filter((r) => r.suite === suite);
    if (!sr.length) continue;
    const cats = [...new Set(sr.map((r) => r.name))];
    const flops = sr.some((r) => r.gflops !== null);
    const impls = [...new Set(sr.map((r) => r.impl))];
    const get = (c, s) => {
      const r = sr.find((x) => x.name === c && x.impl === s);
      return r ? (flops ? r.gflops : r.gbps) : null;
    };
    const fig = el('figure');
    fig.append(el('figcaption', {}, suite), barChart({ cats, series: impls, value: get, color, log: true, unit: flops ? 'GFLOP/s' : 'GB/s' }), legend(impls, color));
    charts.append(fig);
  }

  out.append(el('h2', {}, "% of the adapter's roofline (fma peak for matmul, attention and recurrent cases; copy bandwidth for softmax and layerNorm)"));
  const roofRows = ok.filter((r) => r.pctRoof !== null);
  const roofCats = [...new Set(roofRows.map((r) => r.name))];
  const roofImpls = [...new Set(roofRows.map((r) => r.impl))];
  out.append(barChart({
    cats: roofCats, series: roofImpls, color, log: false, unit: '% roof', lines: [25, 70],
    value: (c, s) => roofRows.find((r) => r.name === c && r.impl === s)?.pctRoof ?? null,
  }), legend(roofImpls, color), el('div', { class: 'meta' }, 'dashed: the 25% (matmul) and 70% (softmax) targets'));

  out.append(el('h2', {}, "seqgpu's speed ratio against each peer (peer wall time / seqgpu wall time; log scale, dashed at 1x)"));
  const engine = (name) => ok.find((r) => r.name === name && r.impl === 'seqgpu');
  const ratioCats = [...new Set(ok.filter((r) => PEERS.some(([p]) => p === r.impl) && engine(r.name)).map((r) => r.name))];
  const peerNames = PEERS.map(([p]) => p);
  out.append(barChart({
    cats: ratioCats, series: peerNames, color, log: true, unit: 'x', lines: [1],
    value: (c, p) => {
      const r = ok.find((x) => x.name === c && x.impl === p);
      return r ? r.medianMs / engine(c).medianMs : null;
    },
  }), legend(peerNames, color));

  const targets = Object.entries(report.targets ?? {});
  if (targets.length) {
    out.append(el('h2', {}, 'Targets'));
    const list = el('ul');
    for (const [name, text] of targets) {
      const s = engine(name);
      const parts = PEERS.map(([p, label]) => {
        const r = rows.find((x) => x.name === name && x.impl === p);
        if (!r) return null;
        return r.status === 'ok' && s ? `${fmt(r.medianMs / s.medianMs)}x ${label}` : `${label} ${r.status}`;
      }).filter(Boolean);
      const roofText = s && s.pctRoof !== null ? `, ${fmt(s.pctRoof)}% of roofline` : '';
      list.append(el('li', {}, `${text}: ${s ? `seqgpu ${fmt(s.medianMs)} ms${roofText}; ${parts.join(', ')}` : 'seqgpu not timed'}`));
    }
    out.append(list);
  }

  out.append(el('h2', {}, 'Rows'));
  const table = el('table');
  const head = ['suite', 'name', 'shape', 'impl', 'status', 'median ms', 'min', 'max', 'runs', 'GPU ms', 'floor ms', 'GFLOP/s', 'GB/s', '%roof', 'max|err|', 'timing', 'note'];
  const tr = el('tr');
  for (const h of head) tr.append(el('th', {}, h));
  table.append(tr);
  for (const r of rows) {
    const status = r.status ?? 'ok';
    const row = el('tr', { class: status === 'ok' ? '' : status === 'skipped' ? 'skipped' : 'bad' });
    const cells = [r.suite, r.name, r.shape, r.impl, status, fmt(r.medianMs), fmt(r.minMs), fmt(r.maxMs), r.runs, fmt(r.gpuMs), fmt(r.floorMs), fmt(r.gflops), fmt(r.gbps),
      fmt(r.pctRoof), r.maxAbsErr === null ? '-' : Number(r.maxAbsErr).toExponential(1), r.timing, r.note ?? ''];
    for (const c of cells) row.append(el('td', {}, String(c)));
    table.append(row);
  }
  out.append(table);
}

async function load(url) {
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    draw(await res.json(), url);
  } catch (e) {
    errorBox.textContent = `could not load ${url}: ${e.message}\nRun \`npm run bench -- --json out.json\` (it writes bench/report/data.json), or pick a JSON file above.`;
  }
}

document.getElementById('file').addEventListener('change', async (ev) => {
  const f = ev.target.files[0];
  if (!f) return;
  try {
    draw(JSON.parse(await f.text()), f.name);
  } catch (e) {
    errorBox.textContent = `${f.name}: ${e.message}`;
  }
});

if (location.protocol !== 'file:') load(new URLSearchParams(location.search).get('data') ?? './data.json');
