// Draws a bench report (the JSON `npm run bench -- --json FILE` writes; bench/report.ts's
// BenchReport): where it ran, the targets with met/missed badges, throughput per suite, % of the
// adapter's roofline, seqgpu's speed against each peer, a roofline plot, then every row. Older
// reports without `env`, or with targets as plain text, draw with those parts marked as missing.
// A classic script, loaded after charts.js (barChart, placeBadges, rooflinePlot, legend, el, fmt),
// so that the page also works opened as a file, where Chrome loads no modules.

const COLORS = {
  seqgpu: '#0969da', 'cpu-reference': '#8c959f', 'tfjs-webgpu': '#d4760a', 'tfjs-webgpu:cell-loop': '#f0b35e',
  'ort-webgpu': '#1a7f37', 'ort-webgpu:composed': '#7fc98f',
};
const VARIANT_COLORS = ['#8250df', '#bf3989', '#0a7ea4', '#9a6700', '#57606a', '#cf222e', '#1b7c83', '#953800'];
const PEERS = [['tfjs-webgpu', 'TF.js'], ['tfjs-webgpu:cell-loop', 'TF.js cell loop'], ['ort-webgpu', 'ORT'], ['ort-webgpu:composed', 'ORT composed']];
const TFJS = ['tfjs-webgpu', 'tfjs-webgpu:cell-loop'];
/** The shader files behind each suite (every shader is joined after shaders/common.wgsl). */
const SHADERS = {
  matmul: ['matmul'], softmax: ['softmax'], layerNorm: ['layernorm'], attention: ['attention'], lstm: ['rnn'], gru: ['rnn'],
  model: ['embedding', 'matmul', 'layernorm', 'attention', 'rnn', 'elementwise', 'softmax', 'copy'],
};
const SUITE_MARK = { matmul: 'circle', attention: 'square', lstm: 'triangle', gru: 'diamond' };

const out = document.getElementById('out');
const errorBox = document.getElementById('error');

const isOk = (r) => (r.status ?? 'ok') === 'ok';
const isPeer = (impl) => PEERS.some(([p]) => p === impl);
const isVariant = (impl) => impl.startsWith('seqgpu:') || impl.startsWith('seqgpu/');
const uniq = (xs) => [...new Set(xs)];

function draw(report, source) {
  out.replaceChildren();
  errorBox.textContent = '';
  document.getElementById('source').textContent = source;
  const rows = report.rows;
  const variants = uniq(rows.map((r) => r.impl).filter(isVariant));
  const color = (impl) => COLORS[impl] ?? VARIANT_COLORS[Math.max(0, variants.indexOf(impl)) % VARIANT_COLORS.length];
  const ctx = { report, rows, color, engine: (name) => rows.find((r) => r.name === name && r.impl === 'seqgpu' && isOk(r)) };
  out.append(
    whereItRan(report),
    targetsSection(ctx),
    throughputSection(ctx),
    el('div', { class: 'pair' }, roofSection(ctx), ratioSection(ctx)),
    rooflineSection(ctx),
    notesSection(report),
    rowsSection(ctx),
  );
  placeBadges(out);
}

// ---- where it ran ----

function shaderLinks(files, env) {
  const span = el('span', { class: 'links' });
  const repo = env?.seqgpu?.repository, commit = env?.seqgpu?.commit;
  files.forEach((f, i) => {
    if (i) span.append(', ');
    // Relative to bench/report/: the shader of this checkout, from a server at the repository root or as a file.
    span.append(el('a', { href: `../../shaders/${f}.wgsl`, class: 'shader' }, `shaders/${f}.wgsl`));
    if (repo && commit) span.append(' (', el('a', { href: `${repo}/blob/${commit}/shaders/${f}.wgsl`, class: 'shader-at-commit' }, `at ${commit.slice(0, 7)}`), ')');
  });
  return span;
}

