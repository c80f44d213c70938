// #/runs — the runs, newest first, filtered by every filter of GET /runs: status, agent, repo,
// tag, since (an ISO time, or an age like 30m, 24h, 7d) and group (kept in the hash so a
// filtered view can be linked and survives a reload), paged with the server's opaque cursor,
// refreshed every 3 s.

import { api, qs } from '../api.js';
import { h, replace } from '../dom.js';
import { fmtAgo, fmtCost, fmtDuration, fmtTime, shortId, STATUSES } from '../format.js';
import { every } from '../poll.js';
import { errorBox, statusBadge } from '../widgets.js';

const FILTERS = ['status', 'agent', 'repo', 'tag', 'since', 'group', 'limit'];
const AGE = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

// The `since` the API takes: an age ("24h") as the ISO time that long ago, anything else as is
// (the server checks it).
export function sinceParam(v, now = Date.now()) {
  const m = /^(\d+)\s*([smhd])$/.exec(String(v || '').trim());
  return m ? new Date(now - Number(m[1]) * AGE[m[2]]).toISOString() : v;
}
const PAGE_SIZE = 25;  // #/runs?limit=N overrides it (1-100, the server checks)
const REFRESH_MS = 3000;

function filtersFrom(query) {
  return Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || '']));
}

function filterForm(filters, agents) {
  const agentSelect = h('select', { name: 'agent', id: 'filter-agent' }, h('option', { value: '' }, 'any agent'),
    [...new Set([...agents, filters.agent].filter(Boolean))].map((a) => h('option', { value: a, selected: a === filters.agent }, a)));
  const form = h('form', { class: 'filters', id: 'run-filters' },
    h('label', 'Status ', h('select', { name: 'status', id: 'filter-status' }, h('option', { value: '' }, 'any'),
      STATUSES.map((st) => h('option', { value: st, selected: st === filters.status }, st)))),
    h('label', 'Agent ', agentSelect),
    h('label', 'Repo ', h('input', { name: 'repo', id: 'filter-repo', value: filters.repo, placeholder: 'owner/repo', size: 18 })),
    h('label', 'Tag ', h('input', { name: 'tag', id: 'filter-tag', value: filters.tag, placeholder: 'key:value', size: 14 })),
    h('label', 'Since ', h('input', { name: 'since', id: 'filter-since', value: filters.since, placeholder: '24h or 2026-01-13T00:00:00Z', size: 14, title: 'an age (30m, 24h, 7d) or an ISO 8601 time' })),
    h('label', 'Group ', h('input', { name: 'group', id: 'filter-group', value: filters.group, placeholder: 'group id', size: 14 })),
    filters.limit ? h('input', { type: 'hidden', name: 'limit', value: filters.limit }) : null,
    h('button', { type: 'submit', class: 'primary' }, 'Apply'),
    h('a', { href: '#/runs', class: 'button' }, 'Clear'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = Object.fromEntries([...new FormData(form).entries()].filter(([, v]) => v !== ''));
    location.hash = `#/runs${qs(data)}`;
  });
  return form;
}

function row(run) {
  const tags = Object.entries(run.tags || {}).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`));
  const task = run.task.length > 120 ? `${run.task.slice(0, 120)}…` : run.task;
  return h('tr', { dataset: { runId: run.runId } },
    h('td', h('a', { href: `#/runs/${encodeURIComponent(run.runId)}`, title: run.runId, class: 'mono' }, shortId(run.runId)),
      run.groupId ? h('div', h('a', { href: `#/groups/${encodeURIComponent(run.groupId)}`, class: 'small group-link', title: `fan-out group ${run.groupId}` }, 'group')) : null),
    h('td', statusBadge(run.status), run.reason && run.reason !== 'succeeded' ? h('span', { class: 'muted' }, ` ${run.reason}`) : null),
    h('td', run.agent, h('div', { class: 'muted small' }, run.modelId)),
    h('td', { class: 'task', title: run.task }, task),
    h('td', run.repo || h('span', { class: 'muted' }, '—'), run.branch ? h('div', { class: 'muted small' }, run.branch) : null),
    h('td', tags),
    h('td', { title: fmtTime(run.createdAt) }, fmtAgo(run.createdAt)),
    h('td', fmtDuration(run.durationMs)),
    h('td', fmtCost(run.usage?.costUsd)));
}

export async function renderRuns(root, { query, signal }) {
  const filters = filtersFrom(query);
  const state = { cursors: [''], page: 0 };  // cursors[i]: the cursor of page i
  const errorEl = h('div');
  const body = h('tbody', { id: 'runs-body' });
  const status = h('span', { class: 'muted small', id: 'runs-updated' });
  const newer = h('button', { type: 'button', id: 'page-newer', disabled: true }, '← Newer');
  const older = h('button', { type: 'button', id: 'page-older', disabled: true }, 'Older →');
  const formSlot = h('div', filterForm(filters, []));

  replace(root,
    h('div', { class: 'page-head' }, h('h1', 'Runs'),
      filters.group ? h('a', { href: `#/groups/${encodeURIComponent(filters.group)}`, class: 'button', id: 'compare-group' }, 'Compare side by side') : null,
      h('a', { href: '#/dispatch', class: 'button primary' }, 'New dispatch')),
    formSlot, errorEl,
    h('table', { class: 'runs' },
      h('thead', h('tr', ['Run', 'Status', 'Agent', 'Task', 'Repo', 'Tags', 'Created', 'Duration', 'Cost'].map((t) => h('th', t)))),
      body),
    h('div', { class: 'pager' }, newer, older, status));

  api('/health/fleet', { signal, okStatuses: [503] })
    .then(({ body: fleet }) => replace(formSlot, filterForm(filters, (fleet.agents || []).map((a) => a.agent))))
    .catch(() => { /* the agent filter stays free-form */ });

  const load = async () => {
    const params = { ...filters, since: sinceParam(filters.since), limit: filters.limit || PAGE_SIZE, cursor: state.cursors[state.page] };
    try {
      const { data } = await api(`/runs${qs(params)}`, { signal });
      replace(errorEl);
      const rows = data.items.map(row);
      replace(body, rows.length ? rows : h('tr', h('td', { colspan: 9, class: 'empty' }, 'No runs match.')));
      state.cursors[state.page + 1] = data.hasMore ? data.nextCursor : undefined;
      newer.disabled = state.page === 0;
      older.disabled = !data.hasMore;
      status.textContent = `page ${state.page + 1} · updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`;
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(errorEl, errorBox(e));
    }
  };
  newer.addEventListener('click', () => { state.page = Math.max(0, state.page - 1); load(); });
  older.addEventListener('click', () => { if (state.cursors[state.page + 1]) { state.page++; load(); } });
  await load();
  every(REFRESH_MS, load, signal);
}
