// The dashboard end to end: a real `outpost serve` (port 0, temp data dir, process runner) and
// Debian's chromium, headless, driven by playwright-core (pinned in package.json; it downloads no
// browser). Every step waits for a condition with a deadline; nothing sleeps and hopes.
//
//   dispatch form   a bad field shows the server's own message beside it and creates nothing;
//                   a shell task printing lines over seconds is dispatched from the form
//   run page        its lines (stdout and stderr apart) appear while the run is still RUNNING,
//                   then COMPLETED, the timeline and the artifacts; a long run is cancelled with
//                   the button (after a "keep running" that changes nothing) and shows CANCELLED
//   repository      changes, diff stat and the diff.patch artifact rendered (as text), usage;
//                   "Create pull request" shows the server's refusal, then a (routed) PR link
//   resume          the server is stopped and restarted mid-run: the page reconnects with
//                   Last-Event-ID and shows every line exactly once
//   100k lines      rendered with the DOM capped, the rest counted; output over the server's
//                   cap shows its `truncated` notice
//   escaping        task text and output with markup stay text
//   runs list       newest first, filters, a server error for a bad filter, cursor paging, a run
//                   dispatched elsewhere appears by the live refresh
//   fleet           per-agent capacity; /health/slo drawn from a fixture (90 minutes of buckets,
//                   a window under its target, buckets without latency: what a fresh server
//                   cannot show) and "SLO history unavailable" on a 404 (an older server)
//   API keys        (the part after open mode) tenants and keys made with `outpost admin` on the
//                   running server's store end open mode; the key prompt comes from the server's
//                   401, a wrong key is refused and the prompt stays, the right one lists its
//                   tenant's runs only; a dispatch from the form streams live with the key in the
//                   Authorization header; the fleet page draws the real /health/slo; a key
//                   without the `cancel` scope gets the server's 403 shown (and kept) while the
//                   run goes on; sign out returns to the prompt; no key in any requested URL
// Screenshots go to OUT_DIR (runs list, run page, fleet, fleet fixture, dispatch form, key
// prompt, refused cancel).
//
// Usage: node dashboard_test.mjs OUTPOST_BIN OUT_DIR. Exit 0 pass, 1 fail (a missing chromium or
// playwright-core is a failure too, naming it: install-deps.sh installs both), 2 usage.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LONG, OutpostServer, browserTest, processesOf, waitFor } from './harness.mjs';

const { outpostBin: OUTPOST_BIN, outDir: OUT_DIR, executablePath: CHROMIUM, chromium } =
  await browserTest('dashboard_test');

fs.mkdirSync(OUT_DIR, { recursive: true });
for (const f of fs.readdirSync(OUT_DIR)) if (f.endsWith('.png')) fs.rmSync(path.join(OUT_DIR, f));
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-dashboard-'));
const OUTPUT_CAP = 1 << 20;  // the server's output cap: the 100k-line run (589 kB) stays under it
const t0 = Date.now();
const timings = [];
const server = new OutpostServer({
  bin: OUTPOST_BIN,
  dataDir: path.join(WORK, 'data'),
  logFd: fs.openSync(path.join(OUT_DIR, 'server.log'), 'w'),
  env: { OUTPOST_LOG_LEVEL: 'info', OUTPOST_ALLOW_LOCAL_REPOS: '1', OUTPOST_LOCAL_REPO_ROOTS: WORK,
    OUTPOST_CANCEL_GRACE_SECONDS: '1',
    OUTPOST_MAX_OUTPUT_BYTES: String(OUTPUT_CAP) },
});
const runIds = server.runIds;
const call = (...args) => server.call(...args);
const dispatchApi = (...args) => server.dispatch(...args);
const runOf = (...args) => server.run(...args);

// ---- the browser ---------------------------------------------------------------------------

const problems = [];  // uncaught errors and CSP violations in the page
let context;
let page;

