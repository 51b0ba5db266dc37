// Journey: manual §2 控制台访问 → 启动控制台: the Asterisk command line in the browser.
//
// Run `core show version` and read its output; ↑ brings the command back and ↓ the empty
// line; an unknown command shows Asterisk's own answer; `core restart now` asks for a
// confirmation with the server's message, and cancelling sends nothing further; the screen
// survives a visit to another page.
//
// Run from the repository root:  node --test tests/browser/

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  cleanArtifacts,
  expectHash,
  expectText,
  openBrowser,
  screenshot,
  sleep,
  startDaemon,
  stepper,
} from './lib/harness.mjs';
import { loginAndChangePassword } from './lib/login.mjs';

const JOURNEY = 'console';
const CJK = /[\u3400-\u9fff]/;

let daemon;
let session;

before(async () => {
  await cleanArtifacts(JOURNEY);
  daemon = await startDaemon(JOURNEY);
  session = await openBrowser();
});

after(async () => {
  if (session) await session.browser.close();
  if (daemon) await daemon.stop();
});

test('控制台 journey (manual §2 控制台访问)', { timeout: 180_000 }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page, JOURNEY);
  const byId = (id) => page.getByTestId(id);
  const input = page.locator('#console-input');
  const entries = () => byId('console-entry');
  const lastEntry = () => entries().last();

  // Every command the page sent, with its body.
  const sent = [];
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === '/api/v1/console/command' && req.method() === 'POST') {
      sent.push({ ...req.postDataJSON(), lang: req.headers()['accept-language'] });
    }
  });

  async function run(command) {
    await input.fill(command);
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/console/command');
    await input.press('Enter');
    return answer;
  }

  await step('log in, change the password, 管理员 → 设置 → 启动控制台', async () => {
    await loginAndChangePassword(page, daemon.url);
    await byId('admin-menu').click();
    await byId('menu-settings').click();
    await expectHash(page, '#/settings');
    await expectText(byId('console-start'), '启动控制台');
    await byId('console-start').click();
    await expectHash(page, '#/console');
    await expectText(byId('page-title'), '控制台');
    await byId('console-page').waitFor({ state: 'visible' });
    await expectText(page.locator('label[for=console-input]'), 'coocenter*CLI>');
    // The input line has the focus: typing goes straight to the command line.
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'console-input', null, {
      timeout: 5_000,
    });
  });

  await step('core show version: the output is shown under the command', async () => {
    const answer = await run('core show version');
    assert.equal(answer.status(), 200);
    assert.deepEqual(sent.at(-1), { command: 'core show version', confirmed: false, lang: 'zh-CN' });
    await expectText(lastEntry().getByTestId('console-entry-command'), 'core show version');
    const output = await expectText(lastEntry().getByTestId('console-entry-output'), /\S/);
    assert.match(output, /Asterisk/);
    assert.equal(await lastEntry().getByTestId('console-entry-output').getAttribute('data-ok'), 'true');
    assert.equal(await input.inputValue(), '', 'the input line is emptied');
    await screenshot(page, 'console-output.png');
  });

  await step('↑ recalls the command, ↓ returns to the empty line', async () => {
    await input.press('ArrowUp');
    assert.equal(await input.inputValue(), 'core show version');
    await input.press('ArrowDown');
    assert.equal(await input.inputValue(), '');
    const before = sent.length;
    await input.press('ArrowUp');
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/console/command');
    await input.press('Enter');
    await answer;
    assert.equal(sent.length, before + 1);
    assert.equal(sent.at(-1).command, 'core show version', 'the recalled line is what runs');
    assert.equal(await entries().count(), 2);
  });

  await step('Enter on an empty line sends nothing', async () => {
    const before = sent.length;
    await input.press('Enter');
    await sleep(300);
    assert.equal(sent.length, before);
    assert.equal(await lastEntry().getAttribute('data-state'), 'empty');
  });

  await step('an unknown command shows Asterisk’s answer', async () => {
    const answer = await run('no such command here');
    assert.equal(answer.status(), 200);
    const body = await answer.json();
    assert.equal(body.ok, false);
    await expectText(lastEntry().getByTestId('console-entry-output'), /\S/);
    assert.equal(await lastEntry().getByTestId('console-entry-output').getAttribute('data-ok'), 'false');
  });

  await step('core restart now asks first; cancelling sends nothing further', async () => {
    const answer = await run('core restart now');
    assert.equal(answer.status(), 409);
    assert.equal((await answer.json()).error.code, 'confirmation_required');
    assert.deepEqual(sent.at(-1), { command: 'core restart now', confirmed: false, lang: 'zh-CN' });
    const dialog = byId('console-confirm');
    await dialog.waitFor({ state: 'visible' });
    const message = await expectText(byId('console-confirm-message'), /\S/);
    assert.match(message, CJK, 'the server’s message, in Chinese');
    await expectText(byId('console-confirm-command'), 'core restart now');
    await expectText(byId('console-confirm-cancel'), '取消');
    await screenshot(page, 'console-confirm.png');
    const before = sent.length;
    await byId('console-confirm-cancel').click();
    await dialog.waitFor({ state: 'hidden' });
    await expectText(lastEntry().getByTestId('console-entry-cancelled'), '已取消，命令未执行。');
    await sleep(1000);
    assert.equal(sent.length, before, 'nothing sent after cancelling');
    assert.ok(!sent.some((s) => s.confirmed === true), 'never sent confirmed');
  });

  await step('Escape cancels the confirmation too', async () => {
    await run('core restart now');
    await byId('console-confirm').waitFor({ state: 'visible' });
    const before = sent.length;
    await page.keyboard.press('Escape');
    await byId('console-confirm').waitFor({ state: 'hidden' });
    await expectText(lastEntry().getByTestId('console-entry-cancelled'), /\S/);
    await sleep(500);
    assert.equal(sent.length, before);
  });

  await step('the screen and the history survive a visit to another page', async () => {
    const count = await entries().count();
    await byId('nav-dashboard').click();
    await expectHash(page, '#/dashboard');
    await page.goBack();
    await expectHash(page, '#/console');
    assert.equal(await entries().count(), count);
    await input.press('ArrowUp');
    assert.equal(await input.inputValue(), 'core restart now');
    await input.press('ArrowUp');
    assert.equal(await input.inputValue(), 'no such command here');
    await input.press('ArrowUp');
    assert.equal(await input.inputValue(), 'core show version');
    await input.press('ArrowUp');
    assert.equal(await input.inputValue(), 'core show version', 'the oldest command stays');
    await input.fill('');
  });

  await step('English: the page and the server’s confirmation speak English', async () => {
    await byId('lang-en').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await expectText(byId('page-title'), 'Console');
    await expectText(byId('console-clear'), 'Clear');
    await run('core stop now');
    await byId('console-confirm').waitFor({ state: 'visible' });
    assert.equal(sent.at(-1).lang, 'en');
    const message = await expectText(byId('console-confirm-message'), /\S/);
    assert.doesNotMatch(message, CJK, `English message expected, got ${message}`);
    await expectText(byId('console-confirm-cancel'), 'Cancel');
    await screenshot(page, 'console-confirm-en.png');
    await byId('console-confirm-cancel').click();
    await expectText(lastEntry().getByTestId('console-entry-cancelled'), 'Cancelled; the command was not run.');
    await byId('lang-zh').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  });

  await step('清屏 empties the screen', async () => {
    await expectText(byId('console-clear'), '清屏');
    await byId('console-clear').click();
    assert.equal(await entries().count(), 0);
    await byId('console-output').locator('.term-welcome').waitFor({ state: 'visible' });
  });

  await step('no script errors, no CSP violations, nothing but loopback reached', async () => {
    assert.deepEqual(log.pageErrors, [], 'page errors');
    assert.deepEqual(log.cspViolations, [], 'CSP violations');
    assert.deepEqual(log.consoleErrors, [], 'console errors');
    assert.deepEqual(log.blocked, [], 'requests to non-loopback addresses');
  });
});
