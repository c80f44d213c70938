// #/runs/<id> — one run: status, phase and reason; the phase timeline; the live output from
// GET /runs/{id}/events (resumed with Last-Event-ID after a drop); changes and the diff; usage
// and cost; the artifacts with their expiring links; a cancel button; for a completed run with
// changes, a "Create pull request" button (POST /runs/{id}/promote) and its result.

import { stripAnsi } from '../ansi.js';
import { api } from '../api.js';
import { confirmDialog } from '../confirm.js';
import { promotable, promoteRun } from '../promote.js';
import { h, replace, safeUrl } from '../dom.js';
import { fmtBytes, fmtCost, fmtDuration, fmtInt, fmtTime, TERMINAL } from '../format.js';
import { OutputView } from '../output.js';
import { every } from '../poll.js';
import { followEvents } from '../sse.js';
import { phaseSegments, renderTimeline } from '../timeline.js';
import { verifyView } from '../verify.js';
import { dl, errorBox, section, statusBadge } from '../widgets.js';
import { artifactsView, changesView, downloadFullLog } from './run_results.js';

const MAX_DOM_LINES = 5000;

function decodeOutput(ev) {
  if (ev.encoding !== 'base64') return ev.data || '';
  const bytes = Uint8Array.from(atob(ev.data || ''), (c) => c.charCodeAt(0));
  return new TextDecoder('utf-8').decode(bytes);  // invalid sequences become U+FFFD
}

function truncatedText(ev) {
  if (ev.agentEventsDropped !== undefined) return `${fmtInt(ev.agentEventsDropped)} agent events were dropped (over the event budget).`;
  if (ev.droppedBytes === 0) return `${ev.stream}: nothing dropped; its last ${fmtBytes(ev.tailBytes)} (after the cap) follow.`;
  if (ev.droppedBytes !== undefined) return `${ev.stream}: ${fmtBytes(ev.droppedBytes)} of output dropped here; the last ${fmtBytes(ev.tailBytes)} follow.`;
  return `${ev.stream || 'output'} reached the output cap (${fmtBytes(ev.limit)}): ${ev.message || 'the middle is dropped, the tail is kept'}.`;
}

class RunPage {
  constructor(root, id, signal, anchor = '') {
    this.root = root;
    this.id = id;
    this.signal = signal;
    this.anchor = anchor;
    this.run = null;
    this.marks = [];
    this.artifacts = null;
    this.diffLoaded = false;
    this.liveUsage = null;
    this.els = {
      head: h('div', { class: 'run-head' }),
      error: h('div'),  // loading the run failed; cleared by the next successful refresh
      // what the user's own action (cancel) got back: kept until the next action, so the
      // periodic refresh does not wipe e.g. a 403 the moment after it is shown
      actionError: h('div', { id: 'run-action-error' }),
      meta: h('div'),
      task: h('pre', { class: 'task-text', id: 'run-task' }),
      timeline: h('div'),
      state: h('span', { class: 'stream-state', id: 'stream-state' }, 'connecting'),
      hiddenNote: h('div', { class: 'hidden-note', id: 'output-hidden', hidden: true }),
      // The truncation notices stay here too: in the log they may scroll out of the kept lines.
      truncation: h('ul', { class: 'truncation', id: 'output-truncated', hidden: true }),
      changes: h('div', { id: 'changes' }, h('p', { class: 'muted' }, 'Known when the run ends.')),
      usage: h('div', { id: 'usage' }),
      artifacts: h('div', { id: 'artifacts' }, h('p', { class: 'muted' }, 'Stored when the run ends.')),
    };
    this.output = new OutputView({ maxLines: MAX_DOM_LINES, onTrim: (n) => this.showHidden(n), linkBase: `#/runs/${encodeURIComponent(id)}` });
    this.output.el.id = 'run-output';
  }