async function launch() {
  context = await chromium.launchPersistentContext(path.join(WORK, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync'],
    viewport: { width: 1280, height: 860 },
    locale: 'en-US',
    timeout: LONG,
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(LONG);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A 4xx answer the page handles (e.g. the 404 of /health/slo) is logged by Chromium too.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
}

async function shot(name, fullPage = false) {
  await page.screenshot({ path: path.join(OUT_DIR, `${name}.png`), fullPage });
}

const lineTexts = (cls) => page.$$eval(`#run-output .line.${cls}`, (els) => els.map((e) => e.textContent));
const statusShown = () => page.getAttribute('#run-status .badge', 'data-status');

async function waitStatus(status, timeout = LONG) {
  await page.waitForSelector(`#run-status .badge[data-status="${status}"]`, { timeout });
}

function runIdFromUrl() {
  const m = /#\/runs\/([0-9A-Z]{26})$/.exec(page.url());
  assert.ok(m, `not on a run page: ${page.url()}`);
  runIds.add(m[1]);
  return m[1];
}

// ---- the steps -----------------------------------------------------------------------------

async function step(name, fn) {
  const start = Date.now();
  process.stdout.write(`[ RUN  ] ${name}\n`);
  await fn();
  const ms = Date.now() - start;
  timings.push([name, ms]);
  process.stdout.write(`[  OK  ] ${name} (${ms} ms)\n`);
}

async function dispatchFormRejectsBadInput() {
  await page.goto(`${server.base}/#/dispatch`);
  await page.waitForSelector('#f-agent option[value="shell"]', { state: 'attached' });
  await page.selectOption('#f-agent', 'shell');
  await page.fill('#f-task', 'echo never');
  await page.fill('#f-timeoutSeconds', '999999');
  await page.fill('#f-inactivityTimeoutSeconds', 'soon');
  await page.click('#dispatch-submit');
  await page.waitForSelector('#err-timeoutSeconds:not(:empty)');
  // What the page shows is the server's own message for the same body.
  const direct = await call('POST', '/dispatch', { agent: 'shell', task: 'echo never', timeoutSeconds: 999999, inactivityTimeoutSeconds: 'soon' });
  assert.equal(direct.status, 400);
  assert.equal(direct.json.error.code, 'VALIDATION_ERROR');
  const msg = (p) => direct.json.error.details.errors.filter((e) => e.path === p).map((e) => e.message).join('; ');
  assert.ok(msg('timeoutSeconds') && msg('inactivityTimeoutSeconds'), JSON.stringify(direct.json));
  assert.equal(await page.textContent('#err-timeoutSeconds'), msg('timeoutSeconds'));
  assert.equal(await page.textContent('#err-inactivityTimeoutSeconds'), msg('inactivityTimeoutSeconds'));
  assert.equal(await page.getAttribute('[data-field="timeoutSeconds"]', 'class'), 'field invalid');
  assert.equal(await page.textContent('#err-task'), '');
  assert.match(await page.textContent('#dispatch-error'), /VALIDATION_ERROR/);
  assert.ok(page.url().endsWith('#/dispatch'), 'stayed on the form');
  const runs = await call('GET', '/runs');
  assert.equal(runs.json.data.items.length, 0, 'a rejected dispatch created nothing');
  await shot('dispatch-form');
}

async function dispatchFromFormAndWatchLive() {
  await page.fill('#f-timeoutSeconds', '');
  await page.fill('#f-inactivityTimeoutSeconds', '');
  await page.fill('#f-task', 'for i in $(seq 1 15); do echo "line-$i"; echo "err-$i" >&2; sleep 0.4; done');
  await page.click('#dispatch-submit');
  await page.waitForURL(/#\/runs\/[0-9A-Z]{26}$/);
  const id = runIdFromUrl();
  // The second line is on the page while the run is still going: it came live.
  await page.locator('#run-output .line.stdout', { hasText: /^line-2$/ }).waitFor();
  const during = await runOf(id);
  assert.equal(during.status, 'RUNNING', 'line-2 was shown before the run ended');
  assert.equal(await page.textContent('#stream-state'), 'live');
  await waitStatus('COMPLETED');
  await page.waitForSelector('#stream-state[data-state="ended"]');
  const want = (p) => Array.from({ length: 15 }, (_, i) => `${p}-${i + 1}`);
  assert.deepEqual(await lineTexts('stdout'), want('line'));
  assert.deepEqual(await lineTexts('stderr'), want('err'));
  assert.equal((await runOf(id)).status, 'COMPLETED');
  // The timeline went through the phases; the artifacts have expiring links.
  for (const phase of ['queued', 'preparing', 'running', 'done']) {
    await page.waitForSelector(`#timeline li[data-phase="${phase}"]`);
  }
  await page.waitForSelector('#artifacts-body tr[data-artifact="output.log"] a[href*="/files/"]');
  const href = await page.getAttribute('#artifacts-body tr[data-artifact="output.log"] a', 'href');
  const log = await (await fetch(href)).text();
  assert.ok(log.startsWith('line-1\nline-2\n'), 'the output.log link serves the log');
  assert.match(await page.textContent('#artifacts-body tr[data-artifact="output.log"]'), /expires in (1h 0m|59m)$/);
  await page.waitForSelector('#no-changes');
  await shot('run-page', true);
}

async function cancelWithTheButton() {
  await page.goto(`${server.base}/#/dispatch`);
  await page.waitForSelector('#f-agent option[value="shell"]', { state: 'attached' });
  await page.fill('#f-task', 'echo started; sleep 300');
  await page.click('#dispatch-submit');
  await page.waitForURL(/#\/runs\/[0-9A-Z]{26}$/);
  const id = runIdFromUrl();
  await page.locator('#run-output .line.stdout', { hasText: /^started$/ }).waitFor();
  await waitStatus('RUNNING');
  // "Keep running" cancels nothing.
  await page.click('#cancel-button');
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-cancel');
  await page.waitForSelector('#confirm-dialog:not([open])', { state: 'attached' });
  assert.equal((await runOf(id)).status, 'RUNNING');
  assert.equal((await runOf(id)).cancelRequestedAt, null);
  // Confirmed, with a reason: CANCELLED once the process tree is gone.
  await page.click('#cancel-button');
  await page.waitForSelector('#confirm-dialog[open]');
  await page.fill('#confirm-reason', 'dashboard test');
  await page.click('#confirm-ok');
  await waitStatus('CANCELLED');
  const run = await runOf(id);
  assert.equal(run.status, 'CANCELLED');
  assert.equal(run.cancelReason, 'dashboard test');
  assert.deepEqual(processesOf(id), []);
  assert.equal(await page.locator('#cancel-button').count(), 0, 'no cancel button on a finished run');
  await page.waitForSelector('#run-output .notice.status');
  assert.match(await page.textContent('#run-output .notice.status'), /^CANCELLED/);
}

// A local repository (the server allows them here): the run's changes, diff stat and diff.
async function changesAndDiff() {
  const repo = path.join(WORK, 'origin');
  const git = (...args) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
  fs.mkdirSync(repo);
  git('init', '-q', '-b', 'trunk');
  fs.writeFileSync(path.join(repo, 'README.md'), 'hello\n');
  git('add', 'README.md');
  git('-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-m', 'init');
  const before = git('rev-parse', 'HEAD');
  await page.goto(`${server.base}/#/dispatch`);
  await page.waitForSelector('#f-agent option[value="shell"]', { state: 'attached' });
  await page.fill('#f-task', "echo more >> README.md && printf '%s\\n' '<b id=diff-xss>x</b>' > added.txt");
  await page.fill('#f-repo', repo);
  await page.click('#dispatch-submit');
  await page.waitForURL(/#\/runs\/[0-9A-Z]{26}$/);
  const id = runIdFromUrl();
  // Usage as an agent with a model would report it (the shell agent reports none): the real
  // run object with a usage block, to check how the page shows it.
  await page.route(`**/runs/${id}`, async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    if (body.data) body.data.usage = { inputTokens: 12345, outputTokens: 678, costUsd: 0.0421 };
    await route.fulfill({ response: res, json: body });
  });
  await waitStatus('COMPLETED');
  await page.waitForSelector('#diff .dl.add');
  const run = await runOf(id);
  assert.equal(run.changes.kind, 'uncommitted');
  assert.equal(run.changes.beforeSha, before);
  const changes = await page.textContent('#changes');
  for (const want of ['uncommitted', before, 'README.md', 'added.txt', '+2 −0']) assert.ok(changes.includes(want), `${want} in ${changes}`);
  const added = await page.$$eval('#diff .dl.add', (els) => els.map((e) => e.textContent));
  assert.ok(added.includes('+more'), added.join('|'));
  assert.ok(added.includes('+<b id=diff-xss>x</b>'), added.join('|'));
  assert.equal(await page.locator('#diff-xss').count(), 0);
  assert.ok((await page.$$eval('#diff .dl.file', (els) => els.map((e) => e.textContent))).includes('+++ b/added.txt'));
  await page.waitForSelector('#artifacts-body tr[data-artifact="diff.patch"]');
  const usage = await page.textContent('#usage');
  for (const want of ['12,345', '678', '$0.04']) assert.ok(usage.includes(want), `${want} in ${usage}`);
  await page.unroute(`**/runs/${id}`);
  await promoteWithTheButton(id);
}

// "Create pull request" on a completed run with changes: the server's own refusal (a local
// repository has no GitHub pull requests: 400 naming `repo`, nothing pushed) is shown; an
// answer with a pull request (routed: no GitHub here) shows its link instead of the button.
async function promoteWithTheButton(id) {
  await page.waitForSelector('#promote-button');
  await page.click('#promote-button');
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-ok');
  await page.waitForSelector('#run-action-error .error');
  const refused = await page.textContent('#run-action-error');
  assert.match(refused, /VALIDATION_ERROR/);
  assert.match(refused, /repo/);
  assert.equal((await runOf(id)).promotion, null, 'nothing recorded');
  // The routed answer stands for a server that recorded the promotion: from then on the run's
  // own GET shows it too (the page refreshes the run after the refusal above, and that refresh
  // may land after the promote answer). The handlers only record what they saw; the asserts
  // come after (an assert thrown inside a handler would leave the request unanswered).
  const promotion = {
    branch: `outpost/shell/${id}`, base: 'trunk', commit: 'c0ffee', prUrl: 'https://github.example/acme/widgets/pull/7', prNumber: 7, at: new Date().toISOString(), by: '' };
  const promoteCalls = [];
  await page.route(`**/runs/${id}`, async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    if (body.data && promoteCalls.length > 0) body.data.promotion = promotion;
    await route.fulfill({ response: res, json: body });
  });
  await page.route(`**/runs/${id}/promote`, (route) => {
    promoteCalls.push({ method: route.request().method(), body: route.request().postDataJSON() });
    return route.fulfill({ status: 201, json: { success: true, data: { runId: id, replayed: false, promotion }, meta: {} } });
  });
  await page.click('#promote-button');
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-ok');
  await page.waitForSelector('#promotion-pr');
  assert.deepEqual(promoteCalls, [{ method: 'POST', body: { mode: 'pr' } }]);
  assert.equal(await page.textContent('#promotion-pr'), 'Pull request #7');
  assert.equal(await page.getAttribute('#promotion-pr', 'href'), 'https://github.example/acme/widgets/pull/7');
  assert.equal(await page.locator('#promote-button').count(), 0);
  await page.unroute(`**/runs/${id}/promote`);
  await page.unroute(`**/runs/${id}`);
}

async function resumeAfterTheServerRestarts(events) {
  const id = await dispatchApi({ agent: 'shell', task: 'for i in $(seq 1 40); do echo "n-$i"; sleep 0.15; done' });
  await page.goto(`${server.base}/#/runs/${id}`);
  await page.locator('#run-output .line.stdout', { hasText: /^n-5$/ }).waitFor();
  const before = events.length;
  const address = server.hostPort;
  await server.stop();
  await page.waitForSelector('#stream-state[data-state="reconnecting"]');
  await server.start(address);
  await waitStatus('COMPLETED');
  await page.waitForSelector('#stream-state[data-state="ended"]');
  const want = Array.from({ length: 40 }, (_, i) => `n-${i + 1}`);
  assert.deepEqual(await lineTexts('stdout'), want, 'every line once, in order, across the drop');
  const resumed = events.slice(before).filter((r) => r.url.includes(`/runs/${id}/events`) && r.lastEventId);
  assert.ok(resumed.length >= 1, 'the reconnect sent Last-Event-ID');
  assert.ok(Number(resumed[resumed.length - 1].lastEventId) >= 5);
}

async function hundredThousandLines() {
  // One echo per line: the output arrives as many small events, not a few big chunks.
  const id = await dispatchApi({ agent: 'shell', task: 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo $i; done', tags: { suite: 'big' } });
  // Followed live from the start, then replayed whole on a reload.
  let start = Date.now();
  await page.goto(`${server.base}/#/runs/${id}`);
  await page.locator('#run-output .line.stdout', { hasText: /^100000$/ }).waitFor();
  const liveMs = Date.now() - start;
  await page.reload();
  start = Date.now();
  await page.locator('#run-output .line.stdout', { hasText: /^100000$/ }).waitFor();
  const renderMs = Date.now() - start;
  await page.waitForSelector('#stream-state[data-state="ended"]');
  const events = Number(await page.getAttribute('#stream-state', 'data-last-id'));
  const lines = await page.locator('#run-output .line').count();
  assert.ok(lines <= 5000, `the DOM keeps at most 5000 lines, has ${lines}`);
  assert.ok(lines >= 4000, `and shows the last ones, has ${lines}`);
  assert.equal(await page.textContent('#run-output .line.stdout >> nth=0'), String(100000 - (await lineTexts('stdout')).length + 1));
  await page.waitForSelector('#output-hidden:not([hidden])');
  assert.match(await page.textContent('#output-hidden'), /9\d,\d{3} earlier lines are not shown/);
  // The page still answers at once.
  const t = Date.now();
  await page.evaluate(() => 1);
  const idleMs = Date.now() - t;
  timings.push(['  100k lines live: dispatch to last line shown', liveMs], ['  100k lines replayed: reload to last line shown', renderMs],
    ['  100k lines: evaluate round trip after', idleMs]);
  console.log(`         100000 lines in ${events} events: live ${liveMs} ms to the last line, replayed ${renderMs} ms, ${lines} DOM lines`);
}

async function outputOverTheCap() {
  const id = await dispatchApi({ agent: 'shell', task: 'yes 0123456789012345678901234567890123456789 | head -n 50000; echo last-line' });
  await page.goto(`${server.base}/#/runs/${id}`);
  await waitStatus('COMPLETED');
  await page.locator('#run-output .line.stdout', { hasText: /^last-line$/ }).waitFor();
  // Listed above the log (in the log itself the 6,000-line tail pushes it out of the kept lines).
  const stdoutNotice = page.locator('#output-truncated li', { hasText: /^stdout: / });
  await stdoutNotice.waitFor();
  const notice = await stdoutNotice.textContent();
  assert.match(notice, /^stdout: \d+(\.\d)? KiB of output dropped here; the last 256 KiB follow\.$/);
}

async function markupStaysText() {
  const task = '<img src=x id=xss-task onerror="window.__xss=1"> & "quotes"';
  const id = await dispatchApi({ agent: 'shell', task: `printf '%s\\n' '<script>window.__xss=2</script><b id=xss-out>bold</b>' # ${task}` });
  await page.goto(`${server.base}/#/runs/${id}`);
  await page.locator('#run-output .line.stdout', { hasText: '<b id=xss-out>' }).waitFor();
  assert.equal(await page.textContent('#run-output .line.stdout'), '<script>window.__xss=2</script><b id=xss-out>bold</b>');
  assert.ok((await page.textContent('#run-task')).includes(task));
  await page.goto(`${server.base}/#/runs`);
  await page.waitForSelector(`#runs-body tr[data-run-id="${id}"]`);
  assert.equal(await page.locator('#xss-task, #xss-out, #run-output script').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await waitFor('the markup run to end', async () => (await runOf(id)).status === 'COMPLETED');
}

async function runsList() {
  await page.goto(`${server.base}/#/runs`);
  await page.waitForSelector('#runs-body tr[data-run-id]');
  const api = await call('GET', '/runs?limit=25');
  const shown = await page.$$eval('#runs-body tr[data-run-id]', (rows) => rows.map((r) => r.dataset.runId));
  assert.deepEqual(shown, api.json.data.items.map((r) => r.runId), 'the server\'s order: newest first');
  assert.equal(shown.length, runIds.size);
  // Filters go to the server; a bad one shows its error.
  await page.selectOption('#filter-status', 'CANCELLED');
  await page.click('#run-filters button[type="submit"]');
  await page.waitForFunction(() => [...document.querySelectorAll('#runs-body tr[data-run-id] .badge')].every((b) => b.dataset.status === 'CANCELLED') && document.querySelectorAll('#runs-body tr[data-run-id]').length === 1);
  await page.goto(`${server.base}/#/runs?tag=suite:big`);
  await page.waitForFunction(() => document.querySelectorAll('#runs-body tr[data-run-id]').length === 1);
  await page.goto(`${server.base}/#/runs?tag=nocolon`);
  await page.waitForSelector('.error');
  assert.match(await page.textContent('.error'), /VALIDATION_ERROR.*tag/s);
  // Cursor paging, two at a time.
  await page.goto(`${server.base}/#/runs?limit=2`);
  await page.waitForFunction(() => document.querySelectorAll('#runs-body tr[data-run-id]').length === 2);
  const page1 = await page.$$eval('#runs-body tr[data-run-id]', (rows) => rows.map((r) => r.dataset.runId));
  assert.deepEqual(page1, shown.slice(0, 2));
  await page.click('#page-older');
  await page.waitForFunction((first) => document.querySelector('#runs-body tr[data-run-id]')?.dataset.runId !== first, page1[0]);
  assert.deepEqual(await page.$$eval('#runs-body tr[data-run-id]', (rows) => rows.map((r) => r.dataset.runId)), shown.slice(2, 4));
  await page.click('#page-newer');
  await page.waitForFunction((first) => document.querySelector('#runs-body tr[data-run-id]')?.dataset.runId === first, page1[0]);
  // A run dispatched elsewhere shows up by the live refresh, and its status follows.
  await page.goto(`${server.base}/#/runs`);
  await page.waitForSelector('#runs-body tr[data-run-id]');
  const id = await dispatchApi({ agent: 'shell', task: 'sleep 1; echo refreshed', tags: { via: 'api' } });
  await page.waitForSelector(`#runs-body tr[data-run-id="${id}"]:first-child`, { timeout: LONG });
  await page.waitForSelector(`#runs-body tr[data-run-id="${id}"] .badge[data-status="COMPLETED"]`, { timeout: LONG });
  await shot('runs-list');
}

const SLO_FIXTURE = (() => {
  const now = Date.now() - (Date.now() % 60000);
  const series = Array.from({ length: 90 }, (_, i) => {
    const requests = 40 + Math.round(25 * Math.sin(i / 9)) + (i % 7);
    const errors = i % 23 === 0 ? 3 : i % 11 === 0 ? 1 : 0;
    return { t: new Date(now - (89 - i) * 60000).toISOString(), requests, errors, p95LatencyMs: i % 31 === 0 ? null : 120 + 80 * Math.abs(Math.sin(i / 13)) + (i === 60 ? 480 : 0), runsFinished: i % 3, runsSucceeded: i % 3 === 2 ? 1 : i % 3 };
  });
  const w = (requests, availability, errorRate, p95, dispatches, rate) => ({ requests, availability, errorRate, p95LatencyMs: p95, dispatches, dispatchSuccessRate: rate });
  return {
    success: true,
    data: {
      windows: { '1h': w(2600, 99.85, 0.15, 210, 60, 96.7), '6h': w(4100, 99.93, 0.07, 190, 90, 94.4), '12h': w(4100, 99.93, 0.07, 190, 90, 94.4), '24h': w(4100, 99.93, 0.07, 190, 90, 94.4) },
      series, bucketSeconds: 60,
      targets: { availability: 99.9, dispatchSuccessRate: 95, p95LatencyMs: 500, errorRate: 5 },
    },
    meta: { requestId: 'fixture', timestamp: new Date().toISOString() },
  };
})();

async function fleet() {
  await page.goto(`${server.base}/#/fleet`);
  await page.waitForSelector('#fleet-agents tr[data-agent="shell"]');
  const fleetApi = await (await fetch(`${server.base}/health/fleet`)).json();
  const shell = fleetApi.agents.find((a) => a.agent === 'shell');
  const row = await page.textContent('#fleet-agents tr[data-agent="shell"]');
  assert.ok(row.includes(`${shell.active}/${shell.maxConcurrent}`), row);
  // No finished run in the hour: no rate (null, drawn as "—"), not 100%.
  assert.ok(row.includes(shell.successRate === null ? '—' : `${shell.successRate}%`), row);
  // Capacity is fleet-wide (all replicas, all tenants) and labelled so; each replica with its state.
  assert.equal(fleetApi.capacity.scope, 'fleet');
  const capCard = await page.textContent('#fleet-capacity');
  assert.ok(capCard.includes(`${fleetApi.capacity.running}/${fleetApi.capacity.maxConcurrent}`), capCard);
  assert.match(capCard, /all replicas, all tenants/);
  assert.match(await page.textContent('#fleet-queued'), /all replicas, all tenants/);
  const self = fleetApi.capacity.replicas.find((r) => r.self);
  assert.equal(await page.getAttribute(`#fleet-replicas tr[data-replica="${self.replicaId}"]`, 'data-state'), 'serving');
  // The real /health/slo is drawn again, with a key, in the API-key part below. Here a fixture
  // gives what a fresh server cannot: 90 minutes of buckets, a window under its target, buckets
  // without latency.
  await page.waitForSelector('#slo-table');
  await page.route('**/health/slo', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(SLO_FIXTURE) }));
  await page.reload();
  await page.waitForSelector('#slo-table');
  assert.deepEqual(await page.$$eval('#slo-table tbody tr', (rows) => rows.map((r) => r.dataset.window)), ['1h', '6h', '12h', '24h']);
  assert.equal(await page.getAttribute('#slo-table tr[data-window="1h"] td:nth-of-type(2)', 'class'), 'bad', '99.85% is under the 99.9% target');
  assert.equal(await page.getAttribute('#slo-table tr[data-window="6h"] td:nth-of-type(2)', 'class'), 'ok');
  assert.equal(await page.locator('#slo-charts svg.chart').count(), 4);
  assert.ok(await page.locator('#chart-latency line.target').count() === 1);
  assert.ok(await page.locator('#chart-requests polyline.series').count() >= 2);
  // p95 has null buckets: its line is broken there, not drawn through zero.
  assert.ok(await page.locator('#chart-latency polyline.series').count() >= 3);
  await shot('fleet-fixture', true);
  await page.unroute('**/health/slo');
  // A server without the route (an older one): the rest of the page does not depend on it.
  await page.route('**/health/slo', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ success: false, error: { code: 'NOT_FOUND', message: 'no route', details: {} }, meta: {} }) }));
  await page.reload();
  await page.waitForSelector('#slo-unavailable');
  assert.match(await page.textContent('#slo-unavailable'), /SLO history unavailable/);
  await page.waitForSelector('#fleet-agents tr[data-agent="shell"]');
  await page.unroute('**/health/slo');
}

