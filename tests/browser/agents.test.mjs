// Journey: manual §4 坐席管理, §5 队列管理, §8 操作日志 and the agent's own page, on the demo
// daemon's simulated PBX (queues 222/333/444, agents 8001–8008 on extensions 1001–1008,
// free extensions 1009–1012).
//
// The administrator creates an agent 测试坐席 (job number 9001) on the free extension 1009,
// is refused a duplicate job number first (the server's message next to the field, the
// form kept, nothing saved), adds the agent to queue 222 and changes 222's ring strategy
// (the warning is shown; cancelling sends nothing, confirming sends it). The agent logs in
// on the same login page with 9001 and its password and lands on its own page, pauses
// with the reason 午休 — which the administrator's 监控显示, in a second browser context,
// shows while it lasts — resumes, and logs out. 操作日志 then shows those four entries
// (登录, 忙 午休, 闲, 退出) with 坐席名 测试坐席, 工号 9001, 分机 1009, newest first, and the
// search finds them; the audit trail has the configuration changes. Screenshots go to
// target/browser-artifacts/agents-*.png.
//
// Run from the repository root:  node --test tests/browser/

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
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
import { loginAndChangePassword } from './lib/login.mjs';

const JOURNEY = 'agents';
const NAME = '测试坐席';
const JOB = '9001';
const EXT = '1009';
const AGENT_PASSWORD = 'Tq-hk7-pw42'; // not containing the job number or the extension (the password policy)
const REASON = '午休';
const CJK = /[\u3400-\u9fff]/;
const STAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const STATUS_ZH = ['空闲', '设备忙', '响铃', '保持', '离线', '未知'];
const STRATEGY_WARNING = '修改振铃策略后，该队列的完成/未接听统计将清零重新记录（Asterisk 重新加载队列）。';

let daemon;
let session;
let agentSide;

before(async () => {
  await cleanArtifacts(JOURNEY);
  daemon = await startDaemon(JOURNEY);
  session = await openBrowser();
});

after(async () => {
  if (session) await session.browser.close();
  if (daemon) await daemon.stop();
});

/** GET/POST/… from inside `page` (its cookies), answering { status, body }. */
function call(page, method, path, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const r = await fetch(p, {
        method: m,
        headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'Accept-Language': 'zh-CN' },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    [method, path, body],
  );
}

const texts = async (locator) => (await locator.allInnerTexts()).map((s) => s.trim());

