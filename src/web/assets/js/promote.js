// Promote (POST /runs/{id}/promote, mode "pr"): the confirmation and the call, shared by the run
// page and the group page. The caller shows the result (or the error) where the button was.

import { api } from './api.js';
import { confirmDialog } from './confirm.js';

// Whether a run (the run object, or a row of GET /groups/{id}) can be promoted: completed, with
// a repository and changes.
export function promotable(run) {
  const kind = typeof run.changes === 'string' ? run.changes : run.changes?.kind;
  return run.status === 'COMPLETED' && !!run.repo && (kind === 'committed' || kind === 'uncommitted');
}

// Asks, then pushes the run's changes to a new branch and opens a pull request. Returns the
// run's `promotion`, or null when the user declined; throws the ApiError of a refusal.
// onStart: called once confirmed, before the request (to disable the button).
export async function promoteRun(run, onStart = () => {}) {
  const { ok } = await confirmDialog({
    title: 'Create a pull request?',
    message: `The changes of run ${run.runId} (${run.agent}) are pushed to a new branch of ${run.repo} with your tenant's git token, and a pull request is opened for them.`,
    ok: 'Create pull request', cancel: 'Not now',
  });
  if (!ok) return null;
  onStart();
  const { data } = await api(`/runs/${encodeURIComponent(run.runId)}/promote`, { method: 'POST', body: { mode: 'pr' } });
  return data.promotion;
}
