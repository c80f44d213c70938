// The run page's log view and the run list's filters, in headless Chromium (Debian's chromium
// driven by playwright-core, as dashboard_test.mjs) against a real `outpost serve`, at 1400 px
// and at a phone's 390 px. Every step waits for a condition with a deadline.
//
//   ansi        a shell run printing ANSI colours: coloured spans, no escape left in the text,
//               the "Final message" stripped
//   line links  every line has a number; clicking it puts #L<n> in the URL and highlights it;
//               loading #/runs/<id>#L120 scrolls line 120 into view, highlighted
//   search      matches counted ("1 of 3"), next / previous (buttons and Enter), the current
//               one scrolled into view
//   timestamps  hidden by default, shown (HH:MM:SS.mmm) with the toggle
//   tool calls  a run of the real claude's captured stream-json (tests/web/testdata): the Write
//               call is a collapsible group holding its input and its result (paired by id),
//               the provider retry a notice of its own
//   follow      a live run follows the end; "stop following" keeps the view where it is while
//               lines arrive; following again jumps to the end
//   phone       at 390 px nothing overflows the page sideways, the log tools are usable
//   run list    every API filter (status, agent, repo, tag, since, group) in the form and in the
//               URL; a reload keeps them; the list shows what the API gives for them
// Screenshots of each go to OUT_DIR (logview-*-1400.png, logview-*-390.png).
//
// Usage: node logview_test.mjs OUTPOST_BIN OUT_DIR. Exit 0 pass, 1 fail (a missing chromium or
// playwright-core is a failure, naming it), 2 usage.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { LONG, OutpostServer, browserTest, waitFor } from './harness.mjs';

const { outpostBin: OUTPOST_BIN, outDir: OUT_DIR, executablePath: CHROMIUM, chromium } =
  await browserTest('logview_test');

const HERE = path.dirname(fileURLToPath(import.meta.url));
fs.mkdirSync(OUT_DIR, { recursive: true });
for (const f of fs.readdirSync(OUT_DIR)) if (f.startsWith('logview-') && f.endsWith('.png')) fs.rmSync(path.join(OUT_DIR, f));
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-logview-'));
// The real claude's output (captured against tests/fake_model_server), replayed by an agent
// whose parser is claude's: an api_retry, a Write tool_use, its tool_result, "done".
const REPLAY = path.join(WORK, 'claude-write-run.jsonl');
fs.copyFileSync(path.join(HERE, 'testdata', 'claude-write-run.jsonl'), REPLAY);
const CONFIG = path.join(WORK, 'outpost.toml');
fs.writeFileSync(CONFIG, `[agents.replay]
command = ["/bin/sh", "-c", "{task}"]
parser = "claude-stream-json"
models = ["replay"]
`);
const t0 = Date.now();
const timings = [];
const server = new OutpostServer({
  bin: OUTPOST_BIN,
  dataDir: path.join(WORK, 'data'),
  logFd: fs.openSync(path.join(OUT_DIR, 'logview-server.log'), 'w'),
  env: { OUTPOST_LOG_LEVEL: 'info', OUTPOST_CONFIG: CONFIG, OUTPOST_CANCEL_GRACE_SECONDS: '1' },
});

const problems = [];
let context;
let page;
let width = 1400;

async function launch() {
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
}

async function shot(name) {
  await page.screenshot({ path: path.join(OUT_DIR, `logview-${name}-${width}.png`), fullPage: false });
}

async function step(name, fn) {
  const start = Date.now();
  const label = `${name} @ ${width} px`;
  process.stdout.write(`[ RUN  ] ${label}\n`);
  await fn();
  timings.push([label, Date.now() - start]);
  process.stdout.write(`[  OK  ] ${label} (${Date.now() - start} ms)\n`);
}

async function waitEnded(id) {
  return waitFor(`run ${id} to end`, async () => {
    const r = await server.run(id);
    return ['COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED'].includes(r.status) ? r : null;
  });
}

// Opens a run's page and waits for its stream to have ended.
async function openEndedRun(id, anchor = '') {
  await page.goto(`${server.base}/#/runs/${id}${anchor}`);
  await page.reload();  // a fresh load of exactly that URL (goto to another hash keeps the page)
  await page.waitForSelector('#stream-state[data-state="ended"]');
}

