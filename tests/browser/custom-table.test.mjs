// Journey: manual §9.3 自定义表 and §9.2 邮件通知, 删除数据, on the demo daemon.
//
// The administrator opens 高级设置 → 自定义表 and creates attributes: 级别 (选择) is first
// refused without 属性值 and 地址 (输入) refused with one (the server's message next to the
// field, nothing saved), then both are saved, a duplicate name is refused, 级别 is edited
// to priority 0 and hidden, which moves it to the top, and 地址 is deleted after a
// confirmation. On 邮件通知 a bad recipient is refused next to its field, then 测试 sends a
// mail through a real SMTP server on loopback (aiosmtpd, tests/smtp/sink.py) and shows the
// server's answer; the sink has the mail with its subject and recipients; the settings are
// saved (the password never comes back). On 删除数据 the operation log's deletion is
// confirmed with its count; a login from a second browser context makes that count stale,
// which the server refuses and the dialog explains with the new count; confirming again
// deletes. Screenshots go to target/browser-artifacts/custom-table-*.png.
//
// Run from the repository root:  node --test tests/browser/

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import {
  REPO_ROOT,
  cleanArtifacts,
  expectAttr,
  expectHash,
  expectText,
  openBrowser,
  openContext,
  screenshot,
  sleep,
  startDaemon,
  stepper,
} from './lib/harness.mjs';
import { NEW_PASSWORD, loginAndChangePassword } from './lib/login.mjs';

const JOURNEY = 'custom-table';

let daemon;
let session;
let sink;

