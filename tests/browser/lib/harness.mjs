// Shared pieces of the browser journeys: the real daemon as a child process, Debian's
// Chromium through playwright-core, screenshots, and a few assertions on visible text.
//
// Network rule: the daemon listens on 127.0.0.1 and the browser may reach loopback only;
// any other request is aborted and reported, and the journeys assert there were none.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const ARTIFACTS = path.join(REPO_ROOT, 'target', 'browser-artifacts');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/**
 * Chromium's fake microphone and camera (a generated tone), with the permission prompt
 * answered yes: for journeys that record (语音管理 录音). Pass as openBrowser({ args }).
 */
export const FAKE_MEDIA_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const URL_RE = /https:\/\/127\.0\.0\.1:\d+\//;
const START_TIMEOUT_MS = 30_000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function daemonBinary() {
  const fromEnv = process.env.COOCENTERD_BIN;
  return fromEnv ? path.resolve(fromEnv) : path.join(REPO_ROOT, 'target', 'debug', 'coocenterd');
}

/**
 * Starts `coocenterd demo --listen 127.0.0.1:0 --data-dir <fresh temp dir>` and waits for
 * the URL it prints. Its output goes to target/browser-artifacts/<name>-coocenterd.log.
 * `prepare(dataDir)`, when given, runs (and is awaited) before the daemon starts: a journey
 * puts files where the demo's config looks (src/demo.rs `config`: `voicemail/`, `monitor/`,
 * `sounds/`, …) so that they are found at start.
 * → { url, dataDir, stop, output }
 */