// Is `sel` inside the visible part of the output box?
async function inOutputView(sel) {
  return page.evaluate((s) => {
    const out = document.querySelector('#run-output').getBoundingClientRect();
    const r = document.querySelector(s).getBoundingClientRect();
    return r.top >= out.top - 1 && r.bottom <= out.bottom + 1 && r.height > 0;
  }, sel);
}

const runs = {};

async function prepareRuns() {
  // 150 lines; every 10th in red (SGR 31), "needle" on 3 of them; a bold green final line.
  const ansi = [
    'for i in $(seq 1 150); do',
    '  if [ $((i % 10)) -eq 0 ]; then printf "\\033[31mred-%d\\033[0m plain\\n" $i; else echo "line-$i"; fi;',
    '  case $i in 40|90|130) echo "needle-$i";; esac;',
    'done; printf "\\033[1;32mall good\\033[0m\\n"',
  ].join('\n');
  runs.ansi = await server.dispatch({ agent: 'shell', task: ansi, tags: { suite: 'logview', kind: 'ansi' } });
  runs.tools = (await server.call('POST', '/dispatch', { agent: 'all', task: `cat ${REPLAY}`, tags: { suite: 'logview', kind: 'tools' } }));
  assert.equal(runs.tools.status, 201, JSON.stringify(runs.tools.json));
  runs.group = runs.tools.json.data.groupId;
  const replayRun = runs.tools.json.data.runs?.find?.((r) => r.agent === 'replay')?.runId
    || (await server.call('GET', `/runs?group=${runs.group}&agent=replay`)).json.data.items[0]?.runId;
  assert.ok(replayRun, `no replay run in the fan-out: ${JSON.stringify(runs.tools.json)}`);
  runs.tools = replayRun;
  for (const id of (await server.call('GET', `/runs?group=${runs.group}`)).json.data.items.map((r) => r.runId)) server.runIds.add(id);
  server.runIds.add(runs.tools);
  const a = await waitEnded(runs.ansi);
  assert.equal(a.status, 'COMPLETED', JSON.stringify(a));
  const t = await waitEnded(runs.tools);
  assert.equal(t.status, 'COMPLETED', JSON.stringify(t));
}

async function ansiColours() {
  await openEndedRun(runs.ansi);
  await page.locator('#run-output .line.stdout', { hasText: /^all good$/ }).waitFor();
  const red = page.locator('#run-output .line.stdout', { hasText: /^red-10 plain$/ });
  assert.equal(await red.locator('.a-fg1').textContent(), 'red-10');
  assert.equal(await red.locator('.a-fg1').evaluate((e) => getComputedStyle(e).color), 'rgb(255, 107, 107)');
  const good = page.locator('#run-output .line.stdout', { hasText: /^all good$/ }).locator('span.a-fg2.a-b');
  assert.equal(await good.textContent(), 'all good');
  const text = await page.textContent('#run-output');
  assert.ok(!text.includes('\x1b') && !text.includes('[31m'), 'no escape left in the output');
  // The final message (the output's tail, escapes and all, in the API) is shown without them.
  const run = await server.run(runs.ansi);
  assert.ok(run.finalMessage.includes('\x1b[1;32m'), JSON.stringify(run.finalMessage));
  const final = page.locator('dl.kv dt', { hasText: /^Final message$/ }).locator('xpath=following-sibling::dd[1]');
  const shown = await final.textContent();
  assert.ok(shown.endsWith('all good') && !shown.includes('\x1b') && !shown.includes('[1;32m'), JSON.stringify(shown));
  await page.locator('#run-output').scrollIntoViewIfNeeded();
  await shot('ansi');
}

