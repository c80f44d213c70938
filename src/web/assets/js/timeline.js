// The phase timeline of a run, from its `status` and `phase` events: queued (from createdAt)
// → preparing → running → collecting → done, each segment as wide as the time it took.

import { h } from './dom.js';
import { fmtDuration, fmtTime } from './format.js';

// Marks [{phase, t (ms), status?}] -> segments [{phase, start, end, live}]; `now` ends the
// current (unfinished) phase. Pure, for the page and its tests.
export function phaseSegments(createdAt, marks, now) {
  const all = [{ phase: 'queued', t: new Date(createdAt).getTime() }, ...marks]
    .filter((m) => Number.isFinite(m.t))
    .sort((a, b) => a.t - b.t);
  const segs = [];
  for (const m of all) {
    const last = segs[segs.length - 1];
    if (last && last.phase === m.phase) continue;
    if (last) last.end = m.t;
    segs.push({ phase: m.phase, start: m.t, end: null, status: m.status });
  }
  for (const s of segs) {
    s.live = s.end === null && s.phase !== 'done';
    if (s.end === null) s.end = s.phase === 'done' ? s.start : Math.max(now, s.start);
  }
  return segs;
}

export function renderTimeline(segs) {
  const total = Math.max(1, segs.reduce((n, s) => n + (s.end - s.start), 0));
  const bar = h('div', { class: 'timeline-bar' });
  const legend = h('ol', { class: 'timeline-legend' });
  for (const s of segs) {
    const ms = s.end - s.start;
    if (s.phase !== 'done') {
      const seg = h('div', { class: ['seg', `phase-${s.phase}`, s.live && 'live'], title: `${s.phase}: ${fmtDuration(ms)}` });
      seg.style.flexGrow = String(Math.max(ms / total, 0.02));  // CSSOM, allowed by the CSP
      bar.append(seg);
    }
    legend.append(h('li', { class: `phase-${s.phase}`, dataset: { phase: s.phase } },
      h('span', { class: 'swatch' }), h('strong', s.phase === 'done' && s.status ? `done (${s.status})` : s.phase),
      ` ${fmtTime(new Date(s.start).toISOString())}`,
      s.phase !== 'done' ? ` · ${fmtDuration(ms)}${s.live ? ' so far' : ''}` : ''));
  }
  return h('div', { class: 'timeline', id: 'timeline' }, bar, legend);
}