// ---- against the real authentication -------------------------------------------------------
// Everything above ran in open mode (no key in the store). Here keys are made with the real
// `outpost admin` on the running server's store, and from then on every call needs one.

const auth = {};  // tenants, keys, runs and the server's refusal message

// Every request URL the page made, checked at the end: no key in any of them.
const keysIn = (requests) => requests.filter((r) => Object.values(auth.keys).some((k) => r.url.includes(k)));

async function keysEndOpenMode() {
  const a = server.admin('tenant', 'create', 'dash-a');
  const b = server.admin('tenant', 'create', 'dash-b');
  const key = (tenant, scopes, name) => server.admin('key', 'create', '--tenant', tenant, '--scopes', scopes, '--name', name);
  auth.keys = {
    full: key(a, 'dispatch,status,list,cancel', 'dash-full'),
    noCancel: key(a, 'status,list', 'dash-no-cancel'),
    other: key(b, 'dispatch,status,list', 'dash-other'),
    wrong: `otp_${'0'.repeat(64)}`,  // well-formed, in no store
  };
  for (const k of Object.values(auth.keys)) assert.match(k, /^otp_[0-9a-f]{64}$/);
  // The server looks at the store at most every second while it has no keys.
  await waitFor('the server to leave open mode', async () => (await call('GET', '/runs', undefined, { key: '' })).status === 401);
  const refused = await call('GET', '/runs', undefined, { key: '' });
  assert.equal(refused.json.error.code, 'AUTHENTICATION_ERROR');
  auth.refusal = refused.json.error.message;
  assert.ok(auth.refusal, JSON.stringify(refused.json));
  server.key = auth.keys.full;  // call() and the clean-up from here on
  // One run of each tenant, by HTTP: the page must show tenant a's only.
  auth.otherRun = await dispatchApi({ agent: 'shell', task: 'echo other-tenant' }, { key: auth.keys.other });
  auth.ownRun = await dispatchApi({ agent: 'shell', task: 'echo own-tenant' });
}