async function lineLinks() {
  await openEndedRun(runs.ansi, '#L120');
  await page.waitForSelector('#run-output #L120.hl');
  assert.ok(await inOutputView('#L120'), 'line 120 scrolled into view');
  assert.equal(await page.getAttribute('#L120 a.ln', 'data-n'), '120');
  assert.equal(await page.getAttribute('#L120 a.ln', 'href'), `#/runs/${runs.ansi}#L120`);
  // The number is drawn by CSS: the line's text is its text alone (lines 41 and 91 were needles).
  assert.equal(await page.textContent('#L120'), 'line-118');
  assert.equal(await page.locator('#run-output .hl').count(), 1);
  await page.locator('#run-output').scrollIntoViewIfNeeded();
  await shot('line-link');
  // A click on another number: the URL names it, it is highlighted, the page stays (no reload).
  await page.evaluate(() => { window.__samePage = true; });
  await page.locator('#L118 a.ln').click();
  await waitFor('#L118 in the URL', () => page.url().endsWith(`#/runs/${runs.ansi}#L118`));
  await page.waitForSelector('#L118.hl');
  assert.equal(await page.locator('#run-output .hl').count(), 1);
  // Editing the URL to another line moves there too, still without reloading.
  await page.evaluate((id) => { location.hash = `#/runs/${id}#L3`; }, runs.ansi);
  await page.waitForSelector('#L3.hl');
  assert.ok(await inOutputView('#L3'));
  assert.equal(await page.evaluate(() => window.__samePage), true, 'the page was not reloaded');
}

async function search() {
  await openEndedRun(runs.ansi);
  await page.fill('#log-search', 'NEEDLE');
  await waitFor('3 matches', async () => (await page.textContent('#search-count')) === '1 of 3');
  assert.equal(await page.locator('#run-output .line.match').count(), 3);
  assert.equal(await page.textContent('#run-output .line.match.current'), 'needle-40');
  await page.click('#search-next');
  assert.equal(await page.textContent('#search-count'), '2 of 3');
  assert.equal(await page.textContent('#run-output .line.match.current'), 'needle-90');
  await page.press('#log-search', 'Enter');
  assert.equal(await page.textContent('#run-output .line.match.current'), 'needle-130');
  assert.ok(await inOutputView('#run-output .line.match.current'), 'the current match is in view');
  await page.press('#log-search', 'Enter');  // wraps around
  assert.equal(await page.textContent('#search-count'), '1 of 3');
  await page.click('#search-prev');
  assert.equal(await page.textContent('#search-count'), '3 of 3');
  await page.locator('#run-output').scrollIntoViewIfNeeded();
  await shot('search');
  await page.fill('#log-search', 'no such text');
  await waitFor('no match', async () => (await page.textContent('#search-count')) === 'no match');
  assert.equal(await page.locator('#run-output .line.match').count(), 0);
  await page.fill('#log-search', '');
  assert.equal(await page.textContent('#search-count'), '');
}

async function timestamps() {
  await openEndedRun(runs.ansi);
  const ts = page.locator('#run-output .line.stdout >> nth=0').locator('.ts');
  assert.equal(await ts.evaluate((e) => getComputedStyle(e).display), 'none');
  await page.check('#show-ts');
  assert.equal(await ts.evaluate((e) => getComputedStyle(e).display), 'inline');
  assert.match(await ts.getAttribute('data-ts'), /^\d\d:\d\d:\d\d\.\d{3}$/);
  assert.match(await ts.evaluate((e) => getComputedStyle(e, '::before').content), /^"\d\d:\d\d:\d\d\.\d{3}"$/);
  await page.locator('#run-output').scrollIntoViewIfNeeded();
  await shot('timestamps');
  await page.uncheck('#show-ts');
  assert.equal(await ts.evaluate((e) => getComputedStyle(e).display), 'none');
}