  // The log's tools: search (next/previous, the match count), timestamps, follow, collapse.
  logTools() {
    const out = this.output;
    const search = h('input', { type: 'search', id: 'log-search', placeholder: 'Search the log', 'aria-label': 'search the log', size: 16 });
    const count = h('span', { class: 'search-count muted small', id: 'search-count', 'aria-live': 'polite' });
    const show = ({ count: n, current }) => { count.textContent = search.value ? (n ? `${current + 1} of ${n}` : 'no match') : ''; };
    search.addEventListener('input', () => show(out.setSearch(search.value)));
    search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); show(out.step(e.shiftKey ? -1 : 1)); } });
    const prev = h('button', { type: 'button', id: 'search-prev', title: 'previous match (Shift+Enter)', 'aria-label': 'previous match' }, '↑');
    const next = h('button', { type: 'button', id: 'search-next', title: 'next match (Enter)', 'aria-label': 'next match' }, '↓');
    prev.addEventListener('click', () => show(out.step(-1)));
    next.addEventListener('click', () => show(out.step(1)));
    const ts = h('input', { type: 'checkbox', id: 'show-ts' });
    ts.addEventListener('change', () => out.el.classList.toggle('show-ts', ts.checked));
    const follow = h('button', { type: 'button', id: 'follow-toggle', 'aria-pressed': 'true' }, 'Following');
    const showFollow = (on) => { follow.setAttribute('aria-pressed', String(on)); follow.textContent = on ? 'Following' : 'Follow'; };
    follow.addEventListener('click', () => out.setFollow(!out.follow));
    out.onFollow = showFollow;
    const expand = h('button', { type: 'button', id: 'expand-tools', title: 'open or close every tool call' }, 'Expand tools');
    expand.addEventListener('click', () => {
      const groups = [...out.el.querySelectorAll('details.group')];
      const open = !groups.every((g) => g.open);
      for (const g of groups) g.open = open;
      expand.textContent = open ? 'Collapse tools' : 'Expand tools';
    });
    return h('div', { class: 'log-tools' },
      h('span', { class: 'search' }, search, prev, next, count),
      h('label', { class: 'toggle' }, ts, 'timestamps'), expand, follow);
  }

  layout() {
    // "JSON": the agent's own JSON event lines on stdout (what the events above them show).
    const labels = { notice: 'events', json: 'JSON' };
    const toggles = ['stdout', 'stderr', 'notice', 'json'].map((k) => {
      const box = h('input', { type: 'checkbox', checked: true, id: `show-${k}` });
      box.addEventListener('change', () => this.output.el.classList.toggle(`hide-${k}`, !box.checked));
      return h('label', { class: `toggle ${k}` }, box, labels[k] || k);
    });
    const download = h('button', { type: 'button', id: 'download-log' }, 'Download full log');
    download.addEventListener('click', () => downloadFullLog(this.id, download).catch((e) => replace(this.els.actionError, errorBox(e))));
    replace(this.root,
      h('p', h('a', { href: '#/runs' }, '← Runs')),
      this.els.head, this.els.actionError, this.els.error,
      h('div', { class: 'grid2' }, section('Run', this.els.meta), section('Task', this.els.task)),
      section('Timeline', this.els.timeline),
      h('section', { class: 'panel' },
        h('div', { class: 'panel-head' }, h('h2', 'Output'), this.els.state, h('span', { class: 'spacer' }), ...toggles, download),
        this.logTools(),
        this.els.truncation, this.els.hiddenNote, this.output.el),
      h('div', { class: 'grid2' }, section('Usage and cost', this.els.usage), section('Artifacts', this.els.artifacts)),
      section('Changes', this.els.changes));
  }

  async start() {
    this.layout();
    const line = /^L(\d+)$/.exec(this.anchor);
    if (line) this.output.gotoLine(Number(line[1]));
    const onAnchor = (e) => { const m = /^L(\d+)$/.exec(e.detail); if (m) this.output.gotoLine(Number(m[1])); };
    window.addEventListener('outpost:anchor', onAnchor);
    this.signal.addEventListener('abort', () => window.removeEventListener('outpost:anchor', onAnchor), { once: true });
    await this.refresh();
    if (!this.run) return;
    this.follow();
    every(5000, async () => { if (!this.terminal()) await this.refresh(); }, this.signal);
  }

  terminal() {
    return this.run && TERMINAL.has(this.run.status);
  }

  async refresh() {
    try {
      const { data } = await api(`/runs/${encodeURIComponent(this.id)}`, { signal: this.signal });
      this.run = data;
      replace(this.els.error);
      this.render();
      if (this.terminal()) this.loadResults();
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(this.els.error, errorBox(e));
    }
  }

  scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refresh(), 200);
  }

  render() {
    const r = this.run;
    const cancel = h('button', { type: 'button', class: 'danger', id: 'cancel-button', disabled: this.terminal() || !!r.cancelRequestedAt }, r.cancelRequestedAt && !this.terminal() ? 'Cancelling…' : 'Cancel run');
    cancel.addEventListener('click', () => this.cancel(cancel));
    replace(this.els.head,
      h('h1', 'Run ', h('span', { class: 'mono' }, r.runId)),
      h('div', { class: 'run-status' },
        h('span', { id: 'run-status' }, statusBadge(r.status)),
        h('span', { class: 'phase', id: 'run-phase' }, `phase: ${r.phase}`),
        r.reason ? h('span', { class: 'reason', id: 'run-reason' }, `reason: ${r.reason}`) : null,
        h('progress', { max: 100, value: r.progress ?? 0, title: `${r.progress ?? 0}%` }),
        this.terminal() ? null : cancel,
        this.promotionView()));
    replace(this.els.meta, dl([
      ['Agent', r.agent], ['Model', r.modelId], ['Repo', r.repo], ['Branch', r.branch],
      ['Created', fmtTime(r.createdAt)], ['Started', fmtTime(r.startedAt)], ['Ended', fmtTime(r.endedAt)],
      ['Duration', fmtDuration(r.durationMs)], ['Exit code', r.exitCode ?? null],
      ['Timeout', `${r.timeoutSeconds} s${r.inactivityTimeoutSeconds ? `, ${r.inactivityTimeoutSeconds} s idle` : ''}`],
      ['Network', r.network?.policy], ['Tags', Object.entries(r.tags || {}).map(([k, v]) => `${k}=${v}`).join(', ') || null],
      ['Error', r.errorMessage ?? undefined], ['Cancel reason', r.cancelReason ?? undefined],
      ['Final message', r.finalMessage === undefined || r.finalMessage === null ? undefined : stripAnsi(r.finalMessage)],
      ['Verify', r.verify ? verifyView(r) : undefined],
      ['Group', r.groupId ? h('a', { href: `#/groups/${encodeURIComponent(r.groupId)}`, id: 'run-group' }, 'compare the runs of its group') : undefined],
    ]));
    this.els.task.textContent = r.task;
    this.renderTimeline();
    this.renderUsage();
  }

  renderTimeline() {
    if (!this.run) return;
    const marks = [...this.marks];
    if (this.terminal() && !marks.some((m) => m.phase === 'done') && this.run.endedAt) {
      marks.push({ phase: 'done', t: new Date(this.run.endedAt).getTime(), status: this.run.status });
    }
    replace(this.els.timeline, renderTimeline(phaseSegments(this.run.createdAt, marks, Date.now())));
  }

  renderUsage() {
    const u = this.run.usage || this.liveUsage;
    if (!u) { replace(this.els.usage, h('p', { class: 'muted' }, 'No usage reported (yet).')); return; }
    replace(this.els.usage, dl([['Input tokens', fmtInt(u.inputTokens)], ['Output tokens', fmtInt(u.outputTokens)],
      ['Cost', u.costUsd === undefined ? '—' : fmtCost(u.costUsd)]]));
  }

  showHidden(n) {
    const links = (this.artifacts || []).filter((a) => a.name === 'output.log' || a.name === 'stderr.log')
      .map((a) => [' ', h('a', { href: safeUrl(a.url), target: '_blank', rel: 'noopener noreferrer' }, a.name)]);
    replace(this.els.hiddenNote, `${fmtInt(n)} earlier lines are not shown (the page keeps the last ${fmtInt(MAX_DOM_LINES)}). The whole output: “Download full log”`,
      links.length ? [' or', ...links] : '', '.');
    this.els.hiddenNote.hidden = false;
  }

  follow() {
    const stateText = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', ended: 'ended', error: 'stream error' };
    followEvents(`/runs/${encodeURIComponent(this.id)}/events`, {
      signal: this.signal,
      onState: (st, d) => {
        this.els.state.textContent = stateText[st] + (d.message && st !== 'live' ? ` (${d.message})` : '');
        this.els.state.dataset.state = st;
        this.els.state.dataset.lastId = d.lastId || '';
      },
      onEvent: (ev) => this.onEvent(ev),
    });
    every(1000, async () => { if (!this.terminal()) this.renderTimeline(); }, this.signal);
  }

  onEvent({ event, json }) {
    const ev = json || {};
    const ts = new Date(ev.ts).getTime();
    switch (event) {
      case 'output': this.output.append(ev.stream, decodeOutput(ev), ev.ts); break;
      case 'truncated':
        this.output.notice('truncated', truncatedText(ev), ev.ts);
        this.els.truncation.append(h('li', truncatedText(ev)));
        this.els.truncation.hidden = false;
        break;
      case 'agent_message': this.output.notice('agent', `agent: ${stripAnsi(ev.text)}`, ev.ts); break;
      case 'tool_call': this.output.toolCall(ev); break;
      case 'tool_result': this.output.toolResult(ev); break;
      case 'error':
        if (ev.retrying) {
          const n = ev.attempt ? ` ${ev.attempt}${ev.maxAttempts ? `/${ev.maxAttempts}` : ''}` : '';
          const wait = ev.delayMs ? ` in ${fmtDuration(ev.delayMs)}` : '';
          this.output.notice('retry', `retry${n}${wait}: ${stripAnsi(ev.message)}`, ev.ts);
        } else if (ev.source === 'network') {
          this.output.notice('network', `network: ${ev.message}`, ev.ts);
        } else {
          this.output.notice('error', `error: ${stripAnsi(ev.message)}`, ev.ts);
        }
        break;
      case 'usage':
        this.liveUsage = { inputTokens: ev.inputTokens, outputTokens: ev.outputTokens };
        if (this.run && !this.run.usage) this.renderUsage();
        break;
      case 'artifact': this.output.notice('artifact', `artifact: ${ev.name} (${fmtBytes(ev.sizeBytes)})`, ev.ts); break;
      case 'status':
      case 'phase':
        if (ev.phase) this.marks.push({ phase: ev.phase, t: ts, status: ev.status });
        if (event === 'status' && TERMINAL.has(ev.status)) {
          this.output.notice('status', `${ev.status}${ev.reason ? ` (${ev.reason})` : ''}${ev.exitCode !== undefined && ev.exitCode !== null ? `, exit code ${ev.exitCode}` : ''}${ev.message ? `: ${ev.message}` : ''}`, ev.ts);
        }
        this.renderTimeline();
        this.scheduleRefresh();
        break;
      case 'end':
        this.output.flush();
        this.scheduleRefresh();
        break;
      default: break;
    }
  }

  // The promotion of a completed run with changes: its pull request (or branch), and the button
  // that opens one. Nothing for other runs.
  promotionView() {
    const r = this.run;
    if (!promotable(r)) return null;
    const p = r.promotion;
    const shown = [];
    if (p?.prUrl) {
      shown.push(h('a', { href: safeUrl(p.prUrl), target: '_blank', rel: 'noopener noreferrer', id: 'promotion-pr' }, `Pull request #${p.prNumber}`));
    } else if (p?.branch) {
      shown.push(h('span', { class: 'mono', id: 'promotion-branch' }, `branch ${p.branch}`));
    }
    if (!p?.prUrl) {
      const button = h('button', { type: 'button', id: 'promote-button' }, 'Create pull request');
      button.addEventListener('click', () => this.promote(button));
      shown.push(button);
    }
    return h('span', { class: 'promotion', id: 'promotion' }, ...shown);
  }

  async promote(button) {
    try {
      const promotion = await promoteRun(this.run, () => {
        button.disabled = true;
        button.textContent = 'Creating…';
        replace(this.els.actionError);
      });
      if (!promotion) return;
      this.run = { ...this.run, promotion };
      this.render();
    } catch (e) {
      button.disabled = false;
      button.textContent = 'Create pull request';
      replace(this.els.actionError, errorBox(e));
      this.scheduleRefresh();  // a pushed branch may be recorded although the pull request failed
    }
  }

  async cancel(button) {
    const { ok, reason } = await confirmDialog({
      title: 'Cancel this run?',
      message: `Run ${this.id} (${this.run.agent}) will be stopped: its whole process tree is killed and it ends as CANCELLED.`,
      ok: 'Cancel run', cancel: 'Keep running', reason: true,
    });
    if (!ok) return;
    button.disabled = true;
    replace(this.els.actionError);
    try {
      await api(`/runs/${encodeURIComponent(this.id)}/cancel`, { method: 'POST', body: reason ? { reason } : {} });
      button.textContent = 'Cancelling…';
      this.scheduleRefresh();
    } catch (e) {
      button.disabled = false;
      replace(this.els.actionError, errorBox(e));
    }
  }

  // After the end: artifacts (their upload may lag the terminal status a little) and changes.
  async loadResults() {
    if (this.resultsLoading) return;
    this.resultsLoading = true;
    for (let attempt = 0; attempt < 15 && !this.signal.aborted; attempt++) {
      try {
        const { data } = await api(`/runs/${encodeURIComponent(this.id)}/artifacts`, { signal: this.signal });
        this.artifacts = data.artifacts || [];
        this.renderArtifacts(data);
        if (data.artifactsStatus !== 'pending') break;
      } catch (e) {
        if (e.name === 'AbortError') return;
        replace(this.els.artifacts, errorBox(e));
      }
      await new Promise((r) => setTimeout(r, 1000 + attempt * 500));
    }
    this.renderChanges();
    if (this.output.hidden) this.showHidden(this.output.hidden);
  }

  renderArtifacts(data) {
    replace(this.els.artifacts, artifactsView(data, () => { this.resultsLoading = false; this.loadResults(); }));
  }

  renderChanges() {
    replace(this.els.changes, changesView(this.run?.changes, this.artifacts || [], this.signal));
  }
}

export async function renderRun(root, { params, signal, anchor }) {
  await new RunPage(root, params.id, signal, anchor).start();
}