export async function startDaemon(name, { prepare } = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'coocenterd-browser-'));
  if (prepare) {
    try {
      await prepare(dataDir);
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
  }
  return spawnDaemon(name, ['demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir], dataDir);
}

/** The repository's sibling `shared/` folder (specs and real traces), as the Rust tests find it. */
export const SHARED = path.resolve(REPO_ROOT, '..', 'shared');

/**
 * Copies the folder `from` into `to` (created), files and folders made writable by their
 * owner: the traces in shared/ are read-only, and the daemon must be able to delete and
 * renumber the copies as Asterisk would.
 */
export async function copyTree(from, to) {
  await cp(from, to, { recursive: true, force: true, errorOnExist: false });
  const walk = async (dir) => {
    await chmod(dir, 0o755);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(p);
      else await chmod(p, 0o644);
    }
  };
  await walk(to);
}

/**
 * Starts `coocenterd serve --config <config>` (the real daemon, no simulator) and waits
 * for the "serving the console on https://127.0.0.1:PORT/" line (on stderr). `dataDir`
 * (the config's storage.data_dir, in a temp dir of the caller's) is removed by stop().
 */
export async function startServe(name, config, dataDir) {
  return spawnDaemon(name, ['serve', '--config', config], dataDir);
}

async function spawnDaemon(name, args, dataDir) {
  const bin = daemonBinary();
  assert.ok(existsSync(bin), `coocenterd binary not found at ${bin} (build it, or set COOCENTERD_BIN)`);
  const child = spawn(bin, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const url = await new Promise((resolve, reject) => {
    let seen = '';
    let found = false;
    const timer = setTimeout(() => {
      reject(new Error(`coocenterd printed no https://127.0.0.1:<port>/ URL within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk) => {
      const s = chunk.toString();
      output += s;
      if (found) return;
      seen += s;
      const m = seen.match(URL_RE);
      if (m) {
        found = true;
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`coocenterd exited early (code ${code}, signal ${signal}):\n${output}`));
    });
  });

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited, sleep(10_000).then(() => null)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(path.join(ARTIFACTS, `${name}-coocenterd.log`), output);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }

  return { url, dataDir, stop, output: () => output };
}

function isLoopback(hostname) {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Chromium with a context that accepts the daemon's self-signed certificate and aborts
 * every request that is not to loopback. Collects page errors, CSP reports, blocked
 * requests and the API requests made (with their Accept-Language).
 */
export async function openBrowser({ args = [] } = {}) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...args] });
  const { context, page, log } = await openContext(browser);
  return { browser, context, page, log };
}

/**
 * Another context (its own cookies: a second user) in `browser`, with the same rules and
 * records as openBrowser's: loopback only, page errors, CSP reports, API requests.
 */
export async function openContext(browser) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1366, height: 800 },
    deviceScaleFactor: 1,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const log = { pageErrors: [], cspViolations: [], consoleErrors: [], blocked: [], api: [] };
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || isLoopback(url.hostname)) return route.continue();
    log.blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => log.pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (/Content Security Policy/i.test(text)) log.cspViolations.push(text);
    // 4xx answers (bad login, 401 after logout) are logged by Chromium as resource errors: expected.
    else if (!/^Failed to load resource/.test(text)) log.consoleErrors.push(text);
  });
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.pathname.startsWith('/api/')) {
      log.api.push({ method: req.method(), path: url.pathname, query: url.search, lang: req.headers()['accept-language'] });
    }
  });
  return { context, page, log };
}

/**
 * Journeys that name their screenshots `<prefix>-….png` (and failures
 * `FAILED-<prefix>-stepNN.png`), so that journeys running at the same time (node --test runs
 * files in parallel) never delete each other's files.
 */
const PREFIXED_JOURNEYS = ['dashboard', 'console', 'agents', 'manuals', 'firmware', 'custom-table', 'voicemail', 'recordings', 'prompts'];
const ownedBy = (f, prefix) => f.startsWith(`${prefix}-`) || f.startsWith(`FAILED-${prefix}-`);

/**
 * Removes the screenshots of an earlier run, keeps the folder. With `prefix`, only that
 * journey's files; without, every screenshot not owned by a prefixed journey.
 */
export async function cleanArtifacts(prefix) {
  await mkdir(ARTIFACTS, { recursive: true });
  for (const f of await readdir(ARTIFACTS)) {
    if (!f.endsWith('.png')) continue;
    const mine = prefix ? ownedBy(f, prefix) : !PREFIXED_JOURNEYS.some((p) => ownedBy(f, p));
    if (mine) await rm(path.join(ARTIFACTS, f), { force: true });
  }
}

export async function screenshot(page, file) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, file), animations: 'disabled', caret: 'hide' });
}

/** Waits until the first match of `locator` is visible and its text equals (or matches) `expected`. */
export async function expectText(locator, expected, { timeout = 10_000 } = {}) {
  const first = locator.first();
  await first.waitFor({ state: 'visible', timeout });
  const deadline = Date.now() + timeout;
  let text = '';
  for (;;) {
    text = (await first.innerText()).trim();
    if (expected instanceof RegExp ? expected.test(text) : text === expected) return text;
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  assert.fail(`expected text ${expected} but the element shows ${JSON.stringify(text)}`);
}

/** Waits for `location.hash` to become `hash`. */
export async function expectHash(page, hash, { timeout = 10_000 } = {}) {
  try {
    await page.waitForFunction((h) => location.hash === h, hash, { timeout });
  } catch {
    assert.fail(`expected location.hash ${hash}, got ${await page.evaluate(() => location.hash)}`);
  }
}

/** Waits for an attribute of the first match of `locator` to equal `value`. */
export async function expectAttr(locator, name, value, { timeout = 10_000 } = {}) {
  const deadline = Date.now() + timeout;
  let got;
  for (;;) {
    got = await locator.first().getAttribute(name);
    if (got === value) return;
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  assert.fail(`expected ${name}=${JSON.stringify(value)}, got ${JSON.stringify(got)}`);
}

/**
 * Runs named steps as subtests of `t`, in order; once one fails the rest are skipped
 * (a journey cannot go on from a broken state) and a screenshot of the failure is saved
 * (`FAILED-stepNN.png`, or `FAILED-<prefix>-stepNN.png` with a prefix).
 */
export function stepper(t, page, prefix) {
  let broken = false;
  let n = 0;
  return async function step(name, fn) {
    n += 1;
    const idx = String(n).padStart(2, '0');
    await t.test(name, async (st) => {
      if (broken) {
        st.skip('an earlier step failed');
        return;
      }
      try {
        await fn();
      } catch (err) {
        broken = true;
        await screenshot(page, prefix ? `FAILED-${prefix}-step${idx}.png` : `FAILED-step${idx}.png`).catch(() => {});
        throw err;
      }
    });
  };
}
