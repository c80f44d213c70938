// #/fleet — /health/fleet (agents' availability and capacity, replicas, reaper) every 5 s, and
// the SLO figures of /health/slo: the 1h/6h/12h/24h windows against the targets, and charts of
// the per-minute buckets. Without that route (404) the page says "SLO history unavailable".

import { api } from '../api.js';
import { timeChart } from '../charts.js';
import { h, replace } from '../dom.js';
import { fmtAgo, fmtDuration, fmtInt, fmtPct, fmtTime } from '../format.js';
import { every } from '../poll.js';
import { dl, errorBox, section } from '../widgets.js';

const WINDOWS = ['1h', '6h', '12h', '24h'];

function agentsTable(agents) {
  return h('table', { class: 'agents', id: 'fleet-agents' },
    h('thead', h('tr', ['Agent', 'Available', 'Model', 'Active', 'Queued', 'Capacity', 'Success rate', 'Avg duration'].map((t) => h('th', t)))),
    h('tbody', agents.map((a) => {
      const meter = h('meter', { min: 0, max: a.maxConcurrent, value: a.active, title: `${a.active} of ${a.maxConcurrent}` });
      return h('tr', { dataset: { agent: a.agent } },
        h('td', h('strong', a.agent)),
        h('td', a.available ? h('span', { class: 'ok' }, 'yes') : h('span', { class: 'bad', title: a.reason || '' }, 'no'),
          a.reason ? h('div', { class: 'muted small' }, a.reason) : null),
        h('td', { class: 'mono small' }, a.modelId),
        h('td', fmtInt(a.active)), h('td', fmtInt(a.queued)),
        h('td', meter, ` ${a.active}/${a.maxConcurrent}`),
        h('td', fmtPct(a.successRate, 0)),
        h('td', fmtDuration(a.avgDurationMs)));
    })));
}

// capacity.replicas: every replica with its state (serving, draining, left, lost); an older
// server has only replicas.live and replicas.lost.
function replicaRows(f) {
  if (Array.isArray(f.capacity?.replicas)) return f.capacity.replicas.map((r) => [r, r.state || (r.live ? 'live' : 'lost')]);
  const replicas = f.replicas || {};
  return [...(replicas.live || []).map((r) => [r, 'live']), ...(replicas.lost || []).map((r) => [r, 'lost'])];
}

const STATE_CLASS = { live: 'ok', serving: 'ok', draining: 'warn', left: 'muted', lost: 'bad' };

function replicasTable(rows) {
  return h('table', { class: 'replicas', id: 'fleet-replicas' },
    h('thead', h('tr', ['Replica', 'State', 'Host', 'Address', 'Version', 'Running', 'Capacity', 'Heartbeat'].map((t) => h('th', t)))),
    h('tbody', rows.map(([r, st]) => h('tr', { dataset: { replica: r.replicaId, state: st } },
      h('td', { class: 'mono' }, r.replicaId, r.self ? h('span', { class: 'muted' }, ' (this one)') : null),
      h('td', h('span', { class: STATE_CLASS[st] || 'bad' }, st)), h('td', r.host), h('td', { class: 'mono small' }, r.address),
      h('td', r.version), h('td', fmtInt(r.running)), h('td', fmtInt(r.capacity)),
      h('td', { title: fmtTime(r.heartbeatAt) }, fmtAgo(r.heartbeatAt))))));
}

function renderFleetReport(f) {
  const cap = f.capacity || {};
  const reaper = f.reaper || {};
  const byStatus = f.dispatches?.byStatus || {};
  return [
    h('div', { class: 'cards' },
      h('div', { class: ['card', f.healthy ? 'ok' : 'bad'], id: 'fleet-status' }, h('div', { class: 'big' }, f.status), h('div', 'fleet status')),
      // capacity is fleet-wide: every live replica, every tenant (the Runs page lists the key's
      // tenant's runs only); agents' active/queued are the answering replica's.
      h('div', { class: 'card', id: 'fleet-capacity' }, h('div', { class: 'big' }, `${fmtInt(cap.running)}/${fmtInt(cap.maxConcurrent)}`),
        h('div', 'running / capacity'), h('div', { class: 'muted small' }, 'all replicas, all tenants')),
      h('div', { class: 'card', id: 'fleet-queued' }, h('div', { class: 'big' }, fmtInt(cap.queued)), h('div', 'queued'), h('div', { class: 'muted small' }, 'all replicas, all tenants')),
      h('div', { class: 'card' }, h('div', { class: 'big' }, fmtInt(f.dispatches?.lastHourTotal)), h('div', 'dispatches, last hour'))),
    section('Agents (this replica)', agentsTable(f.agents || [])),
    h('div', { class: 'grid2' },
      section('Last hour by status (your tenant)', dl(Object.entries(byStatus).map(([k, v]) => [k, fmtInt(v)]))),
      section('Reaper', dl([
        ['Supervisor lost', fmtInt(reaper.supervisorLost)], ['Leftover processes killed', fmtInt(reaper.leftoverProcessesKilled)],
        ['Recovered on start', fmtInt(reaper.recoveredOnStart)], ['Adopted on start', fmtInt(reaper.adoptedOnStart)],
        ['Orphan runs reaped', fmtInt(reaper.orphanRunsReaped)], ['Orphan processes killed', fmtInt(reaper.orphanProcessesKilled)]]))),
    f.replicas ? section('Replicas', dl([['Lease', `${f.replicas.leaseSeconds} s`], ['Capacity (live)', fmtInt(f.replicas.capacity)],
      ['Running (live)', fmtInt(f.replicas.running)], ['Node-lost runs', fmtInt(f.replicas.nodeLostRuns)], ['Taken over', fmtInt(f.replicas.takenOver)]]),
    replicasTable(replicaRows(f))) : null,
    h('p', { class: 'muted small' }, `As of ${fmtTime(f.timestamp)}${f.error ? ` · store error: ${f.error}` : ''}`),
  ];
}

