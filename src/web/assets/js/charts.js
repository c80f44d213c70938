// Small time-series charts as inline SVG, drawn here (no library): one polyline per series,
// broken where a value is null, a dashed target line, the y range and the time range labelled.

import { h, s } from './dom.js';

const W = 340;
const H = 110;
const PAD = { l: 44, r: 8, t: 8, b: 18 };

function scale(v, lo, hi, a, b) {
  return hi === lo ? (a + b) / 2 : a + ((v - lo) / (hi - lo)) * (b - a);
}

function timeLabel(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

// times: [ms]; series: [{name, cls, values: [number|null]}]; target?: number; fmt: y formatter.
export function timeChart({ title, times, series, target = null, fmt = String, yMin = null, yMax = null, id }) {
  const vals = series.flatMap((x) => x.values).filter((v) => v !== null && v !== undefined);
  if (target !== null) vals.push(target);
  let lo = yMin ?? (vals.length ? Math.min(...vals) : 0);
  let hi = yMax ?? (vals.length ? Math.max(...vals) : 1);
  if (lo === hi) { lo = Math.min(lo, 0); hi = hi === 0 ? 1 : hi * 1.1; }
  const t0 = times[0] ?? 0;
  const t1 = times[times.length - 1] ?? 1;
  const x = (t) => scale(t, t0, t1, PAD.l, W - PAD.r);
  const y = (v) => scale(v, lo, hi, H - PAD.b, PAD.t);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title, id },
    s('title', title),
    s('line', { x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b, class: 'axis' }),
    s('line', { x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b, class: 'axis' }),
    s('text', { x: PAD.l - 4, y: PAD.t + 8, class: 'label end' }, fmt(hi)),
    s('text', { x: PAD.l - 4, y: H - PAD.b, class: 'label end' }, fmt(lo)));
  if (times.length) {
    svg.append(s('text', { x: PAD.l, y: H - 4, class: 'label' }, timeLabel(t0)),
      s('text', { x: W - PAD.r, y: H - 4, class: 'label end' }, timeLabel(t1)));
  }
  if (target !== null) {
    svg.append(s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(target), y2: y(target), class: 'target' },
      s('title', `target ${fmt(target)}`)));
  }
  for (const ser of series) {
    let run = [];
    const flush = () => {
      if (run.length === 1) svg.append(s('circle', { cx: run[0][0], cy: run[0][1], r: 1.8, class: `dot ${ser.cls}` }));
      else if (run.length > 1) svg.append(s('polyline', { points: run.map((p) => p.join(',')).join(' '), class: `series ${ser.cls}` }));
      run = [];
    };
    ser.values.forEach((v, i) => {
      if (v === null || v === undefined) { flush(); return; }
      run.push([x(times[i]).toFixed(1), y(v).toFixed(1)]);
    });
    flush();
  }
  const legend = h('div', { class: 'chart-legend' }, series.map((ser) => h('span', { class: `key ${ser.cls}` }, ser.name)),
    target !== null ? h('span', { class: 'key target' }, `target ${fmt(target)}`) : null);
  return h('figure', { class: 'chart-box' }, h('figcaption', title), svg, legend);
}
