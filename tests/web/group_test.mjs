// The dashboard's group page (#/groups/<id>, issue 23 item 3) end to end: a real `outpost serve`
// (process runner, a local repository, two shell-command agents) and Debian's chromium, headless,
// driven by playwright-core. Every step waits for a condition with a deadline.
//
//   reach it        from the runs list filtered by the group ("Compare side by side"), from a
//                   run's "group" link in the list and from a run page of the group
//   table           per run: agent, status, duration, tokens/cost, files, +/−, the `verify`
//                   check passed (alpha) or failed (beta) with the check's output tail in a fold
//   diffs           each run's diff.patch expanded under its row (both at once), as text
//   promote         "Create pull request" from the group: the server's own refusal (a local repo
//                   has no GitHub pull requests) in the row, then a (routed) pull request link
//   widths          1400 px (a table) and 390 px (a card per run, no sideways scrolling), with
//                   screenshots of both in OUT_DIR
//
// Usage: node group_test.mjs OUTPOST_BIN OUT_DIR. Exit 0 pass, 1 fail (a missing chromium or
// playwright-core is a failure too, naming it), 2 usage.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LONG, OutpostServer, browserTest, waitFor } from './harness.mjs';

const { outpostBin: OUTPOST_BIN, outDir: OUT_DIR, executablePath: CHROMIUM, chromium } =
  await browserTest('group_test');

fs.mkdirSync(OUT_DIR, { recursive: true });
for (const f of fs.readdirSync(OUT_DIR)) if (f.startsWith('group-') && f.endsWith('.png')) fs.rmSync(path.join(OUT_DIR, f));
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-group-'));
const t0 = Date.now();

// The repository the runs change, and two agents: alpha writes a.txt (which the check wants),
// beta writes b.txt and appends to README.md.
const repo = path.join(WORK, 'origin');
const git = (...args) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
fs.mkdirSync(repo);
git('init', '-q', '-b', 'trunk');
fs.writeFileSync(path.join(repo, 'README.md'), 'hello\n');
git('add', 'README.md');
git('-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-m', 'init');
const config = path.join(WORK, 'outpost.toml');
fs.writeFileSync(config, `[agents.alpha]
command = ["/bin/sh", "-c", "echo one > a.txt", "alpha", "{task}"]
models = ["m"]
[agents.beta]
command = ["/bin/sh", "-c", "printf 'x\\\\ny\\\\n' > b.txt && echo more >> README.md", "beta", "{task}"]
models = ["m"]
`);
const CHECK = "if test -f a.txt; then echo 'a.txt is there'; else echo 'FAIL: <b>no a.txt</b>' >&2; exit 1; fi";

const server = new OutpostServer({
  bin: OUTPOST_BIN,
  dataDir: path.join(WORK, 'data'),
  logFd: fs.openSync(path.join(OUT_DIR, 'group-server.log'), 'w'),
  env: { OUTPOST_LOG_LEVEL: 'info', OUTPOST_ALLOW_LOCAL_REPOS: '1', OUTPOST_LOCAL_REPO_ROOTS: WORK, OUTPOST_CONFIG: config },
});

const problems = [];  // uncaught errors and CSP violations in the page
let context;
let page;

async function shot(name) {
  await page.screenshot({ path: path.join(OUT_DIR, `${name}.png`), fullPage: true });
}

async function step(name, fn) {
  const start = Date.now();
  process.stdout.write(`[ RUN  ] ${name}\n`);
  await fn();
  process.stdout.write(`[  OK  ] ${name} (${Date.now() - start} ms)\n`);
}

const row = (agent) => `#group-body tr.group-run[data-agent="${agent}"]`;

let group = '';
const ids = {};

async function fanOutWithACheck() {
  const r = await server.call('POST', '/dispatch', { agent: ['alpha', 'beta'], task: 'make the check pass', modelId: 'm', repo, verify: CHECK, timeoutSeconds: 60 });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  group = r.json.data.groupId;
  for (const run of r.json.data.runs) { ids[run.agent] = run.runId; server.runIds.add(run.runId); }
  for (const id of Object.values(ids)) {
    await waitFor(`run ${id} stored`, async () => {
      const run = await server.run(id);
      return run.status === 'COMPLETED' && run.artifactsStatus === 'stored';
    });
  }
  const g = await server.call('GET', `/groups/${group}`);
  assert.equal(g.status, 200);
  const by = Object.fromEntries(g.json.data.runs.map((x) => [x.agent, x]));
  assert.equal(by.alpha.verification.passed, true, JSON.stringify(by.alpha));
  assert.equal(by.beta.verification.passed, false, JSON.stringify(by.beta));
}

