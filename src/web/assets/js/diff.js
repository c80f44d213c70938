// A unified diff (diff.patch) as text lines classed by kind; never parsed as markup.

import { h } from './dom.js';

export const MAX_DIFF_BYTES = 2 * 1024 * 1024;
const MAX_DIFF_LINES = 20000;

function kind(line) {
  if (line.startsWith('diff --git') || line.startsWith('index ')) return 'file';
  if (line.startsWith('+++') || line.startsWith('---')) return 'file';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return 'ctx';
}

export function renderDiff(text) {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const el = h('div', { class: 'diff', id: 'diff' });
  const frag = document.createDocumentFragment();
  for (const line of lines.slice(0, MAX_DIFF_LINES)) frag.append(h('div', { class: `dl ${kind(line)}` }, line || ' '));
  el.append(frag);
  if (lines.length > MAX_DIFF_LINES) el.append(h('div', { class: 'dl notice' }, `… ${lines.length - MAX_DIFF_LINES} more lines in diff.patch`));
  return el;
}
