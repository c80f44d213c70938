// #/groups/<id> — a fan-out group side by side (GET /groups/{id}): per run its agent, status,
// duration, usage and cost, files changed, +/−, whether its `verify` check passed (with the
// output's tail), its promotion and a "Create pull request" button (the run page's promote),
// and its diff, expanded under its row. Refreshed every 3 s while a run is still going.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { fmtCost, fmtDuration, fmtInt, shortId, TERMINAL } from '../format.js';
import { every } from '../poll.js';
import { promotable, promoteRun } from '../promote.js';
import { verifyView } from '../verify.js';
import { errorBox, statusBadge } from '../widgets.js';
import { loadDiff } from './run_results.js';

const REFRESH_MS = 3000;
const COLUMNS = ['Run', 'Agent', 'Status', 'Duration', 'Tokens', 'Cost', 'Files', '+/−', 'Verify', 'Promotion', 'Diff'];

class GroupPage {
  constructor(root, id, signal) {
    this.root = root;
    this.id = id;
    this.signal = signal;
    this.group = null;
    this.open = new Set();        // run ids whose diff is expanded
    this.diffs = new Map();       // run id -> its diff element (kept across refreshes)
    this.actionErrors = new Map(); // run id -> the error of its last promote
    this.els = {
      head: h('div', { class: 'page-head' }),
      summary: h('p', { class: 'muted', id: 'group-summary' }),
      error: h('div'),
      body: h('tbody', { id: 'group-body' }),
    };
  }

  async start() {
    replace(this.root,
      h('p', h('a', { href: '#/runs' }, '← Runs')),
      this.els.head, this.els.summary, this.els.error,
      h('div', { class: 'group-wrap' },
        h('table', { class: 'group', id: 'group-table' },
          h('thead', h('tr', COLUMNS.map((t) => h('th', t)))), this.els.body)));
    replace(this.els.head,
      h('h1', 'Group ', h('span', { class: 'mono' }, this.id)),
      h('a', { href: `#/runs?group=${encodeURIComponent(this.id)}`, class: 'button', id: 'group-list' }, 'As a list'));
    await this.refresh();
    every(REFRESH_MS, async () => { if (this.going()) await this.refresh(); }, this.signal);
  }

  going() {
    return !this.group || this.group.runs.some((r) => !TERMINAL.has(r.status));
  }

  async refresh() {
    try {
      const { data } = await api(`/groups/${encodeURIComponent(this.id)}`, { signal: this.signal });
      this.group = data;
      replace(this.els.error);
      this.render();
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(this.els.error, errorBox(e));
    }
  }

  render() {
    const runs = this.group.runs;
    const done = runs.filter((r) => TERMINAL.has(r.status)).length;
    const checked = runs.filter((r) => r.verification);
    const passed = checked.filter((r) => r.verification.passed).length;
    replace(this.els.summary, `${runs.length} runs, ${done} finished`,
      checked.length ? ` · verify passed in ${passed} of ${checked.length}` : '');
    replace(this.els.body, runs.map((r) => this.rows(r)));
  }

  rows(r) {
    // One element per cell: at phone width a cell is a grid of its label and this.
    const cell = (label, ...content) => h('td', { 'data-label': label }, h('div', { class: 'cell' }, ...content));
    const open = this.open.has(r.runId);
    const diffButton = h('button', { type: 'button', class: 'diff-toggle', 'aria-expanded': String(open), disabled: !r.filesChanged },
      r.filesChanged ? (open ? 'Hide diff' : 'Show diff') : 'No diff');
    diffButton.addEventListener('click', () => this.toggleDiff(r));
    const row = h('tr', { class: 'group-run', dataset: { runId: r.runId, agent: r.agent } },
      cell('Run', h('a', { href: `#/runs/${encodeURIComponent(r.runId)}`, class: 'mono', title: r.runId }, shortId(r.runId))),
      cell('Agent', r.agent, h('div', { class: 'muted small' }, r.modelId)),
      cell('Status', statusBadge(r.status), r.reason && r.reason !== 'succeeded' ? h('div', { class: 'muted small' }, r.reason) : null),
      cell('Duration', fmtDuration(r.durationMs)),
      cell('Tokens', r.usage ? `${fmtInt(r.usage.inputTokens)} in · ${fmtInt(r.usage.outputTokens)} out` : '—'),
      cell('Cost', fmtCost(r.usage?.costUsd)),
      cell('Files', String(r.filesChanged ?? 0)),
      cell('+/−', h('span', { class: 'add' }, `+${r.insertions ?? 0}`), ' ', h('span', { class: 'del' }, `−${r.deletions ?? 0}`)),
      cell('Verify', verifyView(r)),
      cell('Promotion', this.promotionView(r)),
      cell('Diff', diffButton));
    if (!open) return row;
    let diff = this.diffs.get(r.runId);
    if (!diff) {
      diff = h('div', { class: 'group-diff' }, h('p', { class: 'muted' }, 'Loading the diff…'));
      this.diffs.set(r.runId, diff);
      this.loadRunDiff(r.runId, diff);
    }
    return [row, h('tr', { class: 'group-diff-row', dataset: { diffOf: r.runId } }, h('td', { colspan: COLUMNS.length }, diff))];
  }

  promotionView(r) {
    const shown = [];
    const p = r.promotion;
    if (p?.prUrl) {
      shown.push(h('a', { href: p.prUrl, target: '_blank', rel: 'noopener noreferrer', class: 'promotion-pr' }, `Pull request #${p.prNumber}`));
    } else if (p?.branch) {
      shown.push(h('span', { class: 'mono small' }, p.branch));
    }
    if (promotable(r) && !p?.prUrl) {
      const button = h('button', { type: 'button', class: 'promote-button' }, 'Create pull request');
      button.addEventListener('click', () => this.promote(r, button));
      shown.push(button);
    }
    const err = this.actionErrors.get(r.runId);
    if (err) shown.push(errorBox(err));
    return shown.length ? shown : '—';
  }

  async promote(r, button) {
    this.actionErrors.delete(r.runId);
    try {
      const promotion = await promoteRun(r, () => {
        button.disabled = true;
        button.textContent = 'Creating…';
      });
      if (!promotion) return;
      r.promotion = promotion;
      this.render();
    } catch (e) {
      this.actionErrors.set(r.runId, e);
      this.render();
      this.refresh();  // a pushed branch may be recorded although the pull request failed
    }
  }

  toggleDiff(r) {
    if (this.open.has(r.runId)) this.open.delete(r.runId);
    else this.open.add(r.runId);
    this.render();
  }

  // The run's diff.patch through its signed artifact URL (as on the run page).
  async loadRunDiff(runId, slot) {
    try {
      const { data } = await api(`/runs/${encodeURIComponent(runId)}/artifacts`, { signal: this.signal });
      const patch = (data.artifacts || []).find((a) => a.name === 'diff.patch');
      if (!patch) {
        replace(slot, h('p', { class: 'muted' }, data.artifactsStatus === 'pending' ? 'The artifacts are still being stored: try again in a moment.' : 'This run has no diff.patch.'));
        if (data.artifactsStatus === 'pending') this.diffs.delete(runId);
        return;
      }
      await loadDiff(patch, slot, this.signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.diffs.delete(runId);
      replace(slot, errorBox(e));
    }
  }
}

export async function renderGroup(root, { params, signal }) {
  await new GroupPage(root, params.id, signal).start();
}