async function reachTheGroupPage() {
  // From the list filtered by the group.
  await page.goto(`${server.base}/#/runs?group=${group}`);
  await page.waitForSelector(`#runs-body tr[data-run-id="${ids.alpha}"]`);
  await page.click('#compare-group');
  await page.waitForURL(new RegExp(`#/groups/${group}$`));
  await page.waitForSelector(row('beta'));
  // From a run's "group" link in the unfiltered list.
  await page.goto(`${server.base}/#/runs`);
  await page.click(`#runs-body tr[data-run-id="${ids.beta}"] a.group-link`);
  await page.waitForURL(new RegExp(`#/groups/${group}$`));
  // From a run page of the group.
  await page.goto(`${server.base}/#/runs/${ids.alpha}`);
  await page.waitForSelector('#run-group');
  await page.click('#run-group');
  await page.waitForURL(new RegExp(`#/groups/${group}$`));
  await page.waitForSelector(row('alpha'));
}

async function theTableSideBySide() {
  const cells = async (agent) => page.$$eval(`${row(agent)} > td`, (tds) => Object.fromEntries(tds.map((td) => [td.dataset.label, td.textContent.trim()])));
  const alpha = await cells('alpha');
  const beta = await cells('beta');
  assert.match(alpha.Agent, /^alpham$/);
  assert.equal(alpha.Status, 'COMPLETED');
  assert.equal(beta.Status, 'COMPLETED');
  assert.equal(alpha.Files, '1');
  assert.equal(beta.Files, '2');
  assert.equal(alpha['+/−'], '+1 −0');
  assert.equal(beta['+/−'], '+3 −0');
  assert.match(alpha.Duration, /\d/);
  assert.equal(alpha.Run, ids.alpha.slice(-8));
  assert.equal(await page.getAttribute(`${row('alpha')} [data-verify]`, 'data-verify'), 'passed');
  assert.equal(await page.getAttribute(`${row('beta')} [data-verify]`, 'data-verify'), 'failed');
  assert.match(beta.Verify, /^failed exit code 1/);
  assert.match(await page.textContent('#group-summary'), /2 runs, 2 finished · verify passed in 1 of 2/);
  // The failed check's output, in its fold, as text (its markup stays text).
  await page.click(`${row('beta')} .verify-tail summary`);
  assert.equal(await page.textContent(`${row('beta')} .verify-tail pre`), 'FAIL: <b>no a.txt</b>\n');
  assert.equal(await page.locator(`${row('beta')} .verify-tail b`).count(), 0);
}

async function bothDiffsExpanded() {
  await page.click(`${row('alpha')} button.diff-toggle`);
  await page.click(`${row('beta')} button.diff-toggle`);
  for (const [agent, file] of [['alpha', 'a.txt'], ['beta', 'b.txt']]) {
    const diff = `#group-body tr.group-diff-row[data-diff-of="${ids[agent]}"] .diff`;
    await page.waitForSelector(diff);
    const files = await page.$$eval(`${diff} .dl.file`, (els) => els.map((e) => e.textContent));
    assert.ok(files.includes(`+++ b/${file}`), files.join('|'));
  }
  const added = await page.$$eval(`#group-body tr.group-diff-row[data-diff-of="${ids.beta}"] .dl.add`, (els) => els.map((e) => e.textContent));
  assert.ok(added.includes('+more') && added.includes('+x'), added.join('|'));
  assert.equal(await page.textContent(`${row('alpha')} button.diff-toggle`), 'Hide diff');
}