function whereItRan(report) {
  const { adapter, roofline: roof, env } = report;
  const sec = el('section', { id: 'env' });
  const facts = el('dl', { class: 'facts' });
  const fact = (k, v) => facts.append(el('dt', {}, k), el('dd', {}, v));
  fact('runtime', `${report.runtime} on ${adapter.vendor} ${adapter.architecture} (${adapter.description || 'no description'})`);
  fact('started', report.startedAt);
  const sg = env?.seqgpu;
  if (sg) {
    const commit = el('span', { id: 'commit' }, `seqgpu ${sg.version}`);
    if (sg.commit) {
      const short = sg.commit.slice(0, 10);
      commit.append(', commit ', sg.repository ? el('a', { href: `${sg.repository}/commit/${sg.commit}` }, short) : el('code', {}, short));
      if (sg.commitDate) commit.append(` of ${sg.commitDate}`);
      if (sg.dirty) commit.append(' (with uncommitted changes)');
    } else commit.append(' (no git commit recorded)');
    fact('seqgpu', commit);
  } else fact('seqgpu', 'not recorded in this report');
  fact('browser', el('span', { id: 'browser' }, env ? (env.browser ?? `none: run in Node ${env.node}`) : 'not recorded in this report'));
  if (env) fact('Node', env.node);
  for (const p of report.peers ?? []) fact(p.impl, p.error ? `failed to start: ${p.error}` : `${p.version} (${p.backend}) on ${p.adapter}`);
  fact('roofline', `fma ${fmt(roof.fmaGflops)} GFLOP/s, copy ${fmt(roof.copyGbps)} GB/s, empty dispatch ${fmt(roof.dispatchUs)} µs, ` +
    `submit + readback ${fmt(roof.roundTripMs)} ms${roof.busyRoundTripMs !== undefined ? `, a short busy dispatch submitted and awaited ${fmt(roof.busyRoundTripMs)} ms` : ''}` +
    ' (measured with ');
  facts.lastChild.append(el('a', { href: '../../shaders/roofline.wgsl', class: 'shader' }, 'shaders/roofline.wgsl'), ')');
  sec.append(facts);

  sec.append(el('h2', {}, 'Adapter features and limits'));
  const features = el('div', { class: 'chips', id: 'features' });
  for (const f of env?.features ?? []) features.append(el('span', { class: 'chip' }, f));
  if (!env) features.append('not recorded in this report');
  else if (!env.features.length) features.append('none');
  const limits = el('div', { class: 'limits', id: 'limits' });
  for (const [k, v] of Object.entries(env?.limits ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    limits.append(el('div', {}, el('span', {}, k), el('span', {}, v.toLocaleString('en-US'))));
  }
  sec.append(features, limits);
  return sec;
}

// ---- targets ----

/** A target's criteria, each met, missed or undecided, with the figures that decide it. */
function verdicts(name, target, ctx) {
  const s = ctx.engine(name);
  const out = [];
  if (!target || typeof target === 'string' || !s) return out;
  if (target.pctRoof !== undefined) {
    out.push({ what: `≥${target.pctRoof}% of roofline`, label: '% of roofline', value: s.pctRoof, text: `${fmt(s.pctRoof)}%`, met: s.pctRoof !== null ? s.pctRoof >= target.pctRoof : null, kind: 'roof' });
  }
  const ratio = (impls, label, want) => {
    if (want === undefined) return;
    const timed = ctx.rows.filter((r) => r.name === name && impls.includes(r.impl) && isOk(r));
    if (!timed.length) {
      const failed = ctx.rows.filter((r) => r.name === name && impls.includes(r.impl));
      out.push({ what: `≥${want}x ${label}`, label, text: failed.map((r) => `${r.impl} ${r.status}`).join(', ') || 'not run', met: null, kind: 'ratio' });
      return;
    }
    const best = timed.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
    const x = best.medianMs / s.medianMs;
    out.push({ what: `≥${want}x ${label}`, label, impl: best.impl, want, value: x, text: `${fmt(x)}x (${best.impl})`, met: x >= want, kind: 'ratio' });
  };
  ratio(TFJS, 'TF.js', target.vsTfjs);
  ratio(['ort-webgpu'], 'ORT', target.vsOrt);
  return out;
}

const badge = (v) => ({ text: `${v.what}: ${v.met === null ? 'n/a' : v.met ? 'met' : 'missed'}`, kind: v.met === null ? 'na' : v.met ? 'met' : 'missed' });

function targetsSection(ctx) {
  const targets = Object.entries(ctx.report.targets ?? {});
  const sec = el('section', { id: 'targets' }, el('h2', {}, 'Targets'));
  if (!targets.length) return sec.append(el('p', { class: 'caption' }, 'This run has no target cases.')), sec;
  const list = el('ul', { class: 'targets' });
  for (const [name, t] of targets) {
    const text = typeof t === 'string' ? t : t.text;
    const vs = verdicts(name, t, ctx);
    const s = ctx.engine(name);
    const li = el('li', { 'data-case': name }, el('strong', {}, text));
    for (const v of vs) li.append(el('span', { class: `badge ${badge(v).kind}` }, badge(v).text));
    const figures = s ? [`seqgpu ${fmt(s.medianMs)} ms`, ...vs.map((v) => `${v.label}: ${v.text}`)] : ['seqgpu not timed'];
    if (typeof t === 'string') figures.push('(this report has no criteria, only the text)');
    li.append(el('div', { class: 'figures' }, figures.join('; ')));
    list.append(li);
  }
  sec.append(list);
  return sec;
}

// ---- charts ----

function failedBar(r) {
  const err = r.maxAbsErr !== null && r.maxAbsErr !== undefined ? ` (max |err| ${Number(r.maxAbsErr).toExponential(1)})` : '';
  return { status: r.status, text: `${r.status.toUpperCase()}${err}` };
}

function barOf(r, value, unit, ctx) {
  const title = `${r.name} ${r.impl}: ${isOk(r) ? `${fmt(value)} ${unit}, median ${fmt(r.medianMs)} ms over ${r.runs} runs (${r.timing})` : `${r.status}: ${r.note ?? ''}`}`;
  return { series: r.impl, value: isOk(r) ? value : null, color: ctx.color(r.impl), title, failed: isOk(r) ? null : failedBar(r) };
}

function throughputSection(ctx) {
  const sec = el('section', { id: 'throughput' }, el('h2', {}, 'Throughput by case'));
  sec.append(el('p', { class: 'caption' }, 'Kernel time: GPU timestamps, or wall time less the measured round trip (the timing column of the rows). ' +
    'The CPU reference is the float64 interpreter every row is checked against. A hatched slot is a row that failed its check or could not run.'));
  const env = ctx.report.env;
  // Two columns of suites, balanced by height.
  const figures = el('div', { class: 'suites' });
  for (const suite of uniq(ctx.rows.map((r) => r.suite))) {
    const sr = ctx.rows.filter((r) => r.suite === suite);
    const flops = sr.some((r) => r.gflops !== null && r.gflops !== undefined);
    const unit = suite === 'model' ? 'items/s' : flops ? 'GFLOP/s' : 'GB/s';
    const value = (r) => (suite === 'model' ? 1000 / r.medianMs : flops ? r.gflops : r.gbps);
    const groups = uniq(sr.map((r) => r.name)).map((name) => {
      const rs = sr.filter((r) => r.name === name);
      return { label: name, sub: rs[0].shape, badges: [], targets: [], bars: rs.map((r) => barOf(r, value(r), unit, ctx)) };
    });
    const h = el('h3', { 'data-suite': suite }, suite, shaderLinks(SHADERS[suite] ?? [], env));
    const caption = suite === 'model' ? 'Runs per second: a run is one batch, step or forward pass (the rows say how many items).' : null;
    const chart = barChart({ groups, unit: suite === 'model' ? 'runs/s' : unit, log: true, width: 590, labelW: 150 });
    figures.append(el('figure', { class: 'suite' }, h, ...(caption ? [el('p', { class: 'caption' }, caption)] : []), chart));
  }
  sec.append(figures, legend(uniq(ctx.rows.map((r) => r.impl)).map((i) => ({ label: i, color: ctx.color(i) }))));
  return sec;
}

function roofSection(ctx) {
  const sec = el('section', { id: 'roof' }, el('h2', {}, "% of the adapter's roofline"));
  sec.append(el('p', { class: 'caption' }, 'Fma peak for matmul, attention and the recurrences; copy bandwidth for softmax and layerNorm. ' +
    'seqgpu\'s own choice and the peers (each variant\'s rate is in the throughput charts). Red dashes: a case\'s target, on the cases that have one.'));
  const shown = (r) => r.impl !== 'cpu-reference' && !isVariant(r.impl) && r.suite !== 'model';
  const names = uniq(ctx.rows.filter((r) => shown(r) && (r.pctRoof !== null || !isOk(r))).map((r) => r.name));
  const groups = names.map((name) => {
    const rs = ctx.rows.filter((r) => r.name === name && shown(r));
    const t = ctx.report.targets?.[name];
    const v = verdicts(name, t, ctx).filter((x) => x.kind === 'roof');
    return {
      label: name, sub: rs[0].shape, badges: v.map(badge),
      targets: typeof t === 'object' && t.pctRoof !== undefined ? [{ value: t.pctRoof, label: `target ≥${t.pctRoof}% (seqgpu)`, series: 'seqgpu' }] : [],
      bars: rs.map((r) => barOf(r, r.pctRoof, '% of roofline', ctx)),
    };
  });
  sec.append(barChart({ groups, unit: '% of roof', log: false, width: 590, labelW: 150 }));
  return sec;
}

function ratioSection(ctx) {
  const sec = el('section', { id: 'ratios' }, el('h2', {}, "seqgpu's speed against each peer"));
  sec.append(el('p', { class: 'caption' }, 'Peer wall time over seqgpu wall time per run, inputs written and outputs read back, same adapter, same run ' +
    '(above 1x: seqgpu faster; log scale, dotted at 1x). Red dashes: the target ratio, on the cases that have one.'));
  const names = uniq(ctx.rows.filter((r) => isPeer(r.impl) && ctx.engine(r.name)).map((r) => r.name));
  const groups = names.map((name) => {
    const s = ctx.engine(name);
    const t = ctx.report.targets?.[name];
    const v = verdicts(name, t, ctx).filter((x) => x.kind === 'ratio');
    const rs = PEERS.map(([p]) => ctx.rows.find((r) => r.name === name && r.impl === p)).filter(Boolean);
    const targets = [];
    if (typeof t === 'object') {
      for (const r of rs) {
        const want = TFJS.includes(r.impl) ? t.vsTfjs : r.impl === 'ort-webgpu' ? t.vsOrt : undefined;
        if (want !== undefined) targets.push({ value: want, label: `target ≥${want}x`, series: r.impl });
      }
    }
    return { label: name, sub: s.shape, badges: v.map(badge), targets, bars: rs.map((r) => barOf(r, isOk(r) ? r.medianMs / s.medianMs : null, 'x', ctx)) };
  });
  if (!groups.length) sec.append(el('p', { class: 'caption' }, 'No peer ran (a Node run has none).'));
  else sec.append(barChart({ groups, unit: 'x faster', log: true, refLines: [{ value: 1 }], width: 590, labelW: 150 }));
  return sec;
}

function rooflineSection(ctx) {
  const roof = ctx.report.roofline;
  const sec = el('section', { id: 'roofline' }, el('h2', {}, 'Roofline'));
  const kernel = ctx.rows.filter((r) => r.suite !== 'model' && r.impl !== 'cpu-reference');
  const plotted = kernel.filter((r) => isOk(r) && r.gflops > 0 && r.gbps > 0);
  const points = plotted.map((r) => ({
    x: r.gflops / r.gbps, y: r.gflops, color: ctx.color(r.impl), mark: SUITE_MARK[r.suite] ?? 'circle',
    title: `${r.name} ${r.impl}: ${fmt(r.gflops / r.gbps)} flop/byte, ${fmt(r.gflops)} GFLOP/s (${fmt(r.pctRoof)}% of roof)`,
  }));
  sec.append(el('p', { class: 'caption' }, `Every kernel row with a flop count, at its arithmetic intensity (its flops over the bytes it must move) ` +
    `and its GFLOP/s, under the adapter's two roofs measured in this run: copy bandwidth (${fmt(roof.copyGbps)} GB/s) and fma peak (${fmt(roof.fmaGflops)} GFLOP/s).`));
  sec.append(rooflinePlot({ fmaGflops: roof.fmaGflops, copyGbps: roof.copyGbps, points }));
  const marks = uniq(plotted.map((r) => r.suite)).map((s) => `${SUITE_MARK[s] ?? 'circle'}: ${s}`);
  sec.append(legend(uniq(plotted.map((r) => r.impl)).map((i) => ({ label: i, color: ctx.color(i) }))), el('p', { class: 'caption' }, `Marks: ${marks.join(', ')}.`));
  const noFlops = uniq(kernel.filter((r) => isOk(r) && !(r.gflops > 0)).map((r) => r.suite));
  const failed = kernel.filter((r) => !isOk(r)).length;
  const left = [];
  if (noFlops.length) left.push(`${noFlops.join(' and ')} count bytes but no flops, so they have no intensity: their % of copy bandwidth is in the chart above`);
  if (failed) left.push(`${failed} rows that failed their check or did not run`);
  if (left.length) sec.append(el('p', { class: 'caption', id: 'not-plotted' }, `Not plotted: ${left.join('; ')}.`));
  return sec;
}

// ---- notes and rows ----

function notesSection(report) {
  const notes = report.notes ?? [];
  const d = el('details', { id: 'notes' }, el('summary', {}, `Notes on this run (${notes.length})`));
  const ul = el('ul');
  for (const n of notes) ul.append(el('li', {}, n));
  d.append(notes.length ? ul : el('p', {}, 'none'));
  return d;
}

/** Short names for the timing column; the full one is the cell's tooltip. */
const TIMING = { 'gpu-timestamp': 'timestamps', 'wall-minus-roundtrip': 'wall − trip', none: '-' };

function rowsSection(ctx) {
  // Collapsed: the charts carry every value; the table is for the timings behind them and the notes.
  const counts = Object.entries(ctx.rows.reduce((n, r) => ({ ...n, [r.status ?? 'ok']: (n[r.status ?? 'ok'] ?? 0) + 1 }), {}));
  const sec = el('details', { id: 'rows' }, el('summary', {}, `All rows (${ctx.rows.length}: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}), with timings and notes`));
  const table = el('table');
  const head = ['impl', 'status', 'median ms', 'min–max', 'runs', 'GPU ms', 'floor ms', 'GFLOP/s', 'GB/s', '%roof', 'max|err|', 'timing', 'note'];
  table.append(el('tr', {}, ...head.map((h) => el('th', {}, h))));
  // One header line per case (its name, shape and suite), then its rows, as the charts group them.
  for (const name of uniq(ctx.rows.map((r) => r.name))) {
    const rs = ctx.rows.filter((r) => r.name === name);
    table.append(el('tr', { class: 'case' }, el('th', { colspan: head.length }, name, el('span', { class: 'muted' }, ` ${rs[0].shape} · ${rs[0].suite}`))));
    for (const r of rs) {
      const status = r.status ?? 'ok';
      const tr = el('tr', { class: status === 'ok' ? '' : status === 'skipped' ? 'skipped' : 'bad' });
      const cells = [r.impl, status, fmt(r.medianMs), r.minMs === null ? '-' : `${fmt(r.minMs)}–${fmt(r.maxMs)}`, r.runs, fmt(r.gpuMs), fmt(r.floorMs),
        fmt(r.gflops), fmt(r.gbps), fmt(r.pctRoof), r.maxAbsErr === null || r.maxAbsErr === undefined ? '-' : Number(r.maxAbsErr).toExponential(1)];
      for (const c of cells) tr.append(el('td', {}, String(c)));
      tr.append(el('td', { title: r.timing }, TIMING[r.timing] ?? r.timing));
      // The note: its first line, the rest behind a click, so the table keeps one line per row.
      const note = String(r.note ?? '');
      const first = note.split('\n')[0];
      const short = first.length > 60 ? `${first.slice(0, 57)}…` : first;
      tr.append(el('td', {}, note === short ? note : el('details', {}, el('summary', {}, short), el('div', { style: 'white-space:pre-wrap' }, note))));
      table.append(tr);
    }
  }
  sec.append(el('div', { class: 'scroll' }, table));
  return sec;
}

// ---- loading ----

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