test('坐席管理, 队列管理, agent page and 操作日志 journey (manual §4, §5, §8)', { timeout: 300_000 }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page, JOURNEY);
  const byId = (id) => page.getByTestId(id);
  const calls = (method, path) => log.api.filter((r) => r.method === method && r.path === path);
  const row = (job) => page.locator(`[data-testid="agents-row"][data-job-number="${job}"]`);
  const queueRow = (q) => page.locator(`[data-testid="queues-row"][data-queue="${q}"]`);
  let agentId;
  let oldStrategy;
  let newStrategy;

  await step('log in as administrator', async () => {
    await loginAndChangePassword(page, daemon.url);
  });

  await step('坐席管理 lists the configured agents with the manual’s columns', async () => {
    await byId('nav-agents').click();
    await expectHash(page, '#/agents');
    await expectText(byId('page-title'), '坐席管理');
    await byId('agents-table').waitFor({ state: 'visible' });
    const heads = await texts(byId('agents-table').locator('thead th'));
    assert.deepEqual(heads, ['坐席名', '工号', '组长', '分机', '密码', '分机类型', '队列', '操作']);
    const api = await call(page, 'GET', '/api/v1/agents');
    assert.equal(await page.locator('[data-testid="agents-row"]').count(), api.body.length);
    await expectText(row('8001').getByTestId('agents-cell-name'), '张伟');
    await expectText(row('8001').getByTestId('agents-cell-leader'), '是');
    await expectText(row('8002').getByTestId('agents-cell-leader'), '否');
    await expectText(row('8001').getByTestId('agents-cell-extension'), '1001');
    await expectText(row('8001').getByTestId('agents-cell-type'), 'sip 分机');
    await expectText(row('8001').getByTestId('agents-cell-queues'), /222 售后/);
    for (const pw of await texts(page.getByTestId('agent-password'))) assert.equal(pw, '••••••', 'passwords are masked');
    await screenshot(page, 'agents-list.png');
  });

  await step('the eye shows an agent’s password (asked from the server) and hides it again', async () => {
    const answer = page.waitForResponse((r) => /\/api\/v1\/agents\/\d+\/password$/.test(new URL(r.url()).pathname));
    await row('8001').getByTestId('agent-password-toggle').click();
    assert.equal((await answer).status(), 200);
    await expectText(row('8001').getByTestId('agent-password'), 'demo-pw1');
    await expectAttr(row('8001').getByTestId('agent-password-toggle'), 'aria-pressed', 'true');
    await expectText(row('8002').getByTestId('agent-password'), '••••••');
    await screenshot(page, 'agents-password.png');
    await row('8001').getByTestId('agent-password-toggle').click();
    await expectText(row('8001').getByTestId('agent-password'), '••••••');
  });

  await step('新建坐席 opens the form: required fields marked, the PBX’s extensions offered', async () => {
    await expectText(byId('agent-create'), '新建坐席');
    await byId('agent-create').click();
    await byId('agent-form').waitFor({ state: 'visible' });
    await expectText(page.locator('#agent-form-title'), '新建坐席');
    for (const id of ['agent-form-name', 'agent-form-job-number', 'agent-form-extension', 'agent-form-password', 'agent-form-type']) {
      assert.equal(await page.locator(`label[for="${id}"] .req`).count(), 1, `${id} is marked required`);
    }
    assert.equal(await page.locator('label[for="agent-form-leader"] .req').count(), 0, '组长 is optional');
    // The extensions the PBX has; those in use name their agent and cannot be chosen.
    const ext = page.locator('#agent-form-extension');
    await ext.locator(`option[value="${EXT}"]`).waitFor({ state: 'attached' });
    const used = ext.locator('option[value="1001"]');
    assert.equal(await used.isDisabled(), true, '1001 is used by 张伟');
    assert.match(await used.innerText(), /张伟/);
    assert.equal(await ext.locator(`option[value="${EXT}"]`).isDisabled(), false, `${EXT} is free`);
    const pbx = byId('agent-form-pbx-link');
    await expectText(pbx, 'PBX设置');
    assert.equal(await pbx.getAttribute('href'), 'https://127.0.0.1:9999/');
    assert.equal(await pbx.getAttribute('target'), '_blank');
    // 刷新 reads the extension list again (extensions created in the PBX later appear).
    const before = calls('GET', '/api/v1/pbx/extensions').length;
    await byId('agent-form-ext-refresh').click();
    await page.waitForFunction(() => !document.querySelector('[data-testid="agent-form-ext-refresh"]').disabled);
    assert.equal(calls('GET', '/api/v1/pbx/extensions').length, before + 1);
    await screenshot(page, 'agents-form.png');
  });

  await step('empty required fields are pointed out without asking the server', async () => {
    const posts = calls('POST', '/api/v1/agents').length;
    await byId('agent-form-submit').click();
    await expectText(byId('agent-form-name-error'), '此项为必填项。');
    await expectText(byId('agent-form-extension-error'), '请选择一项。');
    assert.equal(calls('POST', '/api/v1/agents').length, posts);
  });

  await step('a duplicate job number is refused: the server’s message next to the field, nothing saved', async () => {
    await page.locator('#agent-form-name').fill(NAME);
    await page.locator('#agent-form-job-number').fill('8002');
    await page.locator('#agent-form-extension').selectOption(EXT);
    await page.locator('#agent-form-password').fill(AGENT_PASSWORD);
    await page.locator('#agent-form-type').selectOption('web');
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/agents' && r.request().method() === 'POST');
    await byId('agent-form-submit').click();
    const res = await answer;
    assert.equal(res.status(), 409);
    const body = await res.json();
    assert.equal(body.error.field, 'job_number');
    const message = await expectText(byId('agent-form-job-number-error'), body.error.message);
    assert.match(message, CJK);
    // Next to the field: in the same field block as the input.
    const sameField = await page
      .locator('#agent-form-job-number')
      .evaluate((input) => input.closest('.field').contains(document.querySelector('[data-testid="agent-form-job-number-error"]')));
    assert.ok(sameField, 'the message sits with the job number field');
    assert.equal(await page.locator('#agent-form-job-number').getAttribute('aria-invalid'), 'true');
    // The form stays open with what was typed.
    await byId('agent-form').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#agent-form-name').inputValue(), NAME);
    assert.equal(await page.locator('#agent-form-extension').inputValue(), EXT);
    assert.equal(await page.locator('#agent-form-password').inputValue(), AGENT_PASSWORD);
    assert.equal(await page.locator('#agent-form-type').inputValue(), 'web');
    const list = await call(page, 'GET', '/api/v1/agents');
    assert.ok(!list.body.some((a) => a.name === NAME), 'nothing was saved');
    await screenshot(page, 'agents-form-refused.png');
  });

  await step('with a free job number the agent is created on extension 1009', async () => {
    await page.locator('#agent-form-job-number').fill(JOB);
    assert.equal(await byId('agent-form-job-number-error').count(), 0, 'the old message goes when the field changes');
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/agents' && r.request().method() === 'POST');
    await byId('agent-form-submit').click();
    const res = await answer;
    assert.equal(res.status(), 201);
    agentId = (await res.json()).id;
    await byId('agent-form').waitFor({ state: 'detached' });
    await expectText(byId('agents-notice'), `已创建坐席“${NAME}”（工号 ${JOB}）。`);
    await expectText(row(JOB).getByTestId('agents-cell-name'), NAME);
    await expectText(row(JOB).getByTestId('agents-cell-extension'), EXT);
    await expectText(row(JOB).getByTestId('agents-cell-leader'), '否');
    await expectText(row(JOB).getByTestId('agents-cell-type'), 'web 分机');
    await expectText(row(JOB).getByTestId('agents-cell-queues'), '未加入队列');
    await screenshot(page, 'agents-created.png');
  });

  await step('编辑: the password may stay empty (unchanged); the extension now shows as the agent’s own', async () => {
    await row(JOB).getByTestId('agent-edit').click();
    await byId('agent-form').waitFor({ state: 'visible' });
    await expectText(page.locator('#agent-form-title'), '编辑坐席');
    assert.equal(await page.locator('#agent-form-name').inputValue(), NAME);
    assert.equal(await page.locator('#agent-form-password').inputValue(), '');
    await expectText(page.locator('#agent-form-password-hint'), /^留空则不修改密码。 分机密码也是坐席登录控制台的密码：8–64 个字符/);
    assert.equal(await page.locator('label[for="agent-form-password"] .req').count(), 0);
    assert.equal(await page.locator(`#agent-form-extension option[value="${EXT}"]`).isDisabled(), false);
    await screenshot(page, 'agents-edit.png');
    const puts = calls('PUT', `/api/v1/agents/${agentId}`).length;
    await byId('agent-form-submit').click();
    await byId('agent-form').waitFor({ state: 'detached' });
    assert.equal(calls('PUT', `/api/v1/agents/${agentId}`).length, puts + 1);
    await expectText(byId('agents-notice'), `已保存坐席“${NAME}”。`);
    const pw = await call(page, 'GET', `/api/v1/agents/${agentId}/password`);
    assert.equal(pw.body.password, AGENT_PASSWORD, 'the password was kept');
  });

  await step('队列管理: the agent is added to queue 222 from the drop-down', async () => {
    await byId('nav-queues').click();
    await expectHash(page, '#/queues');
    await expectText(byId('page-title'), '队列管理');
    await byId('queues-table').waitFor({ state: 'visible' });
    const heads = await texts(byId('queues-table').locator('thead th'));
    assert.deepEqual(heads, ['队列号', '队列名', '队列策略', '成员']);
    await expectText(queueRow('222').getByTestId('queue-name'), '售后');
    assert.equal(await queueRow('222').locator(`[data-testid="queue-member"][data-job-number="${JOB}"]`).count(), 0);
    const add = queueRow('222').getByTestId('queue-add-member');
    const option = add.locator(`option[value="${agentId}"]`);
    assert.equal(await option.innerText(), `${NAME}（${JOB}）`);
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/queues/222/members');
    await add.selectOption(String(agentId));
    assert.equal((await answer).status(), 200);
    await queueRow('222').locator(`[data-testid="queue-member"][data-job-number="${JOB}"]`).waitFor({ state: 'visible' });
    await expectText(byId('queues-notice'), `已把 ${NAME} 加入队列 222。`);
    assert.equal(await add.locator(`option[value="${agentId}"]`).count(), 0, 'no longer offered');
    await screenshot(page, 'agents-queue-member.png');
  });

  await step('changing 222’s strategy warns first; cancel sends nothing, confirm sends it', async () => {
    oldStrategy = await queueRow('222').getAttribute('data-strategy');
    newStrategy = oldStrategy === 'ringall' ? 'leastrecent' : 'ringall';
    const labels = { ringall: '全部振铃', leastrecent: '最近最少接听', rrmemory: '轮询记忆' };
    const select = queueRow('222').getByTestId('queue-strategy');
    const options = await texts(select.locator('option'));
    assert.deepEqual(options, ['全部振铃', '最近最少接听', '接听最少', '随机', '轮询记忆', '顺序轮询', '线性', '加权随机']);
    const puts = () => calls('PUT', '/api/v1/queues/222').length;
    const before = puts();

    await select.selectOption(newStrategy);
    await byId('strategy-confirm').waitFor({ state: 'visible' });
    await expectText(byId('strategy-confirm-message'), STRATEGY_WARNING);
    if (labels[oldStrategy]) {
      await expectText(byId('strategy-confirm-change'), `队列 222 售后：${labels[oldStrategy]} → ${labels[newStrategy]}`);
    }
    await screenshot(page, 'agents-strategy-warning.png');
    await byId('strategy-confirm-cancel').click();
    await byId('strategy-confirm').waitFor({ state: 'hidden' });
    assert.equal(puts(), before, 'nothing sent on cancel');
    assert.equal(await select.inputValue(), oldStrategy, 'the choice went back');

    await select.selectOption(newStrategy);
    await byId('strategy-confirm').waitFor({ state: 'visible' });
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/queues/222' && r.request().method() === 'PUT');
    await byId('strategy-confirm-ok').click();
    assert.equal((await answer).status(), 200);
    await byId('strategy-confirm').waitFor({ state: 'hidden' });
    assert.equal(puts(), before + 1);
    await expectAttr(queueRow('222'), 'data-strategy', newStrategy);
    await expectAttr(queueRow('222'), 'data-pending', 'false', { timeout: 15_000 });
    const q = await call(page, 'GET', '/api/v1/queues');
    assert.equal(q.body.queues.find((x) => x.queue === '222').strategy, newStrategy);
    await screenshot(page, 'agents-queues.png');
  });

  let agentPage;
  await step('the agent logs in on the same login page with its job number and lands on its own page', async () => {
    agentSide = await openContext(session.browser);
    agentPage = agentSide.page;
    await agentPage.goto(daemon.url);
    await expectHash(agentPage, '#/login');
    await expectText(agentPage.locator('label[for=login-username]'), '用户名 / 工号 / 分机');
    await agentPage.locator('#login-username').fill(JOB);
    await agentPage.locator('#login-password').fill(AGENT_PASSWORD);
    const answer = agentPage.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/session' && r.request().method() === 'POST');
    await agentPage.locator('#login-submit').click();
    assert.equal((await answer.then((r) => r.json())).role, 'agent');
    await expectHash(agentPage, '#/agent');
    await agentPage.getByTestId('agent-frame').waitFor({ state: 'visible' });
    assert.equal(await agentPage.getByTestId('sidebar').count(), 0, 'no admin navigation');
    await expectText(agentPage.getByTestId('page-title'), '坐席工作台');
    await expectText(agentPage.getByTestId('me-name'), NAME);
    await expectText(agentPage.getByTestId('me-job-number'), JOB);
    await expectText(agentPage.getByTestId('me-extension'), EXT);
    await expectText(agentPage.getByTestId('me-queues'), /222/);
    const status = await expectText(agentPage.getByTestId('me-status'), /\S/);
    assert.ok(STATUS_ZH.includes(status), `status badge in the dashboard's words: ${status}`);
    await expectText(agentPage.getByTestId('me-paused'), '否');
    const reasons = await texts(agentPage.locator('#me-reason option'));
    assert.equal(reasons[0], '不选择原因');
    assert.ok(reasons.includes(REASON), `reasons offered: ${reasons}`);
    await screenshot(agentPage, 'agents-agent-home.png');
  });

  await step('the admin pages stay closed to the agent', async () => {
    await agentPage.evaluate(() => {
      location.hash = '#/agents';
    });
    await expectHash(agentPage, '#/agent');
    const r = await call(agentPage, 'GET', '/api/v1/agents');
    assert.equal(r.status, 403);
    await agentPage.getByTestId('agent-home').waitFor({ state: 'visible' });
  });

  await step('the agent pauses with the reason 午休', async () => {
    await agentPage.locator('#me-reason').selectOption(REASON);
    const answer = agentPage.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/me/pause');
    await agentPage.getByTestId('me-pause').click();
    const res = await answer;
    assert.equal(res.status(), 200, `pause answered ${res.status()}: ${await res.text()}`);
    await expectText(agentPage.getByTestId('me-paused'), `是（${REASON}）`);
    await expectAttr(agentPage.getByTestId('me-state'), 'data-paused', 'true');
    assert.equal(await agentPage.getByTestId('me-pause').isDisabled(), true);
    await screenshot(agentPage, 'agents-agent-paused.png');
  });

  await step('the administrator’s 监控显示 shows the agent paused, with its job number', async () => {
    await byId('nav-dashboard').click();
    await expectHash(page, '#/dashboard');
    const agentRow = page.locator(`[data-testid="agent-row"][data-extension="${EXT}"][data-queue="222"]`);
    await agentRow.waitFor({ state: 'visible', timeout: 15_000 });
    await expectText(agentRow.getByTestId('agent-name'), NAME);
    await expectText(agentRow.getByTestId('agent-job'), `工号 ${JOB}`);
    await expectAttr(agentRow.getByTestId('agent-paused'), 'data-paused', 'true', { timeout: 15_000 });
    await expectText(agentRow.getByTestId('agent-paused'), `是（${REASON}）`);
    await agentRow.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await screenshot(page, 'agents-dashboard-paused.png');
  });

  await step('the agent resumes (置闲): both pages follow', async () => {
    const answer = agentPage.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/me/unpause');
    await agentPage.getByTestId('me-unpause').click();
    assert.equal((await answer).status(), 200);
    await expectText(agentPage.getByTestId('me-paused'), '否');
    const agentRow = page.locator(`[data-testid="agent-row"][data-extension="${EXT}"][data-queue="222"]`);
    await expectAttr(agentRow.getByTestId('agent-paused'), 'data-paused', 'false', { timeout: 15_000 });
  });

  await step('the agent page keeps itself current (GET /api/v1/me every 2 s)', async () => {
    const n = agentSide.log.api.filter((r) => r.path === '/api/v1/me').length;
    await sleep(4500);
    const m = agentSide.log.api.filter((r) => r.path === '/api/v1/me').length;
    assert.ok(m - n >= 2 && m - n <= 3, `${m - n} reads in 4.5 s`);
  });

  await step('the agent logs out (退出)', async () => {
    await expectText(agentPage.getByTestId('agent-logout'), '退出');
    await agentPage.getByTestId('agent-logout').click();
    await expectHash(agentPage, '#/login');
    const r = await call(agentPage, 'GET', '/api/v1/session');
    assert.equal(r.status, 401);
  });

  await step('more agents log in and out (over the API) so that the log has several pages', async () => {
    for (let i = 2; i <= 8; i++) {
      const login = await call(agentPage, 'POST', '/api/v1/session', { username: `800${i}`, password: `demo-pw${i}` });
      assert.equal(login.status, 200, `800${i} logs in`);
      assert.equal((await call(agentPage, 'DELETE', '/api/v1/session')).status, 204);
    }
  });

  await step('操作日志: the four entries, newest first, with the manual’s columns', async () => {
    await byId('nav-oplog').click();
    await expectHash(page, '#/oplog');
    await expectText(byId('page-title'), '操作日志');
    await expectAttr(byId('tab-oplog'), 'aria-selected', 'true');
    await byId('oplog-table').waitFor({ state: 'visible' });
    const heads = await texts(byId('oplog-table').locator('thead th'));
    assert.deepEqual(heads, ['坐席名', '工号', '分机', '事件类型', '事件详情', '日期']);
    await screenshot(page, 'agents-oplog.png');

    const rows = page.locator('[data-testid="oplog-row"]');
    const mine = await rows.evaluateAll(
      (trs, job) =>
        trs
          .filter((tr) => tr.querySelector('[data-testid="oplog-cell-job-number"]').textContent.trim() === job)
          .map((tr) => ({
            agent: tr.querySelector('[data-testid="oplog-cell-agent"]').textContent.trim(),
            ext: tr.querySelector('[data-testid="oplog-cell-extension"]').textContent.trim(),
            event: tr.querySelector('[data-testid="oplog-cell-event"]').textContent.trim(),
            detail: tr.querySelector('[data-testid="oplog-cell-detail"]').textContent.trim(),
            date: tr.querySelector('[data-testid="oplog-cell-date"]').textContent.trim(),
          })),
      JOB,
    );
    assert.deepEqual(
      mine.map((r) => r.event),
      ['退出', '闲', '忙', '登录'],
      'logout, unpause, pause, login: newest first',
    );
    for (const r of mine) {
      assert.equal(r.agent, NAME);
      assert.equal(r.ext, EXT);
      assert.match(r.date, STAMP);
    }
    assert.equal(mine[2].detail, REASON, 'the pause carries its reason');
    const dates = mine.map((r) => r.date);
    assert.deepEqual([...dates].sort().reverse(), dates, 'dates descend');
  });

  await step('the search (server-side, once typing pauses) finds them', async () => {
    const searches = () => calls('GET', '/api/v1/oplog').filter((r) => /[?&]q=./.test(r.query));
    const before = searches().length;
    await byId('oplog-search').pressSequentially(NAME, { delay: 40 });
    await expectAttr(byId('oplog-table'), 'data-query', NAME);
    await expectAttr(byId('oplog-table'), 'data-loading', 'false');
    assert.equal(searches().length - before, 1, 'one request for the whole word');
    await expectText(byId('oplog-pager-total'), '第 1–4 条，共 4 条');
    const events = await texts(page.locator('[data-testid="oplog-row"] [data-testid="oplog-cell-event"]'));
    assert.deepEqual(events, ['退出', '闲', '忙', '登录']);
    await screenshot(page, 'agents-oplog-search.png');

    await byId('oplog-search').fill(REASON);
    await expectAttr(byId('oplog-table'), 'data-query', REASON);
    await expectAttr(byId('oplog-table'), 'data-loading', 'false');
    const found = await texts(page.locator('[data-testid="oplog-row"] [data-testid="oplog-cell-job-number"]'));
    assert.ok(found.length >= 1 && found.every((j) => j === JOB), `only the pause: ${found}`);

    await byId('oplog-search').fill('');
    await expectAttr(byId('oplog-table'), 'data-query', '');
  });

  await step('paging: 10 rows per page, page numbers, previous and next', async () => {
    await expectAttr(byId('oplog-table'), 'data-loading', 'false');
    const total = Number(await byId('oplog-pager-total').getAttribute('data-total'));
    assert.ok(total > 10, `more than 10 entries (${total})`);
    assert.deepEqual(await texts(byId('oplog-per-page').locator('option')), ['10', '25', '50', '100']);
    await byId('oplog-per-page').selectOption('10');
    await expectText(byId('oplog-pager-total'), `第 1–10 条，共 ${total} 条`);
    assert.equal(await page.locator('[data-testid="oplog-row"]').count(), 10);
    assert.ok(calls('GET', '/api/v1/oplog').some((r) => /per_page=10/.test(r.query)));
    assert.equal(await byId('pager-prev').isDisabled(), true);
    const firstPage = await texts(page.locator('[data-testid="oplog-row"] [data-testid="oplog-cell-date"]'));
    await byId('pager-next').click();
    await expectAttr(byId('pager-page-2'), 'aria-current', 'page');
    await expectText(byId('oplog-pager-total'), `第 11–${Math.min(20, total)} 条，共 ${total} 条`);
    const secondPage = await texts(page.locator('[data-testid="oplog-row"] [data-testid="oplog-cell-date"]'));
    assert.ok(secondPage[0] <= firstPage[firstPage.length - 1], 'page 2 continues, older');
    await screenshot(page, 'agents-oplog-page2.png');
    await byId('pager-page-1').click();
    await expectAttr(byId('pager-page-1'), 'aria-current', 'page');
    await expectAttr(byId('oplog-table'), 'data-loading', 'false');
  });

  await step('刷新 reads the log again', async () => {
    await expectAttr(byId('oplog-table'), 'data-loading', 'false');
    const n = calls('GET', '/api/v1/oplog').length;
    await expectText(byId('oplog-refresh'), '刷新');
    await byId('oplog-refresh').click();
    await expectAttr(byId('oplog-table'), 'data-loading', 'false');
    assert.equal(calls('GET', '/api/v1/oplog').length, n + 1);
  });

  await step('审计日志 lists the configuration changes, searchable', async () => {
    await byId('tab-audit').click();
    await expectAttr(byId('tab-audit'), 'aria-selected', 'true');
    await byId('audit-table').waitFor({ state: 'visible' });
    const heads = await texts(byId('audit-table').locator('thead th'));
    assert.deepEqual(heads, ['日期', '操作人', '操作', '对象', '修改前', '修改后', '来源地址']);
    const actions = await page.locator('[data-testid="audit-row"]').evaluateAll((trs) => trs.map((tr) => tr.dataset.action));
    for (const a of ['agent.created', 'agent.password_revealed', 'queue.member_added', 'queue.strategy_changed']) {
      assert.ok(actions.includes(a), `${a} in the audit trail (${actions})`);
    }
    const created = page.locator('[data-testid="audit-row"][data-action="agent.created"]').first();
    await expectText(created.getByTestId('audit-cell-action'), /新建坐席/);
    await expectText(created.getByTestId('audit-cell-target'), JOB);
    await expectText(created.getByTestId('audit-cell-after'), new RegExp(NAME));
    await expectText(created.getByTestId('audit-cell-date'), STAMP);
    await screenshot(page, 'agents-audit.png');

    await byId('audit-search').fill('strategy');
    await expectAttr(byId('audit-table'), 'data-query', 'strategy');
    await expectAttr(byId('audit-table'), 'data-loading', 'false');
    const only = await page.locator('[data-testid="audit-row"]').evaluateAll((trs) => trs.map((tr) => tr.dataset.action));
    assert.ok(only.length >= 1 && only.every((a) => a === 'queue.strategy_changed'), `only strategy changes: ${only}`);
    const change = page.locator('[data-testid="audit-row"]').first();
    await expectText(change.getByTestId('audit-cell-before'), oldStrategy);
    await expectText(change.getByTestId('audit-cell-after'), newStrategy);
  });

  await step('English: the log’s words follow the language', async () => {
    await byId('lang-en').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await byId('tab-oplog').click();
    await expectText(byId('tab-oplog'), 'Operation log');
    await byId('oplog-search').fill(JOB);
    await expectAttr(byId('oplog-table'), 'data-query', JOB);
    await expectAttr(byId('oplog-table'), 'data-loading', 'false');
    const heads = await texts(byId('oplog-table').locator('thead th'));
    assert.deepEqual(heads, ['Agent', 'Job number', 'Extension', 'Event', 'Details', 'Date']);
    const events = await texts(page.locator('[data-testid="oplog-row"] [data-testid="oplog-cell-event"]'));
    assert.deepEqual(events, ['Logout', 'Available', 'Busy (paused)', 'Login']);
    await screenshot(page, 'agents-oplog-en.png');
    await byId('nav-queues').click();
    await byId('queues-table').waitFor({ state: 'visible' });
    const opts = await texts(queueRow('222').getByTestId('queue-strategy').locator('option'));
    assert.deepEqual(opts, ['Ring all', 'Least recent', 'Fewest calls', 'Random', 'Round robin with memory', 'Round robin ordered', 'Linear', 'Weighted random']);
    await byId('nav-agents').click();
    await byId('agents-table').waitFor({ state: 'visible' });
    await expectText(row(JOB).getByTestId('agents-cell-type'), 'Web extension');
    await screenshot(page, 'agents-list-en.png');
    await byId('lang-zh').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  });

  await step('删除 asks first; cancel keeps the agent, confirm deletes it', async () => {
    await row(JOB).getByTestId('agent-delete').click();
    await byId('agent-delete-confirm').waitFor({ state: 'visible' });
    await expectText(byId('agent-delete-confirm-message'), new RegExp(`${NAME}.*${JOB}.*${EXT}`));
    await screenshot(page, 'agents-delete-confirm.png');
    await byId('agent-delete-confirm-cancel').click();
    await byId('agent-delete-confirm').waitFor({ state: 'hidden' });
    assert.equal(calls('DELETE', `/api/v1/agents/${agentId}`).length, 0);
    await row(JOB).waitFor({ state: 'visible' });

    await row(JOB).getByTestId('agent-delete').click();
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/agents/${agentId}` && r.request().method() === 'DELETE');
    await byId('agent-delete-confirm-ok').click();
    assert.equal((await answer).status(), 204);
    await byId('agent-delete-confirm').waitFor({ state: 'hidden' });
    await expectText(byId('agents-notice'), `已删除坐席“${NAME}”。`);
    await row(JOB).waitFor({ state: 'detached' });
    const ext = await call(page, 'GET', '/api/v1/pbx/extensions');
    assert.equal(ext.body.find((x) => x.extension === EXT).agent, null, `${EXT} is free again`);
  });

  await step('no script errors, no CSP violations, nothing but loopback reached', async () => {
    for (const l of [log, agentSide.log]) {
      assert.deepEqual(l.pageErrors, [], 'page errors');
      assert.deepEqual(l.cspViolations, [], 'CSP violations');
      assert.deepEqual(l.consoleErrors, [], 'console errors');
      assert.deepEqual(l.blocked, [], 'requests to non-loopback addresses');
    }
  });
});
