// The dashboard's entry point: hash routing (#/runs, #/runs/<id>, #/fleet, #/dispatch), the
// navigation and the key indicator. Each page gets an AbortSignal that fires when the user
// leaves it, which stops its polling and its event stream.

import { byId, h, replace } from './dom.js';
import { getKey, onKeyChange, promptForKey, rearmPrompt, signOut } from './auth.js';
import { renderRuns } from './pages/runs.js';
import { renderRun } from './pages/run.js';
import { renderFleet } from './pages/fleet.js';
import { renderDispatch } from './pages/dispatch.js';
import { renderGroup } from './pages/group.js';

const routes = [
  { re: /^\/runs\/([0-9A-Za-z]+)$/, nav: 'runs', page: renderRun, keys: ['id'] },
  { re: /^\/runs$/, nav: 'runs', page: renderRuns, keys: [] },
  { re: /^\/groups\/([0-9A-Za-z]+)$/, nav: 'runs', page: renderGroup, keys: ['id'] },
  { re: /^\/fleet$/, nav: 'fleet', page: renderFleet, keys: [] },
  { re: /^\/dispatch$/, nav: 'dispatch', page: renderDispatch, keys: [] },
];

let current = null;

// '#/runs/ID?x=1#L120' -> path '/runs/ID', query x=1, anchor 'L120' (a line of the run's log).
export function parseHash(hash) {
  let raw = hash.replace(/^#/, '') || '/runs';
  const a = raw.indexOf('#');
  const anchor = a < 0 ? '' : raw.slice(a + 1);
  if (a >= 0) raw = raw.slice(0, a);
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return { path, query, anchor };
}

let currentPage = '';  // path and query of the page shown: an anchor change alone keeps it

function route() {
  const { path, query, anchor } = parseHash(location.hash);
  const page = `${path}?${query}`;
  if (current && page === currentPage) {  // the same page, another line: no reload
    window.dispatchEvent(new CustomEvent('outpost:anchor', { detail: anchor }));
    return;
  }
  currentPage = page;
  if (current) current.abort();
  rearmPrompt();
  current = new AbortController();
  const root = byId('app');
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
    for (const a of document.querySelectorAll('[data-nav]')) {
      a.classList.toggle('active', a.dataset.nav === r.nav);
    }
    replace(root);
    r.page(root, { params, query, anchor, signal: current.signal }).catch((e) => {
      if (e.name !== 'AbortError') replace(root, h('p', { class: 'error' }, `This page failed: ${e.message}`));
    });
    return;
  }
  replace(root, h('h1', 'Not found'), h('p', 'No page at ', h('code', path), '. ', h('a', { href: '#/runs' }, 'Back to the runs')));
}

// Renders the current page again (after a key change).
function reroute() {
  currentPage = '';
  route();
}

function renderAuth() {
  const el = byId('auth-state');
  if (getKey()) {
    replace(el, h('span', { class: 'key-set', title: 'an API key is stored in this browser' }, 'API key set'),
      h('button', { type: 'button', id: 'sign-out', on: { click: () => { signOut(); reroute(); } } }, 'Sign out'));
  } else {
    replace(el, h('button', { type: 'button', id: 'set-key', on: { click: async () => { if (await promptForKey('Enter an API key for this server.', { explicit: true })) reroute(); } } }, 'Set API key'));
  }
}

onKeyChange(renderAuth);
window.addEventListener('hashchange', route);
renderAuth();
route();
