// The report page's two kinds of chart, as plain SVG: horizontal grouped bars (one group per case,
// one bar per impl, its value written at its end; a row that failed its check drawn as a marked slot
// where its bar would be; target ticks and badges only on the groups that have a target), and a
// log-log roofline plot. A classic script (so the page also works opened as a file), loaded before
// report.js, which calls these functions. No dependencies.

const NS = 'http://www.w3.org/2000/svg';
let chartCount = 0;

/** An HTML element, or an SVG one for tags written `svg:name`. */
function el(tag, attrs = {}, ...children) {
  const e = tag.startsWith('svg:') ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}

/** About three significant digits; '-' for what is not a number. */
const fmt = (x) => {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : a === 0 ? '0' : x.toPrecision(2);
};

/** Ticks of a log axis: powers of ten, with 2 and 5 between them when the range is short. */
function logTicks(lo, hi) {
  const out = [];
  const decades = Math.log10(hi / lo);
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of decades <= 2 ? [1, 2, 5] : [1]) {
      const t = m * 10 ** e;
      if (t >= lo * 0.999 && t <= hi * 1.001) out.push(t);
    }
  }
  return out;
}

/** A scale over [lo, hi] onto [x0, x1]: log (both ends rounded out to powers of ten) or linear from 0. */
function scale(values, x0, x1, log) {
  const pos = values.filter((v) => Number.isFinite(v) && (log ? v > 0 : true));
  if (log) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...pos)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...pos) * 1.0001));
    const f = (v) => x0 + ((x1 - x0) * Math.log10(Math.max(v, lo) / lo)) / Math.log10(hi / lo);
    return { f, lo, hi, ticks: logTicks(lo, hi) };
  }
  const max = Math.max(...pos, 0) * 1.05 || 1;
  const step = 10 ** Math.floor(Math.log10(max));
  const hi = [1, 2, 2.5, 5, 10].map((m) => m * step).find((v) => v >= max);
  const f = (v) => x0 + ((x1 - x0) * Math.max(0, v)) / hi;
  return { f, lo: 0, hi, ticks: [0, 0.25, 0.5, 0.75, 1].map((k) => k * hi) };
}

/**
 * Horizontal grouped bars. `groups`: [{ label, sub, badges: [{ text, kind }], targets: [{ value,
 * label, series }], bars: [{ series, value, color, title, failed: { status, text } }] }]. A target
 * with `series` is ticked on that bar only; without, across the group.
 */
