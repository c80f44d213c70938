// A confirmation dialog (the <dialog id="confirm-dialog"> of index.html) with an optional reason.

import { byId } from './dom.js';

export function confirmDialog({ title, message, ok = 'OK', cancel = 'Cancel', reason = false }) {
  const dialog = byId('confirm-dialog');
  byId('confirm-title').textContent = title;
  byId('confirm-message').textContent = message;
  byId('confirm-ok').textContent = ok;
  byId('confirm-cancel').textContent = cancel;
  byId('confirm-reason-label').hidden = !reason;
  const input = byId('confirm-reason');
  input.value = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      resolve({ ok: dialog.returnValue === 'ok', reason: input.value.trim() });
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}
