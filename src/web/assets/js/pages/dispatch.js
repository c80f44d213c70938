// #/dispatch — the dispatch form. The server is the one validator: the form sends what was
// typed (numbers as numbers when they are numbers, otherwise as typed) and shows each of the
// server's details.errors[] beside the field its `path` names; errors of no field go on top.

import { api } from '../api.js';
import { byId, h, replace } from '../dom.js';
import { errorBox } from '../widgets.js';

const NUMBER_FIELDS = ['timeoutSeconds', 'inactivityTimeoutSeconds', 'resourceConstraints.maxMemoryMb',
  'resourceConstraints.maxCpuUnits', 'resourceConstraints.maxDiskGb'];

function field(name, label, control, hint) {
  control.id = control.id || `f-${name.replace('.', '-')}`;
  control.name = name;
  return h('div', { class: 'field', dataset: { field: name } },
    h('label', { for: control.id }, label), control,
    hint ? h('div', { class: 'hint' }, hint) : null,
    h('div', { class: 'field-error', id: `err-${name.replace('.', '-')}`, role: 'alert' }));
}

function select(options, value = '') {
  return h('select', {}, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

const text = (attrs = {}) => h('input', { type: 'text', autocomplete: 'off', ...attrs });

// The form's values -> the dispatch body. Empty fields are left out (server defaults apply).
export function bodyFrom(form) {
  const v = (name) => form.elements[name].value.trim();
  const body = {};
  const put = (path, value) => {
    if (value === '') return;
    const [a, b] = path.split('.');
    if (b) (body[a] ||= {})[b] = value; else body[a] = value;
  };
  for (const name of ['agent', 'modelId', 'repo', 'branch', 'context', 'network', 'idempotencyKey']) put(name, v(name));
  put('task', form.elements.task.value);  // the task verbatim, whitespace included
  for (const name of NUMBER_FIELDS) {
    const raw = v(name);
    put(name, raw !== '' && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw);
  }
  const tags = v('tags');
  if (tags) {
    body.tags = {};
    for (const line of tags.split(/[\n,]/).map((x) => x.trim()).filter(Boolean)) {
      const eq = line.indexOf('=');
      body.tags[eq < 0 ? line : line.slice(0, eq).trim()] = eq < 0 ? '' : line.slice(eq + 1).trim();
    }
  }
  const secrets = v('additionalSecrets');
  if (secrets) body.additionalSecrets = secrets.split(/[\s,]+/).filter(Boolean);
  return body;
}

// The form field for an error path: "timeoutSeconds", "resourceConstraints.maxMemoryMb",
// "tags.owner" (-> tags), "agent[1]" (-> agent); null when none matches.
export function fieldFor(form, path) {
  if (!path) return null;
  const candidates = [path, path.split('[')[0], path.split(/[.[]/)[0]];
  if (path === 'Idempotency-Key') candidates.push('idempotencyKey');
  for (const c of candidates) if (form.querySelector(`[data-field="${CSS.escape(c)}"]`)) return c;
  return null;
}

function showErrors(form, summary, err) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('.field.invalid')) el.classList.remove('invalid');
  const unplaced = [];
  for (const fe of err.fieldErrors) {
    const name = fieldFor(form, fe.path);
    if (!name) { unplaced.push(fe); continue; }
    const box = byId(`err-${name.replace('.', '-')}`);
    box.textContent = box.textContent ? `${box.textContent}; ${fe.message}` : fe.message;
    form.querySelector(`[data-field="${CSS.escape(name)}"]`).classList.add('invalid');
  }
  const placed = err.fieldErrors.length - unplaced.length;
  const message = placed ? `${err.message}: see the ${placed === 1 ? 'field' : `${placed} fields`} marked below.` : err.message;
  const shown = { message, code: err.code, fieldErrors: unplaced, details: err.details };
  replace(summary, errorBox(shown));
}

export async function renderDispatch(root, { signal, query }) {
  const agentSelect = h('select', {}, h('option', { value: '' }, 'loading agents…'));
  const summary = h('div', { id: 'dispatch-error' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'dispatch-submit' }, 'Dispatch');
  const form = h('form', { id: 'dispatch-form', class: 'dispatch', novalidate: true },
    h('div', { class: 'grid2' },
      field('agent', 'Agent', agentSelect),
      field('modelId', 'Model', text({ placeholder: 'the agent\'s default' }))),
    field('task', 'Task', h('textarea', { rows: 6, placeholder: 'What should the agent do?' }, query.get('task') || '')),
    h('div', { class: 'grid3' },
      field('repo', 'Repository', text({ placeholder: 'owner/repo or a git URL' })),
      field('branch', 'Branch', text({ placeholder: 'default branch' })),
      field('context', 'Context', select([['', 'default'], ['minimal', 'minimal'], ['standard', 'standard'], ['full', 'full']]))),
    h('div', { class: 'grid3' },
      field('timeoutSeconds', 'Timeout (s)', text({ inputmode: 'numeric', placeholder: '600' }), '1–86400'),
      field('inactivityTimeoutSeconds', 'Inactivity timeout (s)', text({ inputmode: 'numeric', placeholder: 'none' })),
      field('network', 'Network', select([['', 'default (per agent)'], ['none', 'none'], ['allowlist', 'allowlist'], ['host', 'host']]))),
    h('details', h('summary', 'More options'),
      h('div', { class: 'grid3' },
        field('resourceConstraints.maxMemoryMb', 'Memory (MB)', text({ inputmode: 'numeric' })),
        field('resourceConstraints.maxCpuUnits', 'CPU units', text({ inputmode: 'numeric' })),
        field('resourceConstraints.maxDiskGb', 'Disk (GB)', text({ inputmode: 'numeric' }))),
      h('div', { class: 'grid3' },
        field('tags', 'Tags', h('textarea', { rows: 2, placeholder: 'key=value, one per line' })),
        field('additionalSecrets', 'Secrets', text({ placeholder: 'NAME1, NAME2' })),
        field('idempotencyKey', 'Idempotency key', text()))),
    h('div', { class: 'buttons' }, submit));
  replace(root, h('h1', 'Dispatch a run'), summary, form);

  try {
    const { body } = await api('/health/fleet', { signal, okStatuses: [503] });
    const agents = body.agents || [];
    replace(agentSelect, agents.map((a) => h('option', { value: a.agent, dataset: { model: a.modelId } },
      a.available ? `${a.agent} (${a.active}/${a.maxConcurrent} busy)` : `${a.agent} — unavailable${a.reason ? `: ${a.reason}` : ''}`)));
    const firstAvailable = agents.find((a) => a.available);
    if (firstAvailable) agentSelect.value = firstAvailable.agent;
    const showModel = () => { form.elements.modelId.placeholder = agentSelect.selectedOptions[0]?.dataset.model || ''; };
    agentSelect.addEventListener('change', showModel);
    showModel();
  } catch (e) {
    if (e.name === 'AbortError') return;
    replace(agentSelect, h('option', { value: '' }, 'agents unknown'));
    replace(summary, errorBox(e));
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    replace(summary);
    try {
      const { data } = await api('/dispatch', { method: 'POST', body: bodyFrom(form), signal });
      location.hash = data.groupId ? `#/runs?group=${encodeURIComponent(data.groupId)}` : `#/runs/${encodeURIComponent(data.runId)}`;
    } catch (err) {
      if (err.name === 'AbortError') return;
      showErrors(form, summary, err);
    } finally {
      submit.disabled = false;
    }
  });
}
