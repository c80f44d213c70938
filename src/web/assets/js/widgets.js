// Small shared pieces of the pages: status badges, key/value lists, error boxes.

import { h } from './dom.js';

export function statusBadge(status) {
  return h('span', { class: ['badge', `status-${String(status || 'UNKNOWN').toUpperCase()}`], 'data-status': status }, status || '?');
}

export function dl(pairs) {
  const el = h('dl', { class: 'kv' });
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    el.append(h('dt', k), h('dd', v === null || v === '' ? '—' : v));
  }
  return el;
}

// An ApiError (or any error) as a message box; validation errors list their fields.
export function errorBox(err) {
  const box = h('div', { class: 'error', role: 'alert' }, h('strong', err.code ? `${err.code}: ` : 'Error: '), err.message || String(err));
  const fields = err.fieldErrors || [];
  if (fields.length) {
    box.append(h('ul', fields.map((f) => h('li', h('code', f.path || '(body)'), ' ', f.message))));
  }
  if (err.code === 'AUTHORIZATION_ERROR' && err.details?.requiredScope) {
    box.append(h('p', `This key lacks the "${err.details.requiredScope}" scope.`));
  }
  return box;
}

export function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', title), ...children);
}