async function keyPromptFromTheServer(responses) {
  const before = responses.length;
  auth.responsesBefore = before;  // from here on the page's requests all reach this server
  await page.goto(`${server.base}/#/runs`);
  await page.waitForSelector('#key-dialog[open]');
  // The prompt is the server's own 401 (no stand-in: its X-Request-ID, its message).
  const r401 = responses.slice(before).find((r) => r.path === '/runs' && r.status === 401);
  assert.ok(r401 && r401.requestId, 'GET /runs was answered 401 by the server');
  assert.equal(await page.textContent('#key-message'), `This server needs an API key (${auth.refusal}).`);
  // A wrong key is refused: the prompt stays, nothing is listed.
  await page.fill('#key-input', auth.keys.wrong);
  await page.click('#key-ok');
  await page.waitForFunction(() => document.querySelector('#key-dialog').open && /refused/.test(document.querySelector('#key-message').textContent));
  assert.equal(await page.textContent('#key-message'), `The key was refused (${auth.refusal}).`);
  assert.equal(await page.locator('#runs-body tr[data-run-id]').count(), 0);
  // A refused key is not kept (nor sent again).
  assert.equal(await page.evaluate(() => localStorage.getItem('outpost.apiKey')), null);
  await page.waitForSelector('#set-key', { state: 'attached' });
  await shot('key-prompt');
  // The right key: tenant a's runs, and only those (not b's, not the open-mode runs of
  // tenant "default").
  await page.fill('#key-input', auth.keys.full);
  await page.click('#key-ok');
  await page.waitForSelector(`#runs-body tr[data-run-id="${auth.ownRun}"]`);
  assert.equal(await page.evaluate(() => localStorage.getItem('outpost.apiKey')), auth.keys.full);
  await page.waitForSelector('#sign-out');
  const shown = await page.$$eval('#runs-body tr[data-run-id]', (rows) => rows.map((r) => r.dataset.runId));
  assert.deepEqual(shown, [auth.ownRun]);
  assert.ok(!shown.includes(auth.otherRun));
  const api = await call('GET', '/runs');
  assert.deepEqual(api.json.data.items.map((x) => x.runId), [auth.ownRun], 'the server agrees');
  assert.equal((await call('GET', `/runs/${auth.ownRun}`, undefined, { key: auth.keys.other })).status, 404);
}