async function promoteFromTheGroup() {
  const id = ids.alpha;
  await page.click(`${row('alpha')} button.promote-button`);
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-ok');
  // The server's own refusal: a local repository has no GitHub pull requests (400 naming repo).
  await page.waitForSelector(`${row('alpha')} .error`);
  const refused = await page.textContent(`${row('alpha')} .error`);
  assert.match(refused, /VALIDATION_ERROR/);
  assert.match(refused, /repo/);
  assert.equal((await server.run(id)).promotion, null, 'nothing recorded');
  await page.route(`**/runs/${id}/promote`, (route) => {
    assert.equal(route.request().method(), 'POST');
    assert.deepEqual(route.request().postDataJSON(), { mode: 'pr' });
    return route.fulfill({ status: 201, json: { success: true, data: { runId: id, replayed: false, promotion: {
      branch: `outpost/alpha/${id}`, base: 'trunk', commit: 'c0ffee', prUrl: 'https://github.example/acme/widgets/pull/9', prNumber: 9, at: new Date().toISOString(), by: '' } }, meta: {} } });
  });
  await page.click(`${row('alpha')} button.promote-button`);
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-ok');
  await page.waitForSelector(`${row('alpha')} a.promotion-pr`);
  assert.equal(await page.textContent(`${row('alpha')} a.promotion-pr`), 'Pull request #9');
  assert.equal(await page.getAttribute(`${row('alpha')} a.promotion-pr`, 'href'), 'https://github.example/acme/widgets/pull/9');
  assert.equal(await page.locator(`${row('alpha')} button.promote-button`).count(), 0);
  assert.equal(await page.locator(`${row('alpha')} .error`).count(), 0);
  // The beta row still offers it; the diffs stayed open through the re-render.
  assert.equal(await page.locator(`${row('beta')} button.promote-button`).count(), 1);
  assert.equal(await page.locator('#group-body tr.group-diff-row').count(), 2);
  await page.unroute(`**/runs/${id}/promote`);
}

async function atWidth(width) {
  await page.setViewportSize({ width, height: 900 });
  await page.goto('about:blank');  // a fresh page: nothing expanded
  await page.goto(`${server.base}/#/groups/${group}`);
  await page.waitForSelector(row('beta'));
  await page.click(`${row('beta')} button.diff-toggle`);
  await page.waitForSelector(`#group-body tr.group-diff-row[data-diff-of="${ids.beta}"] .diff`);
  await page.click(`${row('beta')} .verify-tail summary`);
  const layout = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
    thead: getComputedStyle(document.querySelector('#group-table thead')).display,
    label: getComputedStyle(document.querySelector('#group-body tr.group-run td'), '::before').content,
    rowWidth: document.querySelector('#group-body tr.group-run').getBoundingClientRect().width,
  }));
  assert.ok(layout.scroll <= layout.inner, `no sideways scrolling at ${width} px: ${JSON.stringify(layout)}`);
  if (width < 700) {
    assert.equal(layout.thead, 'none', 'cards, not a table, at phone width');
    assert.equal(layout.label, '"Run"', 'each value carries its label');
    assert.ok(layout.rowWidth <= width, JSON.stringify(layout));
  } else {
    assert.notEqual(layout.thead, 'none');
    // The whole row is on screen: every column side by side.
    const right = await page.$eval(`${row('beta')} > td:last-child`, (td) => td.getBoundingClientRect().right);
    assert.ok(right <= width, `the last column at ${right} px fits ${width} px`);
  }
  await shot(`group-${width}`);
}

let failed = false;
try {
  await server.start();
  context = await chromium.launchPersistentContext(path.join(WORK, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
    locale: 'en-US',
    timeout: LONG,
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(LONG);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  await step('a fan-out of two agents with a verify check', fanOutWithACheck);
  await step('the group page from the list, a run\'s group link and a run page', reachTheGroupPage);
  await step('the runs side by side: status, files, +/−, verify passed/failed with its output', theTableSideBySide);
  await step('both diffs expanded under their rows', bothDiffsExpanded);
  await step('promote from the group: the server\'s refusal, then a pull request link', promoteFromTheGroup);
  await step('1400 px: a table with every column', () => atWidth(1400));
  await step('390 px: a card per run, no sideways scrolling', () => atWidth(390));
  assert.deepEqual(problems, [], 'no page errors or CSP violations');
} catch (e) {
  failed = true;
  console.error(`[ FAIL ] ${e.stack || e}`);
  if (problems.length) console.error(`page problems:\n  ${problems.join('\n  ')}`);
  if (page) await page.screenshot({ path: path.join(OUT_DIR, 'group-failure.png'), fullPage: true }).catch(() => {});
} finally {
  if (context) await context.close().catch(() => {});
  await server.cleanUp();
  fs.rmSync(WORK, { recursive: true, force: true });
}
console.log(`\ngroup_test: ${failed ? 'FAILED' : 'passed'} in ${Date.now() - t0} ms; screenshots in ${OUT_DIR}`);
process.exit(failed ? 1 : 0);
