// Journey: manual §9.2 其他设置 on the demo daemon (simulated PBX, agents 8001–8008).
//
// Prompts: three WAVs (3.0 s, 2.5 s, 8.0 s) are uploaded through 语音管理's upload route, the
// way the page does it (multipart, checked and converted by the server). The demo has no
// Asterisk digit sounds, so the job number counts 0.8 s a digit (the page says so): 8001 →
// 3.2 s.
//
// The administrator opens 高级设置 → 其他设置, picks the 8.0 s start prompt, 播放工号 and the
// 2.5 s end prompt: the page's running total shows 13.7 s over the limit, saving is refused by
// the server with every figure, and nothing is saved. With the 3.0 s start prompt (8.7 s)
// the save succeeds, survives a reload, and the generated dialplan plays the two files; on
// 语音管理 the deletion of the start prompt is refused with the reason. An
// unknown screen-pop placeholder is refused under its field; a good template is saved. Then
// agent 8001 signs in on its own page, and when the demo connects a queue call to it the
// page opens the inbound screen-pop address with caller, queue, job number and uniqueid.
// Screenshots go to target/browser-artifacts/call-flow-*.png.
//
// Run from the repository root:  node --test tests/browser/

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  cleanArtifacts,
  expectAttr,
  expectHash,
  expectText,
  openBrowser,
  openContext,
  screenshot,
  startDaemon,
  stepper,
} from './lib/harness.mjs';
import { loginAndChangePassword } from './lib/login.mjs';

const JOURNEY = 'call-flow';
const POP = 'https://crm.example/pop?tel={caller}&q={queue}&agent={job_number}';

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

/** A mono 8 kHz 16-bit PCM WAV of `ms` milliseconds of a quiet 440 Hz tone. */
function wav(ms) {
  const samples = Math.round((8000 * ms) / 1000);
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(8000, 24);
  buf.writeUInt32LE(16000, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i += 1) buf.writeInt16LE(Math.round(1000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), 44 + i * 2);
  return buf;
}

/** Uploads a WAV prompt as 语音管理 does (multipart `name`, `file`, `source`). */
async function addPrompt(page, name, ms) {
  const answer = await page.evaluate(
    async ([n, bytes]) => {
      const form = new FormData();
      form.append('name', n);
      form.append('source', 'file');
      form.append('file', new Blob([new Uint8Array(bytes)], { type: 'audio/wav' }), `${n}.wav`);
      const r = await fetch('/api/v1/prompts', { method: 'POST', body: form, headers: { Accept: 'application/json' } });
      return { status: r.status, body: await r.json() };
    },
    [name, [...wav(ms)]],
  );
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  assert.equal(answer.body.name, name);
}

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