function barChart({ groups, unit, log, width = 1160, labelW = 250, refLines = [] }) {
  const rowH = 16, headH = 20, gapH = 8, top = 26, right = 86;
  const x0 = labelW, x1 = width - right;
  const values = groups.flatMap((g) => [...g.bars.map((b) => b.value), ...g.targets.map((t) => t.value)]).filter((v) => v !== null && v > 0);
  if (!values.length) return el('p', { class: 'caption' }, 'No timed rows.');
  const s = scale([...values, ...refLines.map((r) => r.value)], x0, x1, log);
  const height = top + groups.reduce((h, g) => h + headH + g.bars.length * rowH + gapH, 0) + 4;
  const svg = el('svg:svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': unit });
  const hatchId = `hatch-${++chartCount}`;
  for (const t of s.ticks) {
    svg.append(el('svg:line', { x1: s.f(t), x2: s.f(t), y1: top - 4, y2: height - 4, stroke: '#eaeef2' }));
    svg.append(el('svg:text', { x: s.f(t), y: top - 8, 'text-anchor': 'middle', class: 'axis' }, fmt(t)));
  }
  svg.append(el('svg:text', { x: 4, y: top - 8, class: 'axis' }, `${unit}${log ? ' (log scale)' : ''}`));
  for (const r of refLines) {
    svg.append(el('svg:line', { x1: s.f(r.value), x2: s.f(r.value), y1: top - 4, y2: height - 4, stroke: '#57606a', 'stroke-dasharray': '2 3' }));
  }
  let y = top;
  for (const g of groups) {
    const gy = y;
    const box = el('svg:g', { class: 'case', 'data-case': g.label });
    svg.append(box);
    const head = el('svg:text', { x: 4, y: y + 14, class: 'group' }, g.label);
    if (g.sub) head.append(el('svg:tspan', { class: 'muted', dx: 8 }, g.sub));
    box.append(head);
    // Badges start at the bars; placeBadges() moves them past the case's name once it is laid out.
    const badges = el('svg:g', { class: 'badges', 'data-x': x0 });
    let bx = x0;
    for (const b of g.badges ?? []) {
      const w = 6.6 * b.text.length + 14;
      badges.append(el('svg:rect', { x: bx, y: y + 3, width: w, height: 15, rx: 7, fill: b.kind === 'met' ? '#1a7f37' : b.kind === 'missed' ? '#cf222e' : '#8c959f', class: `badge-${b.kind}` }));
      badges.append(el('svg:text', { x: bx + w / 2, y: y + 14, 'text-anchor': 'middle', style: 'fill:#fff;font-size:11px;font-weight:600' }, b.text));
      bx += w + 6;
    }
    if (g.badges?.length) box.append(badges);
    y += headH;
    const tickOf = (b) => (g.targets ?? []).find((t) => t.series === b.series || t.series === undefined);
    for (const b of g.bars) {
      box.append(el('svg:text', { x: x0 - 8, y: y + 12, 'text-anchor': 'end' }, b.series));
      if (b.failed) {
        // Where the bar would be: a hatched slot and the status, so a failed peer does not vanish.
        const w = Math.min(140, x1 - x0);
        const slot = el('svg:rect', { x: x0, y: y + 2, width: w, height: rowH - 4, fill: `url(#${hatchId})`, stroke: '#cf222e', class: 'failed' });
        slot.append(el('svg:title', {}, b.title));
        box.append(slot, el('svg:text', { x: x0 + w + 6, y: y + 12, class: 'bad' }, b.failed.text));
      } else if (b.value !== null && b.value > 0) {
        const xe = s.f(b.value);
        const bar = el('svg:rect', { x: x0, y: y + 2, width: Math.max(1, xe - x0), height: rowH - 4, fill: b.color, class: 'bar' });
        bar.append(el('svg:title', {}, b.title));
        const inside = xe > x1 - 40;
        // A target tick just past the bar's end would cross its value: write the value after the tick.
        const tick = tickOf(b);
        const xt = tick && s.f(tick.value) > xe && s.f(tick.value) < xe + 40 ? s.f(tick.value) + 3 : xe;
        box.append(bar, el('svg:text', { x: inside ? xe - 4 : xt + 4, y: y + 12, 'text-anchor': inside ? 'end' : 'start', class: 'value', style: inside ? 'fill:#fff' : '' }, fmt(b.value)));
      } else {
        box.append(el('svg:text', { x: x0 + 4, y: y + 12, class: 'muted' }, 'not timed'));
      }
      y += rowH;
    }
    for (const t of g.targets ?? []) {
      const i = t.series === undefined ? -1 : g.bars.findIndex((b) => b.series === t.series);
      if (i >= 0 && g.bars[i].failed) continue; // no target on a row that has no value
      const ty0 = i < 0 ? gy + headH : gy + headH + i * rowH, ty1 = i < 0 ? y : ty0 + rowH;
      const line = el('svg:line', { x1: s.f(t.value), x2: s.f(t.value), y1: ty0, y2: ty1, stroke: '#cf222e', 'stroke-width': 2, 'stroke-dasharray': '4 2', class: 'target' });
      line.append(el('svg:title', {}, t.label));
      box.append(line);
    }
    y += gapH;
  }
  svg.prepend(hatch(hatchId));
  return svg;
}

/** Moves each case's badges just past its name and shape, measured now that the page is laid out. */
function placeBadges(root) {
  for (const g of root.querySelectorAll('g.case')) {
    const head = g.querySelector('text.group'), badges = g.querySelector('g.badges');
    if (!head || !badges) continue;
    const box = head.getBBox();
    const dx = Math.max(0, box.x + box.width + 12 - Number(badges.getAttribute('data-x')));
    badges.setAttribute('transform', `translate(${dx.toFixed(1)} 0)`);
  }
}

