// Repeats `fn` every `ms` while the page is visible, until `signal` aborts. One call at a time:
// a slow answer delays the next call instead of stacking requests.
export function every(ms, fn, signal) {
  let timer = 0;
  const tick = async () => {
    timer = 0;
    if (signal.aborted) return;
    if (!document.hidden) {
      try { await fn(); } catch (e) { if (e.name !== 'AbortError') console.warn(e); }
    }
    if (!signal.aborted) timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, ms);
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
}