async function toolGroups() {
  await openEndedRun(runs.tools);
  const group = page.locator('#run-output details.group');
  await group.first().waitFor();
  assert.equal(await group.count(), 1);
  assert.match(await group.getAttribute('data-tool-id'), /^toolu_/);
  assert.equal(await group.locator('.tool-name').textContent(), 'Write');
  assert.equal(await group.locator('summary .tx').textContent(), 'Write hello.txt');
  assert.equal(await group.locator('.tool-state').textContent(), 'done');
  assert.equal(await group.evaluate((e) => e.open), false, 'collapsed by default');
  assert.equal(await group.locator('.tool-result').isVisible(), false);
  await group.locator('summary .tx').click();
  assert.equal(await group.evaluate((e) => e.open), true);
  assert.match(await group.locator('.tool-result').textContent(), /^File created successfully at: hello\.txt/);
  assert.deepEqual(JSON.parse(await group.locator('.tool-input').textContent()), { file_path: 'hello.txt', content: 'hi\n' });
  assert.equal(await page.textContent('#run-output .notice.retry'), 'retry 1/1 in 546 ms: HTTP 500 server_error');
  assert.equal(await page.textContent('#run-output .notice.agent'), 'agent: done');
  // The same events as the API gives them: the call and its result paired by id.
  const events = await fetch(`${server.base}/runs/${runs.tools}/events`).then((r) => r.text());
  const data = events.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
  const call = data.find((e) => e.type === 'tool_call');
  const result = data.find((e) => e.type === 'tool_result');
  assert.equal(call.name, 'Write');
  assert.deepEqual(call.input, { file_path: 'hello.txt', content: 'hi\n' });
  assert.equal(result.id, call.id);
  assert.equal(result.isError, false);
  await group.locator('summary .tx').click();  // closed again
  assert.equal(await group.evaluate((e) => e.open), false);
  await page.click('#expand-tools');  // all closed -> all open; again: all closed
  assert.equal(await group.evaluate((e) => e.open), true);
  await page.locator('#run-output').scrollIntoViewIfNeeded();
  await shot('tool-calls');
  // "JSON" off: the agent's own JSON lines go, the steps stay.
  const jsonLines = page.locator('#run-output .line.stdout.json');
  assert.ok(await jsonLines.count() >= 4, 'the replayed JSON lines are marked');
  assert.ok(await jsonLines.first().isVisible());
  await page.uncheck('#show-json');
  assert.equal(await jsonLines.first().isVisible(), false);
  assert.ok(await group.isVisible());
  // The whole run page (the README's screenshot, docs/dashboard.png).
  await page.screenshot({ path: path.join(OUT_DIR, `logview-run-page-${width}.png`), fullPage: true });
  await page.click('#expand-tools');
  assert.equal(await group.evaluate((e) => e.open), false);
  await page.check('#show-json');
  assert.ok(await jsonLines.first().isVisible());
}

async function follow() {
  const id = await server.dispatch({ agent: 'shell', task: 'for i in $(seq 1 4000); do echo "tick-$i"; sleep 0.01; done', tags: { suite: 'logview', kind: 'follow' } });
  await page.goto(`${server.base}/#/runs/${id}`);
  await page.reload();
  await page.locator('#run-output .line.stdout', { hasText: /^tick-60$/ }).waitFor();
  const atEnd = () => page.evaluate(() => { const o = document.querySelector('#run-output'); return o.scrollTop + o.clientHeight >= o.scrollHeight - 30; });
  assert.equal(await page.getAttribute('#follow-toggle', 'aria-pressed'), 'true');
  await waitFor('the view at the end while following', atEnd);
  await page.click('#follow-toggle');
  assert.equal(await page.getAttribute('#follow-toggle', 'aria-pressed'), 'false');
  const top = await page.evaluate(() => document.querySelector('#run-output').scrollTop);
  const count = await page.locator('#run-output .line').count();
  await waitFor('more lines while not following', async () => (await page.locator('#run-output .line').count()) > count + 40);
  assert.equal(await page.evaluate(() => document.querySelector('#run-output').scrollTop), top, 'the view stayed where it was');
  assert.equal(await atEnd(), false);
  await page.locator('#run-output').scrollIntoViewIfNeeded();
  await shot('follow-stopped');
  await page.click('#follow-toggle');
  assert.equal(await page.getAttribute('#follow-toggle', 'aria-pressed'), 'true');
  await waitFor('back at the end', atEnd);
  const more = await page.locator('#run-output .line').count();
  await waitFor('more lines while following', async () => (await page.locator('#run-output .line').count()) > more + 20);
  await waitFor('still at the end', atEnd);
  assert.equal((await server.call('POST', `/runs/${id}/cancel`, {})).status, 202);
  await waitEnded(id);
}

async function noSidewaysOverflow() {
  for (const id of [runs.ansi, runs.tools]) {
    await openEndedRun(id);
    const r = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, win: window.innerWidth }));
    assert.ok(r.doc <= r.win, `page ${r.doc} px wide in a ${r.win} px window`);
    assert.ok(await page.isVisible('#log-search'));
    assert.ok(await page.isVisible('#follow-toggle'));
    const box = await page.locator('#run-output').boundingBox();
    assert.ok(box.width > 300 && box.x >= 0 && box.x + box.width <= r.win, JSON.stringify(box));
  }
}

