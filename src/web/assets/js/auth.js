// The API key: kept in localStorage, sent only as `Authorization: Bearer <key>` (api.js, sse.js),
// never put in a URL. When the API answers 401 the page asks for a key with a modal dialog;
// several requests failing at once share one prompt.

import { byId } from './dom.js';

const STORAGE_KEY = 'outpost.apiKey';
const listeners = new Set();
let pending = null;

export function getKey() {
  try { return localStorage.getItem(STORAGE_KEY) || ''; } catch { return ''; }
}

function notify() {
  for (const fn of listeners) fn(getKey());
}

export function setKey(key) {
  try { localStorage.setItem(STORAGE_KEY, key); } catch { /* storage disabled: key lost on reload */ }
  notify();
}

export function signOut() {
  try { localStorage.removeItem(STORAGE_KEY); } catch { /* nothing stored */ }
  notify();
}

export function onKeyChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// Once dismissed, the page stops asking (polling would reopen it every few seconds) until the
// user navigates or asks for the dialog: calls resolve null at once meanwhile.
let dismissed = false;

export function rearmPrompt() {
  dismissed = false;
}

// Shows the key dialog; resolves with the key entered, or null when dismissed. `explicit`: the
// user asked for it (a button), so it opens even after a dismissal.
export function promptForKey(message, { explicit = false } = {}) {
  if (pending) return pending;
  if (dismissed && !explicit) return Promise.resolve(null);
  const dialog = byId('key-dialog');
  const input = byId('key-input');
  byId('key-message').textContent = message || 'This server needs an API key.';
  input.value = '';
  pending = new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const key = dialog.returnValue === 'ok' ? input.value.trim() : '';
      input.value = '';
      if (key) setKey(key);
      dismissed = !key;
      pending = null;
      resolve(key || null);
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    input.focus();
  });
  return pending;
}