/** A Python with aiosmtpd: `python3`, else Debian's (apt-get install python3-aiosmtpd). */
function python() {
  const candidates = [process.env.COOCENTER_TEST_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
  for (const candidate of candidates) {
    const r = spawnSync(candidate, ['-c', 'import aiosmtpd'], { stdio: 'ignore' });
    if (r.status === 0) return candidate;
  }
  throw new Error('no Python with aiosmtpd (apt-get install python3-aiosmtpd; scripts/test does)');
}

/** The SMTP sink of tests/smtp/sink.py → { port, messages(), stop() }. */
async function startSink() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coocenter-smtp-'));
  const child = spawn(python(), [path.join(REPO_ROOT, 'tests/smtp/sink.py'), '--dir', dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the SMTP sink did not start')), 15_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^PORT (\d+)$/.exec(line.trim());
      if (m) resolve(Number(m[1]));
      else reject(new Error(`unexpected sink output: ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`the SMTP sink exited (${code})`)));
  });
  async function messages() {
    const names = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    return Promise.all(names.map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8'))));
  }
  async function stop() {
    child.stdin.end();
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
  return { port, messages, stop };
}

before(async () => {
  await cleanArtifacts(JOURNEY);
  sink = await startSink();
  daemon = await startDaemon(JOURNEY);
  session = await openBrowser();
});

after(async () => {
  if (session) await session.browser.close();
  if (daemon) await daemon.stop();
  if (sink) await sink.stop();
});

/** GET/POST/… from inside `page` (its cookies), answering { status, body }. */
function call(page, method, p, body) {
  return page.evaluate(
    async ([m, u, b]) => {
      const r = await fetch(u, {
        method: m,
        headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'Accept-Language': 'zh-CN' },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    [method, p, body],
  );
}

const texts = async (locator) => (await locator.allInnerTexts()).map((s) => s.trim());

test('自定义表, 邮件通知 and 删除数据 journey (manual §9.2, §9.3)', { timeout: 300_000 }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page, JOURNEY);
  const byId = (id) => page.getByTestId(id);
  const row = (name) => page.locator(`[data-testid="cf-row"][data-name="${name}"]`);
  const names = () => texts(page.getByTestId('cf-cell-name'));
  const responseOf = (method, re) =>
    page.waitForResponse((r) => r.request().method() === method && re.test(new URL(r.url()).pathname));

  async function fillAttribute({ name, kind, options, priority }) {
    if (name !== undefined) await page.locator('#cf-form-name').fill(name);
    if (kind !== undefined) await page.locator('#cf-form-kind').selectOption(kind);
    if (options !== undefined) await page.locator('#cf-form-options').fill(options);
    if (priority !== undefined) await page.locator('#cf-form-priority').fill(String(priority));
  }

  await step('log in as administrator', async () => {
    await loginAndChangePassword(page, daemon.url);
  });

  await step('高级设置 → 自定义表 shows the manual’s columns and an empty table', async () => {
    await byId('nav-customTable').click();
    await expectHash(page, '#/advanced/custom-table');
    await expectText(byId('page-title'), '自定义表');
    await byId('cf-none').waitFor({ state: 'visible' });
    await byId('cf-create').click();
    await byId('cf-form').waitFor({ state: 'visible' });
    await expectText(page.locator('#cf-form-title'), '新建表属性');
    const kinds = await texts(page.locator('#cf-form-kind option'));
    assert.deepEqual(kinds, ['输入', '单选', '多项', '选择', '日期', '时间', '文本']);
  });

  await step('选择 without 属性值 is refused next to 属性值; nothing is saved', async () => {
    await fillAttribute({ name: '级别', kind: 'select', options: '', priority: 5 });
    const answer = responseOf('POST', /^\/api\/v1\/custom-fields$/);
    await byId('cf-form-submit').click();
    assert.equal((await answer).status(), 400);
    await expectText(byId('cf-form-options-error'), '类型为“选择”时必须填写属性值（可选的内容）。');
    await screenshot(page, 'custom-table-refused.png');
    assert.deepEqual((await call(page, 'GET', '/api/v1/custom-fields')).body, []);
    await fillAttribute({ options: '1,2' });
    await byId('cf-form-submit').click();
    await byId('cf-form').waitFor({ state: 'detached' });
    await expectText(byId('cf-notice'), '已新建属性“级别”。');
    await expectText(row('级别').getByTestId('cf-cell-kind'), '选择');
    await expectText(row('级别').getByTestId('cf-cell-options'), /1\s*2/);
  });

  await step('输入 with 属性值 is refused; without, it is saved and ordered by priority', async () => {
    await byId('cf-create').click();
    await fillAttribute({ name: '地址', kind: 'input', options: '北京', priority: 1 });
    await byId('cf-form-submit').click();
    await expectText(byId('cf-form-options-error'), /类型为“输入”时不能填写属性值/);
    await fillAttribute({ options: '' });
    await byId('cf-form-submit').click();
    await byId('cf-form').waitFor({ state: 'detached' });
    await row('地址').waitFor({ state: 'visible' });
    assert.deepEqual(await names(), ['地址', '级别'], 'priority 1 before 5');
  });

  await step('a duplicate 属性名 is refused next to the name', async () => {
    await byId('cf-create').click();
    await fillAttribute({ name: '地址', kind: 'text', priority: 3 });
    const answer = responseOf('POST', /^\/api\/v1\/custom-fields$/);
    await byId('cf-form-submit').click();
    assert.equal((await answer).status(), 409);
    await expectText(byId('cf-form-name-error'), '属性名“地址”已存在。');
    await byId('cf-form-cancel').click();
    await byId('cf-form').waitFor({ state: 'detached' });
    assert.equal((await call(page, 'GET', '/api/v1/custom-fields')).body.length, 2);
  });

  await step('编辑 changes the priority (the order follows) and 显示', async () => {
    await row('级别').getByTestId('cf-edit').click();
    await expectText(page.locator('#cf-form-title'), '编辑表属性');
    assert.equal(await page.locator('#cf-form-options').inputValue(), '1,2');
    await fillAttribute({ priority: 0, options: '1,2，3' });
    await page.locator('#cf-form-visible').uncheck();
    await page.locator('#cf-form-remark').fill('客户等级');
    await byId('cf-form-submit').click();
    await byId('cf-form').waitFor({ state: 'detached' });
    await expectText(byId('cf-notice'), '已保存属性“级别”。');
    await expectText(page.getByTestId('cf-cell-name').first(), '级别');
    assert.deepEqual(await names(), ['级别', '地址']);
    await expectAttr(row('级别').getByTestId('cf-cell-visible'), 'data-visible', 'false');
    await expectText(row('级别').getByTestId('cf-cell-options'), /1\s*2\s*3/);
    await expectText(row('级别').getByTestId('cf-cell-remark'), '客户等级');
    const heads = await texts(byId('cf-table').locator('thead th'));
    assert.deepEqual(heads, ['属性名', '类型', '属性值', '优先级', '备注', '显示', '操作']);
    await screenshot(page, 'custom-table-list.png');
  });

  await step('删除 asks first, then deletes', async () => {
    await row('地址').getByTestId('cf-delete').click();
    await expectText(byId('cf-delete-confirm-message'), /地址/);
    const answer = responseOf('DELETE', /^\/api\/v1\/custom-fields\/\d+$/);
    await byId('cf-delete-confirm-ok').click();
    assert.equal((await answer).status(), 204);
    await row('地址').waitFor({ state: 'detached' });
    assert.deepEqual(await names(), ['级别']);
  });

  await step('邮件通知: a bad recipient is refused next to its field', async () => {
    await byId('nav-mail').click();
    await expectHash(page, '#/advanced/mail');
    await expectText(byId('page-title'), '邮件通知');
    await byId('mail-form').waitFor({ state: 'visible' });
    await page.locator('#mail-host').fill('127.0.0.1');
    await page.locator('#mail-security').selectOption('none');
    await page.locator('#mail-port').fill(String(sink.port));
    await page.locator('#mail-sender').fill('cc@coocenter.test');
    await page.locator('#mail-recipients').fill('ops@coocenter.test\nnot-an-address');
    const answer = responseOf('POST', /^\/api\/v1\/mail-settings\/test$/);
    await byId('mail-test').click();
    assert.equal((await answer).status(), 400);
    await expectText(byId('mail-recipients-error'), '第 2 个收件人“not-an-address”不是有效的邮箱地址。');
    assert.equal((await sink.messages()).length, 0);
  });

  await step('测试 sends a mail through the real SMTP server and shows its answer', async () => {
    await page.locator('#mail-recipients').fill('ops@coocenter.test, boss@coocenter.test');
    const answer = responseOf('POST', /^\/api\/v1\/mail-settings\/test$/);
    await byId('mail-test').click();
    assert.equal((await answer).status(), 200);
    await expectText(byId('mail-test-result'), /^测试邮件已被邮件服务器接收：250 .*queued as sink-0001/);
    const mails = await sink.messages();
    assert.equal(mails.length, 1);
    assert.equal(mails[0].subject, '[CooCenter] 测试邮件 / Test mail');
    assert.deepEqual(mails[0].rcpt_tos, ['ops@coocenter.test', 'boss@coocenter.test']);
    await screenshot(page, 'custom-table-mail-test.png');
  });

  await step('the settings are saved; the password is write-only', async () => {
    await page.locator('#mail-username').fill('ops');
    await page.locator('#mail-password').fill('Mail-Secret-9');
    await page.locator('#mail-threshold').fill('15');
    await byId('mail-save').click();
    await expectText(byId('mail-saved'), '邮件通知设置已保存。');
    const saved = await call(page, 'GET', '/api/v1/mail-settings');
    assert.equal(saved.body.password_set, true);
    assert.equal(saved.body.port, sink.port);
    assert.deepEqual(saved.body.threshold, { unit: 'percent', value: 15 });
    assert.ok(!JSON.stringify(saved.body).includes('Mail-Secret-9'));
    await page.reload();
    await byId('mail-form').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#mail-password').inputValue(), '');
    assert.equal(await page.locator('#mail-password').getAttribute('placeholder'), '（不修改）');
    assert.equal(await page.locator('#mail-host').inputValue(), '127.0.0.1');
  });

  await step('删除数据: the count is confirmed; a stale count is refused, then it deletes', async () => {
    await byId('nav-dataDeletion').click();
    await expectHash(page, '#/advanced/data-deletion');
    await byId('purge-table').waitFor({ state: 'visible' });
    const oplogRow = page.locator('[data-testid="purge-row"][data-kind="oplog"]');
    const shown = Number(await expectText(oplogRow.getByTestId('purge-count'), /^[1-9]\d*$/));
    await oplogRow.getByTestId('purge-delete').click();
    await expectText(byId('purge-confirm-message'), `将删除全部 ${shown} 条操作日志，删除后无法恢复。确定删除吗？`);
    // Meanwhile another login adds a row to the operation log.
    const other = await openContext(session.browser);
    await other.page.goto(daemon.url);
    const login = await call(other.page, 'POST', '/api/v1/session', { username: 'admin', password: NEW_PASSWORD });
    assert.equal(login.status, 200);
    await other.context.close();

    const stale = responseOf('DELETE', /^\/api\/v1\/data-deletion\/oplog$/);
    await byId('purge-confirm-ok').click();
    assert.equal((await stale).status(), 409);
    await expectText(byId('purge-confirm-error'), `数据已变化，现有 ${shown + 1} 条；未删除任何数据，请重新确认。`);
    await expectText(byId('purge-confirm-message'), new RegExp(`将删除全部 ${shown + 1} 条操作日志`));
    await screenshot(page, 'custom-table-purge-stale.png');
    const done = responseOf('DELETE', /^\/api\/v1\/data-deletion\/oplog$/);
    await byId('purge-confirm-ok').click();
    assert.equal((await done).status(), 200);
    await expectText(byId('purge-notice'), `已删除 ${shown + 1} 条操作日志。`);
    await expectText(oplogRow.getByTestId('purge-count'), '0');
    const audit = await call(page, 'GET', '/api/v1/audit?q=data.deleted&page=1&per_page=10');
    assert.equal(audit.body.total, 1);
  });

  await step('no script errors, no CSP violations, nothing but loopback reached', async () => {
    assert.deepEqual(log.pageErrors, [], 'page errors');
    assert.deepEqual(log.cspViolations, [], 'CSP violations');
    assert.deepEqual(log.consoleErrors, [], 'console errors');
    assert.deepEqual(log.blocked, [], 'requests to non-loopback addresses');
  });
});