test('其他设置 journey: the three play options and the 10 s rule (manual §9.2)', { timeout: 300_000 }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page, JOURNEY);
  const byId = (id) => page.getByTestId(id);
  const include = () => readFileSync(path.join(daemon.dataDir, 'asterisk', 'extensions_coocenter.conf'), 'utf8');

  await step('log in; the prompts are in place', async () => {
    await loginAndChangePassword(page, daemon.url);
    await addPrompt(page, 'welcome', 3000);
    await addPrompt(page, 'bye', 2500);
    await addPrompt(page, 'long', 8000);
  });

  await step('高级设置 → 其他设置 shows the settings, all off, with the prompts to choose', async () => {
    // 高级设置 is open in the navigation; 其他设置 is under it.
    await expectAttr(byId('nav-advanced'), 'aria-expanded', 'true');
    await byId('nav-settings').click();
    await expectHash(page, '#/advanced/settings');
    await expectText(byId('page-title'), '其他设置');
    await byId('flow-form').waitFor({ state: 'visible' });
    for (const id of ['flow-hide_numbers', 'flow-survey', 'flow-direct_assign', 'flow-play_job_number']) {
      await expectAttr(byId(id), 'aria-checked', 'false');
    }
    const options = await byId('flow-start_prompt').locator('option').allInnerTexts();
    // In the order they were uploaded, as 语音管理 lists them.
    assert.deepEqual(options.map((s) => s.trim()), ['不播放', 'welcome（3.0 秒）', 'bye（2.5 秒）', 'long（8.0 秒）']);
    await expectText(page.locator('#flow-play_job_number-hint'), /按每位数字 0\.8 秒估算/);
    await expectText(byId('flow-total'), '开始语音 0.0 秒 + 工号 0.0 秒 + 结束语音 0.0 秒 = 0.0 秒（上限 10.0 秒）');
  });

  await step('over 10 s: the page says so, the server refuses with every figure, nothing is saved', async () => {
    await byId('flow-start_prompt').selectOption('long');
    await byId('flow-play_job_number').click();
    await byId('flow-end_prompt').selectOption('bye');
    await expectText(byId('flow-total'), '开始语音 8.0 秒 + 工号 3.2 秒 + 结束语音 2.5 秒 = 13.7 秒（上限 10.0 秒）');
    await expectAttr(byId('flow-total'), 'data-over', 'true');
    await byId('flow-over').waitFor({ state: 'visible' });
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/settings/call-flow' && r.request().method() === 'PUT');
    await byId('flow-save').click();
    assert.equal((await answer).status(), 400);
    await expectText(
      byId('flow-error'),
      '开始语音 8.0 秒 + 工号 3.2 秒（最长的工号 8008，按每位数字 0.8 秒估算） + 结束语音 2.5 秒 = 13.7 秒，超过了 10.0 秒的上限，未保存。',
    );
    const saved = await call(page, 'GET', '/api/v1/settings/call-flow');
    assert.equal(saved.body.settings.start_prompt, null);
    assert.equal(saved.body.settings.play_job_number, false);
    assert.ok(!include().includes('Playback('), 'the dialplan is unchanged');
    await screenshot(page, 'call-flow-over-limit.png');
  });

  await step('within 10 s: saved, applied, kept after a reload, and the dialplan plays the files', async () => {
    await byId('flow-start_prompt').selectOption('welcome');
    await expectText(byId('flow-total'), '开始语音 3.0 秒 + 工号 3.2 秒 + 结束语音 2.5 秒 = 8.7 秒（上限 10.0 秒）');
    await expectAttr(byId('flow-total'), 'data-over', 'false');
    await byId('flow-survey').click();
    await byId('flow-save').click();
    await expectText(byId('flow-saved'), '设置已保存并已生效。');
    await page.reload();
    await byId('flow-form').waitFor({ state: 'visible' });
    assert.equal(await byId('flow-start_prompt').inputValue(), 'welcome');
    assert.equal(await byId('flow-end_prompt').inputValue(), 'bye');
    await expectAttr(byId('flow-play_job_number'), 'aria-checked', 'true');
    await expectAttr(byId('flow-survey'), 'aria-checked', 'true');
    const text = include();
    const sounds = path.join(daemon.dataDir, 'sounds');
    assert.ok(text.includes(`exten => s,1,Playback(${path.join(sounds, 'welcome')})\n`), text);
    assert.ok(text.includes(' same => n,ExecIf($["${COOCENTER_JOB}" != ""]?SayDigits(${COOCENTER_JOB}))\n'), text);
    assert.ok(text.includes(` same => n,Playback(${path.join(sounds, 'bye')})\n`), text);
    assert.ok(text.includes('[coocenter-survey]'), text);
    await screenshot(page, 'call-flow-saved.png');
  });

  await step('语音管理: the start prompt cannot be deleted while it is selected', async () => {
    await byId('nav-prompts').click();
    await expectHash(page, '#/advanced/prompts');
    const welcome = page.locator('[data-testid="prompt-row"][data-name="welcome"]');
    await welcome.getByTestId('prompt-delete').click();
    await page.getByTestId('prompt-delete-dialog-ok').click();
    await expectText(
      page.getByTestId('prompt-delete-dialog-error'),
      '该语音已被选为开始语音（其他设置），不能删除；请先在其他设置中改选。',
    );
    await page.getByTestId('prompt-delete-dialog-cancel').click();
    await welcome.waitFor({ state: 'visible' });
    assert.ok(existsSync(path.join(daemon.dataDir, 'sounds', 'welcome.wav')), 'the file is still there');
    await screenshot(page, 'call-flow-delete-refused.png');
    await byId('nav-settings').click();
    await byId('flow-form').waitFor({ state: 'visible' });
  });

  await step('screen-pop templates: an unknown placeholder is refused under its field', async () => {
    await byId('flow-screen_pop_inbound').fill('https://crm.example/pop?tel={phone}');
    await byId('flow-save').click();
    await expectText(
      byId('flow-screen_pop_inbound-error'),
      '未知的占位符 {phone}，可用的有：{caller}, {queue}, {job_number}, {uniqueid}。',
    );
    assert.equal((await call(page, 'GET', '/api/v1/settings/call-flow')).body.settings.screen_pop_inbound, '');
    await byId('flow-screen_pop_inbound').fill(POP);
    await byId('flow-save').click();
    await expectText(byId('flow-saved'), '设置已保存并已生效。');
    assert.equal((await call(page, 'GET', '/api/v1/settings/call-flow')).body.settings.screen_pop_inbound, POP);
  });

  await step('the survey report is on the page (no scores yet)', async () => {
    await byId('card-survey').scrollIntoViewIfNeeded();
    await expectText(byId('survey-empty'), '该时间段内没有评分。');
    await screenshot(page, 'call-flow-report.png');
  });

  await step('English', async () => {
    await byId('lang-en').click();
    await expectText(byId('page-title'), 'Other settings');
    await expectText(byId('flow-total'), 'Start prompt 3.0 s + job number 3.2 s + end prompt 2.5 s = 8.7 s (limit 10.0 s)');
    await byId('lang-zh').click();
  });

  await step('弹屏: a queue call connecting to agent 8001 opens the expanded inbound address', async () => {
    // A loopback address, so the pop-up stays on this machine; the demo routes calls to 1001.
    const template = `${daemon.url}pop?tel={caller}&q={queue}&agent={job_number}&id={uniqueid}`;
    const saved = await call(page, 'GET', '/api/v1/settings/call-flow');
    const put = await call(page, 'PUT', '/api/v1/settings/call-flow', { ...saved.body.settings, screen_pop_inbound: template });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const agent = await openContext(session.browser);
    try {
      await agent.page.goto(daemon.url);
      await expectHash(agent.page, '#/login');
      await agent.page.locator('#login-username').fill('8001');
      await agent.page.locator('#login-password').fill('demo-pw1');
      await agent.page.locator('#login-submit').click();
      await expectHash(agent.page, '#/agent');
      const popup = await agent.page.waitForEvent('popup', { timeout: 180_000 });
      const url = new URL(popup.url());
      assert.equal(url.origin + '/', daemon.url);
      assert.equal(url.pathname, '/pop');
      assert.match(url.searchParams.get('tel'), /^\d{11}$/);
      assert.match(url.searchParams.get('q'), /^(222|444)$/);
      assert.equal(url.searchParams.get('agent'), '8001');
      assert.match(url.searchParams.get('id'), /^\d+\.\d+$/);
      await agent.page.getByTestId('me-screen-pop-link').waitFor({ state: 'visible' });
      await screenshot(agent.page, 'call-flow-agent-pop.png');
      await popup.close();
      assert.deepEqual(agent.log.blocked, []);
      assert.deepEqual(agent.log.pageErrors, []);
    } finally {
      await agent.context.close();
    }
  });

  await step('nothing left the machine, no page errors', async () => {
    assert.deepEqual(log.blocked, []);
    assert.deepEqual(log.pageErrors, []);
    assert.deepEqual(log.cspViolations, []);
  });
});