// One cell of the windows table: the value, marked ok/bad against its target.
function sloCell(value, target, higherIsBetter, fmt) {
  if (value === null || value === undefined) return h('td', { class: 'muted' }, '—');
  if (target === null || target === undefined) return h('td', fmt(value));
  const ok = higherIsBetter ? value >= target : value <= target;
  return h('td', { class: ok ? 'ok' : 'bad', title: `target ${higherIsBetter ? '≥' : '≤'} ${fmt(target)}` }, fmt(value));
}

function renderSlo(slo) {
  const t = slo.targets || {};
  const ms = (v) => `${Math.round(v)} ms`;
  const pct = (v) => fmtPct(v, 2);
  const table = h('table', { class: 'slo', id: 'slo-table' },
    h('thead', h('tr', ['Window', 'Requests', `Availability (≥ ${pct(t.availability)})`, `Error rate (≤ ${pct(t.errorRate)})`,
      `p95 latency (≤ ${ms(t.p95LatencyMs)})`, 'Dispatches', `Dispatch success (≥ ${pct(t.dispatchSuccessRate)})`].map((x) => h('th', x)))),
    h('tbody', WINDOWS.map((w) => {
      const x = slo.windows?.[w] || {};
      return h('tr', { dataset: { window: w } }, h('th', w), h('td', fmtInt(x.requests)),
        sloCell(x.availability, t.availability, true, pct), sloCell(x.errorRate, t.errorRate, false, pct),
        sloCell(x.p95LatencyMs, t.p95LatencyMs, false, ms), h('td', fmtInt(x.dispatches)),
        sloCell(x.dispatchSuccessRate, t.dispatchSuccessRate, true, pct));
    })));
  const series = slo.series || [];
  const times = series.map((p) => new Date(p.t).getTime());
  const charts = series.length === 0 ? h('p', { class: 'muted' }, 'No buckets yet.') : h('div', { class: 'charts', id: 'slo-charts' },
    timeChart({ id: 'chart-requests', title: `Requests and errors per ${slo.bucketSeconds || 60} s`, times, fmt: (v) => fmtInt(Math.round(v)), yMin: 0,
      series: [{ name: 'requests', cls: 's1', values: series.map((p) => p.requests) }, { name: 'errors', cls: 's2', values: series.map((p) => p.errors) }] }),
    timeChart({ id: 'chart-availability', title: 'Availability %', times, target: t.availability ?? null, fmt: (v) => `${v.toFixed(1)}`, yMax: 100,
      series: [{ name: 'availability', cls: 's1', values: series.map((p) => (p.requests ? 100 * (1 - p.errors / p.requests) : null)) }] }),
    timeChart({ id: 'chart-latency', title: 'p95 latency (ms)', times, target: t.p95LatencyMs ?? null, fmt: (v) => `${Math.round(v)}`, yMin: 0,
      series: [{ name: 'p95', cls: 's3', values: series.map((p) => p.p95LatencyMs ?? null) }] }),
    timeChart({ id: 'chart-runs', title: 'Runs finished and succeeded', times, fmt: (v) => fmtInt(Math.round(v)), yMin: 0,
      series: [{ name: 'finished', cls: 's1', values: series.map((p) => p.runsFinished) }, { name: 'succeeded', cls: 's4', values: series.map((p) => p.runsSucceeded) }] }));
  return [table, charts];
}

export async function renderFleet(root, { signal }) {
  const report = h('div', { id: 'fleet-report' }, h('p', { class: 'muted' }, 'Loading…'));
  const sloBox = h('div', { id: 'slo' }, h('p', { class: 'muted' }, 'Loading…'));
  replace(root, h('h1', 'Fleet'), report, section('SLOs', sloBox));
  const loadFleet = async () => {
    try {
      const { body } = await api('/health/fleet', { signal, okStatuses: [503] });
      replace(report, renderFleetReport(body));
    } catch (e) {
      if (e.name !== 'AbortError') replace(report, errorBox(e));
    }
  };
  const loadSlo = async () => {
    try {
      const { data } = await api('/health/slo', { signal });
      replace(sloBox, renderSlo(data));
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e.status === 404) replace(sloBox, h('p', { class: 'muted', id: 'slo-unavailable' }, 'SLO history unavailable (this server has no /health/slo).'));
      else replace(sloBox, errorBox(e));
    }
  };
  await Promise.all([loadFleet(), loadSlo()]);
  every(5000, loadFleet, signal);
  every(15000, loadSlo, signal);
}