async function dispatchWithTheKeyAndWatchLive(requests) {
  await page.goto(`${server.base}/#/dispatch`);
  await page.waitForSelector('#f-agent option[value="shell"]', { state: 'attached' });
  await page.selectOption('#f-agent', 'shell');
  await page.fill('#f-task', 'for i in $(seq 1 8); do echo "keyed-$i"; sleep 0.4; done');
  await page.click('#dispatch-submit');
  await page.waitForURL(/#\/runs\/[0-9A-Z]{26}$/);
  const id = runIdFromUrl();
  await page.locator('#run-output .line.stdout', { hasText: /^keyed-2$/ }).waitFor();
  assert.equal((await runOf(id)).status, 'RUNNING', 'keyed-2 was shown before the run ended');
  await waitStatus('COMPLETED');
  await page.waitForSelector('#stream-state[data-state="ended"]');
  assert.deepEqual(await lineTexts('stdout'), Array.from({ length: 8 }, (_, i) => `keyed-${i + 1}`));
  // The stream came through fetch with the key in its header; the run is tenant a's.
  const streams = requests.filter((r) => new URL(r.url).pathname === `/runs/${id}/events`);
  assert.ok(streams.length >= 1 && streams.every((r) => r.authorization === `Bearer ${auth.keys.full}`), JSON.stringify(streams));
  assert.equal((await call('GET', `/runs/${id}`, undefined, { key: auth.keys.other })).status, 404);
  // Its artifact links are signed URLs: they work without a key (the signature is the key).
  await page.waitForSelector('#artifacts-body tr[data-artifact="output.log"] a[href*="/files/"]');
  const href = await page.getAttribute('#artifacts-body tr[data-artifact="output.log"] a', 'href');
  const log = await fetch(href);
  assert.equal(log.status, 200);
  assert.ok((await log.text()).startsWith('keyed-1\nkeyed-2\n'));
}

async function fleetDrawsTheRealSlo(responses) {
  const before = responses.length;
  await page.goto(`${server.base}/#/fleet`);
  await page.waitForSelector('#slo-table');
  assert.ok(responses.slice(before).some((r) => r.path === '/health/slo' && r.status === 200));
  const slo = (await call('GET', '/health/slo')).json.data;
  assert.deepEqual(await page.$$eval('#slo-table tbody tr', (rows) => rows.map((r) => r.dataset.window)), ['1h', '6h', '12h', '24h']);
  // The figures of a server that has served this whole test: requests, availability, latency.
  const cell = (n) => page.textContent(`#slo-table tr[data-window="1h"] td:nth-of-type(${n})`);
  // At least what the page itself had answered in this part before it opened the fleet page.
  const floor = before - auth.responsesBefore;
  const requestsShown = Number((await cell(1)).replace(/\D/g, ''));
  assert.ok(floor >= 5 && requestsShown >= floor && requestsShown <= slo.windows['1h'].requests,
    `${floor} <= ${requestsShown} <= ${slo.windows['1h'].requests}`);
  assert.match(await cell(2), /^\d+(\.\d+)?\s?%$/);
  assert.match(await cell(4), /^\d+ ms$/);
  assert.match(await cell(6), /^\d+(\.\d+)?\s?%$/, 'runs finished: a dispatch success rate');
  // Four charts, each with something drawn (a line, or a dot while there is one bucket).
  assert.equal(await page.locator('#slo-charts svg.chart').count(), 4);
  for (const chart of ['requests', 'availability', 'latency', 'runs']) {
    assert.ok(await page.locator(`#chart-${chart} polyline.series, #chart-${chart} circle.dot`).count() >= 1, chart);
  }
  assert.ok(slo.series.length >= 1 && slo.series.some((p) => p.requests > 0));
  await shot('fleet', true);
}

async function cancelWithoutTheScope(responses) {
  const id = await dispatchApi({ agent: 'shell', task: 'echo started; sleep 300' });
  // Sign out: back to the prompt; sign in with a key that may look but not cancel.
  await page.click('#sign-out');
  assert.equal(await page.evaluate(() => localStorage.getItem('outpost.apiKey')), null);
  await page.waitForSelector('#key-dialog[open]');
  await page.fill('#key-input', auth.keys.noCancel);
  await page.click('#key-ok');
  await page.waitForSelector('#key-dialog:not([open])', { state: 'attached' });
  await page.goto(`${server.base}/#/runs/${id}`);
  await page.locator('#run-output .line.stdout', { hasText: /^started$/ }).waitFor();
  await waitStatus('RUNNING');
  const before = responses.length;
  await page.click('#cancel-button');
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-ok');
  const refusal = page.locator('#app .error', { hasText: 'AUTHORIZATION_ERROR' });
  await refusal.waitFor();
  assert.ok(responses.slice(before).some((r) => r.path === `/runs/${id}/cancel` && r.status === 403));
  const direct = await call('POST', `/runs/${id}/cancel`, {}, { key: auth.keys.noCancel });
  assert.equal(direct.status, 403);
  assert.equal(direct.json.error.code, 'AUTHORIZATION_ERROR');
  assert.equal(direct.json.error.details.requiredScope, 'cancel');
  const shownError = async () => refusal.textContent({ timeout: 1000 });
  assert.ok((await shownError()).startsWith(`AUTHORIZATION_ERROR: ${direct.json.error.message}`), await shownError());
  assert.match(await shownError(), /This key lacks the "cancel" scope\./);
  // The message outlives the page's next refresh of the run (which re-draws the head).
  await page.evaluate(() => { document.querySelector('#cancel-button').dataset.old = '1'; });
  await page.waitForSelector('#cancel-button:not([data-old])', { state: 'attached', timeout: LONG });
  assert.match(await shownError(), /AUTHORIZATION_ERROR/);
  assert.equal(await page.getAttribute('#run-status .badge', 'data-status'), 'RUNNING');
  const run = await runOf(id);
  assert.equal(run.status, 'RUNNING');
  assert.equal(run.cancelRequestedAt, null);
  assert.equal(processesOf(id).length > 0, true, 'its process still runs');
  await shot('cancel-forbidden');
  auth.longRun = id;
}

async function signOutReturnsToThePrompt() {
  await page.click('#sign-out');
  assert.equal(await page.evaluate(() => localStorage.getItem('outpost.apiKey')), null);
  await page.waitForSelector('#key-dialog[open]');
  assert.equal(await page.textContent('#key-message'), `This server needs an API key (${auth.refusal}).`);
  await page.waitForSelector('#set-key');  // the header offers to sign in again
  // Dismissed: the page shows the server's error instead of data.
  await page.click('#key-cancel');
  await page.waitForSelector('.error');
  assert.match(await page.textContent('.error'), /AUTHENTICATION_ERROR/);
  // The long run ends by a key that may cancel it.
  assert.equal((await call('POST', `/runs/${auth.longRun}/cancel`, {})).status, 202);
  await waitFor('the long run to be CANCELLED', async () => (await runOf(auth.longRun)).status === 'CANCELLED');
}

// The page's own modules in the page, on inputs the server rarely produces: SSE split at every
// awkward place (CR LF across chunks, comments, retry, no space after the colon), and output
// lines continued across chunks and streams, capped.
async function moduleEdgeCases() {
  await page.goto(`${server.base}/#/runs`);
  const r = await page.evaluate(async () => {
    const { SseParser } = await import('/ui/js/sse.js');
    const { OutputView } = await import('/ui/js/output.js');
    const got = [];
    const p = new SseParser((e) => got.push(e));
    for (const chunk of ['retry: 250\r', '\nid: 1\r', '\ndata: a\r\n', 'data: b\r\n\r', '\n: heartbeat\n\n',
      'id: 2\nevent: output\ndata:{"x":1}\n\n', 'id: 3\nevent: end\nda', 'ta: {}\r\r', 'data: orphan']) p.push(chunk);
    const v = new OutputView({ maxLines: 3 });
    v.append('stdout', 'par');
    v.append('stdout', 'tial\nnext');
    v.append('stderr', 'e1\n');
    v.flush();
    const first = [...v.el.children].map((e) => `${e.className}|${e.textContent}`);
    v.append('stdout', ' more\n');
    v.append('stdout', 'x\ny\n');
    v.flush();
    const second = [...v.el.children].map((e) => `${e.className}|${e.textContent}`);
    return { got, retry: p.retry, first, second, hidden: v.hidden, total: v.total };
  });
  assert.deepEqual(r.got, [
    { id: '1', event: 'message', data: 'a\nb' },
    { id: '2', event: 'output', data: '{"x":1}' },
    { id: '3', event: 'end', data: '{}' },
  ]);
  assert.equal(r.retry, 250);
  assert.deepEqual(r.first, ['line stdout|partial', 'line stdout|next', 'line stderr|e1']);
  assert.deepEqual(r.second, ['line stderr|e1', 'line stdout|x', 'line stdout|y']);
  assert.equal(r.hidden, 2);  // "partial" and "next more" left the DOM, counted
  assert.equal(r.total, 5);
}

async function staticAssets() {
  // The shell for browsers, the banner for JSON clients, the assets with their validators.
  const html = await fetch(`${server.base}/`, { headers: { Accept: 'text/html' } });
  assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(html.headers.get('content-security-policy'), /^default-src 'self'/);
  const banner = await (await fetch(`${server.base}/`, { headers: { Accept: 'application/json' } })).json();
  assert.equal(banner.service, 'outpost-control-plane');
  const js = await fetch(`${server.base}/ui/js/app.js`);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
  const again = await fetch(`${server.base}/ui/js/app.js`, { headers: { 'If-None-Match': js.headers.get('etag') } });
  assert.equal(again.status, 304);
}

// ---- main ----------------------------------------------------------------------------------

let failed = false;
try {
  await server.start();
  await launch();
  const requests = [];
  page.on('request', (r) => {
    const hd = r.headers();
    requests.push({ url: r.url(), authorization: hd.authorization, lastEventId: hd['last-event-id'] });
  });
  const responses = [];  // what came back: only the server answers (no stand-ins but the SLO fixture)
  page.on('response', (r) => {
    responses.push({ path: new URL(r.url()).pathname, status: r.status(), requestId: r.headers()['x-request-id'] });
  });
  await step('static assets and the banner', staticAssets);
  await step('the SSE parser and the output view on edge cases', moduleEdgeCases);
  await step('dispatch form shows the server\'s field errors', dispatchFormRejectsBadInput);
  await step('dispatch from the form, output arrives live, COMPLETED', dispatchFromFormAndWatchLive);
  await step('cancel with the button: CANCELLED', cancelWithTheButton);
  await step('changes, diff and usage of a run on a repository', changesAndDiff);
  await step('a server restart mid-run: resumed with Last-Event-ID', () => resumeAfterTheServerRestarts(requests));
  await step('100k lines of output', hundredThousandLines);
  await step('output over the cap: the truncated notice', outputOverTheCap);
  await step('markup in task and output stays text', markupStaysText);
  await step('runs list: order, filters, paging, live refresh', runsList);
  await step('fleet and SLOs', fleet);
  await step('keys made with outpost admin end open mode', keysEndOpenMode);
  await step('the key prompt from the server\'s 401: a wrong key refused, the right one lists its tenant\'s runs only', () => keyPromptFromTheServer(responses));
  await step('dispatch with the key, output live through fetch with Authorization', () => dispatchWithTheKeyAndWatchLive(requests));
  await step('fleet draws the real /health/slo', () => fleetDrawsTheRealSlo(responses));
  await step('cancel without the cancel scope: the server\'s 403 shown, the run goes on', () => cancelWithoutTheScope(responses));
  await step('sign out returns to the prompt', signOutReturnsToThePrompt);
  assert.deepEqual(keysIn(requests), [], 'no key in any requested URL');
  assert.ok(requests.length > 100, `${requests.length} requests looked at`);
  assert.deepEqual(problems, [], 'no page errors or CSP violations');
} catch (e) {
  failed = true;
  console.error(`[ FAIL ] ${e.stack || e}`);
  if (problems.length) console.error(`page problems:\n  ${problems.join('\n  ')}`);
  if (page) await page.screenshot({ path: path.join(OUT_DIR, 'failure.png') }).catch(() => {});
} finally {
  if (context) await context.close().catch(() => {});
  await server.cleanUp([auth.keys?.full || '', auth.keys?.other || '']);
  fs.rmSync(WORK, { recursive: true, force: true });
}
console.log(`\ndashboard_test: ${failed ? 'FAILED' : 'passed'} in ${Date.now() - t0} ms; screenshots in ${OUT_DIR}`);
for (const [name, ms] of timings) console.log(`  ${String(ms).padStart(6)} ms  ${name}`);
process.exit(failed ? 1 : 0);