async function runListFilters() {
  const since = '2h';
  await page.goto(`${server.base}/#/runs`);
  await page.reload();
  await page.waitForSelector('#filter-agent option[value="replay"]', { state: 'attached' });
  await page.selectOption('#filter-status', 'COMPLETED');
  await page.selectOption('#filter-agent', 'replay');
  await page.fill('#filter-tag', 'kind:tools');
  await page.fill('#filter-since', since);
  await page.fill('#filter-group', runs.group);
  await page.click('#run-filters button[type=submit]');
  await waitFor('the filters in the URL', () => page.url().includes('group='));
  const q = new URLSearchParams(page.url().split('?')[1]);
  assert.deepEqual(Object.fromEntries(q), { status: 'COMPLETED', agent: 'replay', tag: 'kind:tools', since, group: runs.group });
  const shownIds = async () => page.$$eval('#runs-body tr[data-run-id]', (rows) => rows.map((r) => r.dataset.runId));
  await waitFor('the filtered list', async () => (await shownIds()).join() === runs.tools);
  // A reload keeps every filter, in the form and in the list.
  await page.reload();
  await waitFor('the filtered list after a reload', async () => (await shownIds()).join() === runs.tools);
  assert.equal(await page.inputValue('#filter-status'), 'COMPLETED');
  assert.equal(await page.inputValue('#filter-agent'), 'replay');
  assert.equal(await page.inputValue('#filter-tag'), 'kind:tools');
  assert.equal(await page.inputValue('#filter-since'), since);
  assert.equal(await page.inputValue('#filter-group'), runs.group);
  await shot('run-filters');
  // Each filter narrows as the API does: the shell runs are not in the group, a future since
  // leaves nothing, repo matches none of them.
  const api = (await server.call('GET', '/runs?agent=shell&tag=suite:logview')).json.data.items.map((x) => x.runId);
  assert.ok(api.includes(runs.ansi) && !api.includes(runs.tools), JSON.stringify(api));
  await page.goto(`${server.base}/#/runs?agent=shell&tag=suite:logview`);
  await waitFor('the shell runs', async () => (await shownIds()).join() === api.join());
  await page.goto(`${server.base}/#/runs?since=2099-01-01T00:00:00Z`);
  await page.waitForSelector('#runs-body td.empty');
  await page.goto(`${server.base}/#/runs?repo=nobody/nothing`);
  await page.waitForSelector('#runs-body td.empty');
  const r = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, win: window.innerWidth }));
  assert.ok(r.doc <= r.win, `runs page ${r.doc} px wide in a ${r.win} px window`);
}

let failed = false;
try {
  await server.start();
  await launch();
  await prepareRuns();
  for (const w of [1400, 390]) {
    width = w;
    await page.setViewportSize({ width: w, height: w === 390 ? 844 : 900 });
    await step('ANSI colours rendered, stripped from the final message', ansiColours);
    await step('line numbers link to their line (#L120)', lineLinks);
    await step('search within the log', search);
    await step('timestamps toggle', timestamps);
    await step('tool calls as collapsible groups with their results', toolGroups);
    await step('follow and stop following a live run', follow);
    await step('nothing overflows sideways', noSidewaysOverflow);
    await step('run list: every API filter, in the URL, kept by a reload', runListFilters);
  }
  assert.deepEqual(problems, [], 'no page errors or CSP violations');
} catch (e) {
  failed = true;
  console.error(`[ FAIL ] ${e.stack || e}`);
  if (problems.length) console.error(`page problems:\n  ${problems.join('\n  ')}`);
  if (page) await page.screenshot({ path: path.join(OUT_DIR, `logview-failure-${width}.png`) }).catch(() => {});
} finally {
  if (context) await context.close().catch(() => {});
  await server.cleanUp();
  fs.rmSync(WORK, { recursive: true, force: true });
}
console.log(`\nlogview_test: ${failed ? 'FAILED' : 'passed'} in ${Date.now() - t0} ms; screenshots in ${OUT_DIR}`);
for (const [name, ms] of timings) console.log(`  ${String(ms).padStart(6)} ms  ${name}`);
process.exit(failed ? 1 : 0);
