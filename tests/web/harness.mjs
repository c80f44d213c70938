// Helpers of the dashboard test: a real `outpost serve` child process, waiting for conditions
// with deadlines, and the processes of a run (by the OUTPOST_RUN_ID marker in their environment).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';

// The command line of a Chromium test (`node NAME.mjs OUTPOST_BIN OUT_DIR`, exit 2 on bad
// usage) and its browser: Debian's chromium (OUTPOST_CHROMIUM) driven by playwright-core. A
// missing one is a failure naming it (exit 1), never a skip.
export async function browserTest(name) {
  const [outpostBin, outDir] = process.argv.slice(2);
  if (!outpostBin || !outDir) {
    console.error(`usage: node ${name}.mjs OUTPOST_BIN OUT_DIR`);
    process.exit(2);
  }
  const executablePath = process.env.OUTPOST_CHROMIUM || '/usr/bin/chromium';
  const missing = (why) => {
    console.error(`\n*** FAILED: ${name}: ${why}\n*** run scripts/install-deps.sh test\n`);
    process.exit(1);
  };
  if (!fs.existsSync(executablePath)) missing(`chromium is not installed (no ${executablePath})`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    missing(`playwright-core is not installed (${e.message.split('\n')[0]})`);
  }
  return { outpostBin, outDir, executablePath, chromium };
}

export const LONG = 30_000;  // the deadline of one condition on a loaded machine

// Polls `pred` (sync or async) every 50 ms until it is truthy; throws after `timeout`.
export async function waitFor(what, pred, timeout = LONG) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Live processes carrying the run's marker: the agent and anything it started.
export function processesOf(runId) {
  const found = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      if (env.includes(`OUTPOST_RUN_ID=${runId}`)) found.push(Number(pid));
    } catch { /* gone, or not ours */ }
  }
  return found;
}

// `outpost serve --data-dir DIR --runner process`, stderr appended to `logFd`. start() may be
// called again after stop() with the old address, to restart on the same port.
export class OutpostServer {
  constructor({ bin, dataDir, env = {}, logFd }) {
    Object.assign(this, { bin, dataDir, env, logFd, child: null, base: '' });
    this.runIds = new Set();  // every run dispatched through dispatch() or recorded by the test
    this.key = '';  // sent by call() unless a call names its own; '' = none (open mode)
  }

  // `outpost admin ARGS --data-dir DIR` on this server's store (the server may be running):
  // its stdout, trimmed (the tenant id, or the new key).
  admin(...args) {
    return execFileSync(this.bin, ['admin', ...args, '--data-dir', this.dataDir, '--create'], {
      env: { ...process.env, ...this.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', this.logFd],
    }).trim();
  }

  async start(listen = '127.0.0.1:0') {
    const child = spawn(this.bin, ['serve', '--listen', listen, '--data-dir', this.dataDir, '--runner', 'process'], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', this.logFd],
    });
    const line = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`outpost serve printed no address in ${LONG} ms`)), LONG);
      readline.createInterface({ input: child.stdout }).once('line', (l) => { clearTimeout(timer); resolve(l); });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`outpost serve exited with ${code}; see server.log`)); });
    });
    const m = /^listening on (http:\/\/[\d.]+:\d+)$/.exec(line);
    assert.ok(m, `unexpected first line: ${line}`);
    child.stdout.resume();
    this.child = child;
    this.base = m[1];
  }

  get hostPort() {
    return new URL(this.base).host;
  }

  // SIGINT (stops at once; SIGTERM would drain first, waiting for the runs) and wait for the
  // exit (SIGKILL after LONG); the runs go on under their shims.
  async stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), LONG);
    await exited;
    clearTimeout(timer);
  }

  // One API call with `key` (default: this.key) as the bearer token; {status, json}.
  async call(method, p, body, { key = this.key } = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (key) headers.Authorization = `Bearer ${key}`;
    const res = await fetch(this.base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  }

  async dispatch(body, opts) {
    const r = await this.call('POST', '/dispatch', body, opts);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    this.runIds.add(r.json.data.runId);
    return r.json.data.runId;
  }

  async run(id, opts) {
    const r = await this.call('GET', `/runs/${id}`, undefined, opts);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.data;
  }

  // Cancels every recorded run still going (with each of `keys`: runs of several tenants),
  // stops the server, kills whatever a run left.
  async cleanUp(keys = [this.key]) {
    for (const key of keys) {
      if (this.child) for (const id of this.runIds) await this.call('POST', `/runs/${id}/cancel`, {}, { key }).catch(() => {});
    }
    await this.stop().catch(() => {});
    for (const id of this.runIds) {
      for (const pid of processesOf(id)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    }
  }
}
