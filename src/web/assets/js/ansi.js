// ANSI escape sequences in agent output: SGR colours become classes of text segments (never
// markup: each segment is a text node in a <span>), every other escape is dropped. The state
// (colours set and not reset) carries over from one piece of text to the next, as on a terminal.

// ESC [ params final-byte; OSC (ESC ] … BEL or ESC \); other two-byte escapes.
const ESCAPE = /\x1b(?:\[([0-9;?]*)([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;

// Text without any escape sequence or other control character but tab and newline.
export function stripAnsi(text) {
  return String(text ?? '').replace(ESCAPE, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

export class AnsiState {
  constructor() { this.reset(); }

  reset() {
    this.fg = null;  // 0-15 | 'r,g,b' (256-colour and truecolour map to rgb) | null
    this.bg = null;
    this.bold = false; this.dim = false; this.italic = false; this.underline = false; this.inverse = false;
  }

  apply(params) {
    const p = params === '' ? [0] : params.split(';').map((x) => (x === '' ? 0 : Number(x)));
    for (let i = 0; i < p.length; i++) {
      const n = p[i];
      if (n === 0) this.reset();
      else if (n === 1) this.bold = true;
      else if (n === 2) this.dim = true;
      else if (n === 3) this.italic = true;
      else if (n === 4) this.underline = true;
      else if (n === 7) this.inverse = true;
      else if (n === 22) { this.bold = false; this.dim = false; }
      else if (n === 23) this.italic = false;
      else if (n === 24) this.underline = false;
      else if (n === 27) this.inverse = false;
      else if (n >= 30 && n <= 37) this.fg = n - 30;
      else if (n >= 90 && n <= 97) this.fg = n - 90 + 8;
      else if (n === 39) this.fg = null;
      else if (n >= 40 && n <= 47) this.bg = n - 40;
      else if (n >= 100 && n <= 107) this.bg = n - 100 + 8;
      else if (n === 49) this.bg = null;
      else if ((n === 38 || n === 48) && p[i + 1] === 5) {
        const c = p[i + 2] ?? 0;
        if (n === 38) this.fg = c < 16 ? c : rgb256(c); else this.bg = c < 16 ? c : rgb256(c);
        i += 2;
      } else if ((n === 38 || n === 48) && p[i + 1] === 2) {
        const c = `${p[i + 2] ?? 0},${p[i + 3] ?? 0},${p[i + 4] ?? 0}`;
        if (n === 38) this.fg = c; else this.bg = c;
        i += 4;
      }
    }
  }

  // Classes of the current state ('' = plain); rgb colours in `style` (data-only: set through
  // the CSSOM, which the page's CSP allows, never as a style attribute string).
  classes() {
    const c = [];
    if (typeof this.fg === 'number') c.push(`a-fg${this.fg}`);
    if (typeof this.bg === 'number') c.push(`a-bg${this.bg}`);
    if (this.bold) c.push('a-b');
    if (this.dim) c.push('a-d');
    if (this.italic) c.push('a-i');
    if (this.underline) c.push('a-u');
    if (this.inverse) c.push('a-inv');
    return c.join(' ');
  }
}

function rgb256(c) {
  if (c >= 232) { const v = 8 + (c - 232) * 10; return `${v},${v},${v}`; }
  const i = c - 16;
  const step = (x) => (x === 0 ? 0 : 55 + x * 40);
  return `${step(Math.floor(i / 36))},${step(Math.floor(i / 6) % 6)},${step(i % 6)}`;
}

// Splits `text` (one line, no newline) into [{text, cls, fg, bg}] under `state`, which it
// updates. A trailing incomplete escape is returned as `rest` for the next piece.
export function ansiSegments(text, state) {
  const out = [];
  let last = 0;
  let rest = '';
  const incomplete = /\x1b(?:\[[0-9;?]*)?$/.exec(text);
  if (incomplete) { rest = text.slice(incomplete.index); text = text.slice(0, incomplete.index); }
  const push = (s) => {
    const clean = s.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
    if (!clean) return;
    out.push({ text: clean, cls: state.classes(), fg: typeof state.fg === 'string' ? state.fg : null, bg: typeof state.bg === 'string' ? state.bg : null });
  };
  ESCAPE.lastIndex = 0;
  for (let m; (m = ESCAPE.exec(text));) {
    push(text.slice(last, m.index));
    if (m[2] === 'm') state.apply(m[1] || '');
    last = ESCAPE.lastIndex;
  }
  push(text.slice(last));
  return { segments: out, rest };
}
