// A run's `verify` check (the dispatch's check command) and its `verification`: a pass/fail
// badge, how it ended and, in a fold, the tail of its output (text, never markup). Shown on the
// run page and on the group page.

import { h } from './dom.js';
import { TERMINAL } from './format.js';

// A run's verification: a pass/fail badge and, in a fold, the tail of the check's output.
// Also used by the run page. `run.verify` set but no verification: not run (yet).
export function verifyView(run) {
  const v = run.verification;
  if (!v) {
    return h('span', { class: 'verify-none muted', title: run.verify || '' }, run.verify ? (TERMINAL.has(run.status) ? 'not run' : 'pending') : '—');
  }
  const how = v.exitCode !== null && v.exitCode !== undefined ? `exit code ${v.exitCode}` : v.timedOut ? 'timed out' : 'stopped';
  return h('span', { class: 'verify' },
    h('span', { class: ['badge', v.passed ? 'verify-pass' : 'verify-fail'], 'data-verify': v.passed ? 'passed' : 'failed', title: run.verify || '' },
      v.passed ? 'passed' : 'failed'),
    h('span', { class: 'muted small' }, ` ${how}`),
    v.tail ? h('details', { class: 'verify-tail' }, h('summary', 'output'), h('pre', v.tail)) : null);
}
