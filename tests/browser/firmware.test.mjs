// Journey: 管理员 → 固件升级 against a REAL RAUC.
//
// lib/rauc-rig.sh starts the rig of src/firmware/tests/harness.rs (private dbus-daemon,
// `rauc service` booted from slot A with file slots and a U-Boot environment file, a
// development CA and a foreign one, bundles good.raucb 2.1.0 and foreign.raucb). The
// journey starts `coocenterd serve` talking to it, logs in, opens the upgrade page (slots,
// the booted one highlighted, this device's compatible), uploads the foreign bundle and
// sees the refusal (unknown CA), uploads the good one (upload progress bar, then version
// 2.1.0 to confirm), installs it and watches the progress reach 100 % / reboot required.
//
// Needs root and Debian's rauc, squashfs-tools, dbus, libubootenv-tool, u-boot-tools,
// e2fsprogs, openssl; skipped (with the reason) when `rauc` is not installed.
//
// Run from the repository root:  node --test tests/browser/

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  cleanArtifacts,
  expectAttr,
  expectHash,
  expectText,
  openBrowser,
  screenshot,
  sleep,
  startServe,
  stepper,
} from './lib/harness.mjs';
import { loginAndChangePassword } from './lib/login.mjs';

const JOURNEY = 'firmware';
const RIG = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'rauc-rig.sh');
const HAVE_RAUC = spawnSync('sh', ['-c', 'command -v rauc'], { stdio: 'ignore' }).status === 0;
const SKIP = HAVE_RAUC
  ? false
  : '`rauc` is not installed (apt-get install rauc squashfs-tools dbus libubootenv-tool u-boot-tools e2fsprogs openssl)';

let rig;
let rigProc;
let rigExited;
let daemon;
let session;