function hatch(id) {
  const defs = el('svg:defs');
  const p = el('svg:pattern', { id, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
  p.append(el('svg:rect', { width: 6, height: 6, fill: '#ffebe9' }), el('svg:line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#cf222e', 'stroke-width': 2 }));
  defs.append(p);
  return defs;
}

const MARKS = {
  circle: (x, y, c) => el('svg:circle', { cx: x, cy: y, r: 5, fill: c }),
  square: (x, y, c) => el('svg:rect', { x: x - 4.5, y: y - 4.5, width: 9, height: 9, fill: c }),
  triangle: (x, y, c) => el('svg:path', { d: `M${x},${y - 6} L${x + 5.5},${y + 4} L${x - 5.5},${y + 4} Z`, fill: c }),
  diamond: (x, y, c) => el('svg:path', { d: `M${x},${y - 6} L${x + 6},${y} L${x},${y + 6} L${x - 6},${y} Z`, fill: c }),
};

/**
 * Arithmetic intensity (flop/byte) against GFLOP/s, log-log: the copy-bandwidth roof (GFLOP/s =
 * GB/s x intensity) up to the ridge, the fma roof after it, and one mark per point
 * ({ x, y, color, mark, title }).
 */
function rooflinePlot({ fmaGflops, copyGbps, points, width = 1000, height = 460 }) {
  const left = 70, right = 24, top = 16, bottom = 44;
  const ridge = fmaGflops / copyGbps;
  const xs = [...points.map((p) => p.x), ridge / 4, ridge * 4];
  const ys = [...points.map((p) => p.y), fmaGflops * 1.5];
  const sx = scale(xs, left, width - right, true);
  const syRaw = scale(ys, 0, height - top - bottom, true);
  const sy = { ...syRaw, f: (v) => height - bottom - syRaw.f(v) };
  const svg = el('svg:svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'roofline', class: 'roofline' });
  for (const t of sx.ticks) {
    svg.append(el('svg:line', { x1: sx.f(t), x2: sx.f(t), y1: top, y2: height - bottom, stroke: '#eaeef2' }));
    svg.append(el('svg:text', { x: sx.f(t), y: height - bottom + 16, 'text-anchor': 'middle', class: 'axis' }, fmt(t)));
  }
  for (const t of sy.ticks) {
    svg.append(el('svg:line', { x1: left, x2: width - right, y1: sy.f(t), y2: sy.f(t), stroke: '#eaeef2' }));
    svg.append(el('svg:text', { x: left - 6, y: sy.f(t) + 4, 'text-anchor': 'end', class: 'axis' }, fmt(t)));
  }
  svg.append(el('svg:text', { x: (left + width - right) / 2, y: height - 8, 'text-anchor': 'middle', class: 'axis' }, 'arithmetic intensity (flop per byte moved, log)'));
  svg.append(el('svg:text', { x: 14, y: (top + height - bottom) / 2, 'text-anchor': 'middle', class: 'axis', transform: `rotate(-90 14 ${(top + height - bottom) / 2})` }, 'GFLOP/s (log)'));
  const xLo = sx.lo, xHi = sx.hi;
  const mem = el('svg:line', { x1: sx.f(xLo), y1: sy.f(copyGbps * xLo), x2: sx.f(ridge), y2: sy.f(fmaGflops), stroke: '#0969da', 'stroke-width': 2, class: 'roof-copy' });
  const fma = el('svg:line', { x1: sx.f(ridge), y1: sy.f(fmaGflops), x2: sx.f(xHi), y2: sy.f(fmaGflops), stroke: '#8250df', 'stroke-width': 2, class: 'roof-fma' });
  svg.append(mem, fma);
  svg.append(el('svg:text', { x: sx.f(xHi) - 4, y: sy.f(fmaGflops) - 6, 'text-anchor': 'end', style: 'fill:#8250df' }, `fma peak ${fmt(fmaGflops)} GFLOP/s`));
  // The copy roof's label runs along it, from its left end.
  const angle = (Math.atan2(sy.f(fmaGflops) - sy.f(copyGbps * xLo), sx.f(ridge) - sx.f(xLo)) * 180) / Math.PI;
  const lx = sx.f(xLo) + 8, ly = sy.f(copyGbps * xLo) + (8 * (sy.f(fmaGflops) - sy.f(copyGbps * xLo))) / (sx.f(ridge) - sx.f(xLo)) - 6;
  svg.append(el('svg:text', { x: lx, y: ly, transform: `rotate(${angle.toFixed(1)} ${lx} ${ly})`, style: 'fill:#0969da' }, `copy bandwidth ${fmt(copyGbps)} GB/s`));
  for (const p of points) {
    const m = MARKS[p.mark](sx.f(p.x), sy.f(p.y), p.color);
    m.setAttribute('class', 'point');
    m.setAttribute('stroke', '#fff');
    m.append(el('svg:title', {}, p.title));
    svg.append(m);
  }
  return svg;
}

/** Colour swatches (and marks) with their names. */
function legend(items) {
  const p = el('div', { class: 'legend' });
  for (const { label, color } of items) p.append(el('span', {}, el('i', { style: `background:${color}` }), label));
  return p;
}
