// DOM building without HTML strings. Everything that comes from the server (task text, output,
// file names, error messages) is attacker-controlled: it only ever becomes a text node or a
// checked attribute value, never markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Attributes that may carry a URL: only relative URLs, same-page fragments and http(s) pass.
const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'xlink:href']);

export function safeUrl(url) {
  const s = String(url ?? '');
  if (s.startsWith('#') || (s.startsWith('/') && !s.startsWith('//'))) return s;
  try {
    const u = new URL(s, location.href);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
  } catch { /* not a URL */ }
  return '#';
}

function setAttr(el, name, value) {
  if (value === undefined || value === null || value === false) return;
  if (name.startsWith('on')) throw new Error('event handlers go through h(..., {on: {...}})');
  if (name === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
  else if (name === 'dataset') Object.assign(el.dataset, value);
  else if (URL_ATTRS.has(name)) el.setAttribute(name, safeUrl(value));
  else el.setAttribute(name, value === true ? '' : String(value));
}

function append(el, child) {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) { for (const c of child) append(el, c); return; }
  el.append(child instanceof Node ? child : document.createTextNode(String(child)));
}

function build(el, attrs, children) {
  if (attrs !== undefined && attrs !== null && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'text') el.textContent = v ?? '';
    else setAttr(el, k, v);
  }
  append(el, children);
  return el;
}

// h('a', {href: '#/runs', class: 'x', on: {click: fn}}, 'text', child, ...)
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// The same for SVG elements.
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

export function byId(id) {
  return document.getElementById(id);
}