/** Starts lib/rauc-rig.sh and waits for its JSON line. */
async function startRig() {
  const child = spawn('bash', [RIG], { stdio: ['ignore', 'pipe', 'pipe'] });
  rigProc = child;
  rigExited = new Promise((resolve) => child.once('exit', resolve));
  let err = '';
  child.stderr.on('data', (c) => {
    err += c.toString();
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`rauc-rig.sh printed nothing within 120 s: ${err}`)), 120_000);
    child.stdout.on('data', (c) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rauc-rig.sh exited (${code}): ${err}`));
    });
  });
}

/** A loopback port nobody listens on (for [ami]: the PBX is absent here). */
async function closedPort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

before(async () => {
  if (SKIP) return;
  await cleanArtifacts(JOURNEY);
  rig = await startRig();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'coocenterd-firmware-'));
  const config = path.join(tmp, 'coocenterd.toml');
  const toml = (s) => JSON.stringify(s); // TOML basic strings accept JSON escapes
  await writeFile(
    config,
    [
      '[http]',
      'listen = ["127.0.0.1:0"]',
      '[storage]',
      `data_dir = ${toml(path.join(tmp, 'data'))}`,
      '[ami]',
      'host = "127.0.0.1"',
      `port = ${await closedPort()}`,
      '[firmware]',
      'enabled = true',
      `bus_address = ${toml(rig.bus_address)}`,
      `keyring = ${toml(rig.keyring)}`,
      '',
    ].join('\n'),
  );
  daemon = await startServe(JOURNEY, config, tmp);
  session = await openBrowser();
});

after(async () => {
  if (session) await session.browser.close();
  if (daemon) await daemon.stop();
  if (rigProc && rigProc.exitCode === null) {
    rigProc.kill('SIGTERM');
    await Promise.race([rigExited, sleep(10_000)]);
  }
});

test('固件升级 with a real RAUC (admin menu, system section)', { timeout: 300_000, skip: SKIP }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page, JOURNEY);
  const byId = (id) => page.getByTestId(id);

  // Every poll and upload the page sent.
  const polls = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.pathname === '/api/v1/firmware') polls.push(Date.now());
  });

  await step('log in, 管理员 → 固件升级: slots and this device’s compatible', async () => {
    await loginAndChangePassword(page, daemon.url);
    await byId('admin-menu').click();
    await expectText(byId('menu-upgrade'), '固件升级');
    await byId('menu-upgrade').click();
    await expectHash(page, '#/system/upgrade');
    await expectText(byId('page-title'), '固件升级');
    await expectText(byId('fw-compatible'), 'CooCenter CC-8 test');
    await expectText(byId('fw-boot-slot'), 'A');
    const slots = byId('fw-slot');
    assert.equal(await slots.count(), 2);
    const booted = page.locator('[data-testid=fw-slot][data-state=booted]');
    assert.equal(await booted.count(), 1);
    assert.equal(await booted.getAttribute('data-bootname'), 'A');
    assert.match(await booted.getAttribute('class'), /fw-slot-booted/);
    await expectText(booted.locator('td').nth(1), '当前运行');
    const other = page.locator('[data-testid=fw-slot][data-bootname=B]');
    await expectText(other.locator('td').nth(1), '备用');
    await byId('fw-drop').waitFor({ state: 'visible' });
    await screenshot(page, `${JOURNEY}-page.png`);
  });

  await step('a bundle signed by a foreign CA is refused with the server’s message', async () => {
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/firmware/bundle');
    await page.locator('#fw-file').setInputFiles(rig.foreign_bundle);
    const res = await answer;
    assert.equal(res.status(), 422);
    await expectText(byId('fw-upload-error'), /签名证书不受本设备信任/);
    // Nothing else: no bundle to confirm, the drop zone is back.
    assert.equal(await byId('fw-bundle').count(), 0);
    assert.equal(await byId('fw-install').count(), 0);
    await byId('fw-drop').waitFor({ state: 'visible' });
    await screenshot(page, `${JOURNEY}-refused.png`);
  });

  await step('a tampered bundle (one byte of the image changed) is refused', async () => {
    // The good bundle with one byte flipped inside its payload: the signature no longer
    // matches what it signs.
    const bytes = await readFile(rig.good_bundle);
    bytes[Math.floor(bytes.length / 3)] ^= 0xff;
    const tampered = path.join(rig.dir, 'tampered.raucb');
    await writeFile(tampered, bytes);
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/firmware/bundle');
    await page.locator('#fw-file').setInputFiles(tampered);
    const res = await answer;
    assert.equal(res.status(), 422);
    await expectText(byId('fw-upload-error'), /签名校验失败|损坏|不完整/);
    assert.equal(await byId('fw-install').count(), 0, 'nothing to install');
    await screenshot(page, `${JOURNEY}-tampered.png`);
  });

  await step('the good bundle: upload progress, then version 2.1.0 to confirm', async () => {
    // Watch the upload bar: record every percentage it shows.
    await page.evaluate(() => {
      window.__fwUpload = [];
      new MutationObserver(() => {
        const bar = document.querySelector('[data-testid=fw-upload-bar]');
        if (bar) window.__fwUpload.push(Number(bar.dataset.percent));
      }).observe(document.getElementById('main'), { subtree: true, childList: true, attributes: true });
    });
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/firmware/bundle');
    await page.locator('#fw-file').setInputFiles(rig.good_bundle);
    const res = await answer;
    assert.equal(res.status(), 200);
    await byId('fw-bundle').waitFor({ state: 'visible' });
    const seen = await page.evaluate(() => window.__fwUpload);
    assert.ok(seen.length > 0, 'the upload progress bar was shown');
    assert.equal(await byId('fw-upload-error').count(), 0, 'the earlier refusal is gone');
    await expectText(byId('fw-bundle-version'), '2.1.0');
    await expectText(byId('fw-bundle-compatible'), 'CooCenter CC-8 test');
    await expectText(byId('fw-bundle-size'), /KB|MB/);
    await expectText(byId('fw-install'), '安装到备用分区');
    await screenshot(page, `${JOURNEY}-confirm.png`);
  });

  await step('install: progress polled every 500 ms until 100 % and reboot required', async () => {
    const percents = [];
    await page.exposeFunction('__fwPercent', (p) => percents.push(p));
    await page.evaluate(() => {
      new MutationObserver(() => {
        const bar = document.querySelector('[data-testid=fw-install-bar]');
        if (bar) window.__fwPercent(Number(bar.dataset.percent));
      }).observe(document.getElementById('main'), { subtree: true, childList: true, attributes: true });
    });
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/firmware/install');
    const before = polls.length;
    await byId('fw-install').click();
    assert.equal((await answer).status(), 202);
    await byId('fw-install-progress').waitFor({ state: 'visible' });
    await screenshot(page, `${JOURNEY}-installing.png`);
    await expectAttr(byId('fw-install-state'), 'data-state', 'reboot_required', { timeout: 120_000 });
    await expectText(byId('fw-reboot-required'), /安装完成，重启设备后生效/);
    await expectText(byId('fw-install-bar-percent'), '100%');
    assert.ok(polls.length - before >= 1, 'GET /firmware was polled');
    assert.ok(percents.includes(100), `the bar reached 100 % (saw ${[...new Set(percents)].join(', ')})`);
    // The upload form is back for the next bundle; the slots were read again.
    await byId('fw-drop').waitFor({ state: 'visible' });
    await screenshot(page, `${JOURNEY}-installed.png`);
  });

  await step('English: the reboot-required state and the slots', async () => {
    await byId('lang-en').click();
    await expectText(byId('page-title'), 'Firmware upgrade');
    await expectText(byId('fw-reboot-required'), /Installed: restart the box to use it/);
    await expectText(page.locator('[data-testid=fw-slot][data-state=booted] td').nth(1), 'Running');
    await screenshot(page, `${JOURNEY}-en.png`);
  });

  await step('no page errors, CSP violations or off-loopback requests', async () => {
    assert.deepEqual(log.pageErrors, []);
    assert.deepEqual(log.cspViolations, []);
    assert.deepEqual(log.blocked, []);
  });
});
