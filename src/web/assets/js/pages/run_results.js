// The results of a run on its page: the artifacts with their expiring links, the changes with
// the diff stat and the diff itself, and the whole log saved from the logs API.

import { api, qs } from '../api.js';
import { MAX_DIFF_BYTES, renderDiff } from '../diff.js';
import { h, replace, safeUrl } from '../dom.js';
import { fmtBytes, fmtInt, fmtTime, fmtUntil } from '../format.js';
import { dl } from '../widgets.js';

const link = (url, text) => h('a', { href: safeUrl(url), target: '_blank', rel: 'noopener noreferrer' }, text);

// data: GET /runs/{id}/artifacts; onRefresh: asks for freshly signed links.
export function artifactsView(data, onRefresh) {
  const refresh = h('button', { type: 'button', id: 'refresh-links', on: { click: onRefresh } }, 'Refresh links');
  const rows = (data.artifacts || []).map((a) => h('tr', { dataset: { artifact: a.name } },
    h('td', link(a.url, a.name)), h('td', a.type), h('td', fmtBytes(a.sizeBytes)), h('td', a.contentType),
    h('td', { title: fmtTime(a.expiresAt) }, `expires ${fmtUntil(a.expiresAt)}`)));
  const table = rows.length
    ? h('table', { class: 'artifacts' }, h('thead', h('tr', ['Name', 'Type', 'Size', 'Content type', 'Link'].map((t) => h('th', t)))),
      h('tbody', { id: 'artifacts-body' }, rows))
    : h('p', { class: 'muted' }, 'No artifacts.');
  return [
    data.artifactsStatus === 'pending' ? h('p', { class: 'muted' }, 'Uploading…') : null,
    data.missing?.length ? h('p', { class: 'error' }, `Missing: ${data.missing.join(', ')}`) : null,
    table,
    h('p', { class: 'muted small' }, 'Links are signed and expire; ', refresh, ' for fresh ones.'),
  ];
}

// changes: the run's `changes`; artifacts: its artifact list (for diff.patch).
export function changesView(c, artifacts, signal) {
  if (!c || c.kind === 'none') {
    return h('p', { class: 'muted', id: 'no-changes' }, c ? 'The run changed nothing.' : 'No repository, or no changes recorded.');
  }
  const stat = (c.diffStat || []).map((f) => h('tr', h('td', { class: 'mono' }, f.path),
    h('td', { class: 'add' }, f.insertions === null ? 'bin' : `+${f.insertions}`),
    h('td', { class: 'del' }, f.deletions === null ? '' : `-${f.deletions}`)));
  const diffSlot = h('div');
  const patch = artifacts.find((a) => a.name === 'diff.patch');
  if (patch) loadDiff(patch, diffSlot, signal);
  return [
    dl([['Kind', c.kind], ['Before', c.beforeSha], ['After', c.afterSha], ['Files', String((c.filesChanged || []).length)],
      ['Lines', `+${c.insertions ?? 0} −${c.deletions ?? 0}`], ['Redacted', c.redacted ? 'yes: a secret was removed from the diff' : undefined]]),
    stat.length ? h('table', { class: 'diffstat' }, h('tbody', stat)) : h('ul', (c.filesChanged || []).map((f) => h('li', { class: 'mono' }, f))),
    diffSlot,
  ];
}

export async function loadDiff(patch, slot, signal) {
  if (patch.sizeBytes > MAX_DIFF_BYTES) {
    replace(slot, h('p', `The diff is ${fmtBytes(patch.sizeBytes)}: open `, link(patch.url, 'diff.patch'), '.'));
    return;
  }
  try {
    // A signed URL is its own capability: no key goes with it. The Content-Security-Policy lets
    // the page connect to this origin only, so an S3 URL ends in the catch and is offered as a link.
    const res = await fetch(patch.url, { signal, credentials: 'omit', cache: 'no-store' });
    if (!res.ok) throw new Error(`${res.status}`);
    replace(slot, h('h3', 'Diff ', h('span', { class: 'muted small' }, '(', link(patch.url, 'diff.patch'), ')')), renderDiff(await res.text()));
  } catch (e) {
    if (e.name !== 'AbortError') replace(slot, h('p', 'The diff cannot be shown here (', e.message, '): open ', link(patch.url, 'diff.patch'), '.'));
  }
}

// Saves the whole output, read page by page from the logs API, as a file.
export async function downloadFullLog(runId, button) {
  const parts = [];
  let offset = 0;
  button.disabled = true;
  try {
    for (;;) {
      button.textContent = `Reading… ${fmtInt(parts.length)} lines`;
      const { data } = await api(`/runs/${encodeURIComponent(runId)}/logs${qs({ offset, limit: 1000 })}`);
      for (const e of data.entries) parts.push(e.stream === 'stderr' ? `[stderr] ${e.message}` : e.message);
      if (!data.hasMore || data.nextOffset === offset) break;
      offset = data.nextOffset;
    }
    const url = URL.createObjectURL(new Blob([parts.join('\n'), '\n'], { type: 'text/plain' }));
    const a = h('a', { download: `${runId}.log` });
    a.href = url;  // a blob: URL made here, not data
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } finally {
    button.disabled = false;
    button.textContent = 'Download full log';
  }
}

