// Journey: manual §6 录音列表, on the recordings the demo seeds (`coocenterd demo`: a
// deterministic history of calls with real WAV files — customers 1380013xxxx, agents
// 8001–8008, queues 222/333/444 — indexed at start).
//
// The administrator reaches 录音列表 from the navigation and from 监控显示's 录音 count;
// searches by part of a customer number (客户, 模糊) and finds only rows that contain it,
// then the full number with 精确; plays a recording in the pop-up player (the <audio>
// loads from the server with its duration); checks two rows and downloads them as one ZIP
// (read from the browser's download and unzipped here with fflate: two entries, each a
// RIFF/WAVE file); checks 21 rows and is refused before anything is asked (一次最多下载 20
// 条 — and the server refuses 21 too); annotates (批注) a recording of agent 8002. Agent
// 8002 (password demo-pw2) then logs in and sees the note on the agent page next to that
// recording, and can play it; team leader 8001 gets the table of their queues with the
// server's filter choices (【删除】 where the server says so). Finally the administrator
// deletes a recording (asked first) and the page is shown in English. Screenshots: target/browser-artifacts/recordings-*.png.
//
// Run from the repository root:  node --test tests/browser/recordings.test.mjs

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { unzipSync } from 'fflate';
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

const JOURNEY = 'recordings';
const AGENT_JOB = '8002';
const AGENT_PASSWORD = 'demo-pw2';
const LEADER_JOB = '8001';
const LEADER_PASSWORD = 'demo-pw1';
const NOTE = '开场白规范，语气很好（组长批注）';

let daemon;
let session;
let agentSide;
let leaderSide;

before(async () => {
  await cleanArtifacts(JOURNEY);
  daemon = await startDaemon(JOURNEY);
  session = await openBrowser();
});

after(async () => {
  if (session) await session.browser.close();
  if (daemon) await daemon.stop();
});

/** A request from inside `page` (its cookies) → { status, body }. */
function call(page, method, apiPath, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const r = await fetch(p, {
        method: m,
        headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'Accept-Language': 'zh-CN' },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      const text = await r.text();
      let parsed = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      return { status: r.status, body: parsed };
    },
    [method, apiPath, body],
  );
}

const isWav = (bytes) =>
  bytes.length > 44 &&
  Buffer.from(bytes.subarray(0, 4)).toString('latin1') === 'RIFF' &&
  Buffer.from(bytes.subarray(8, 12)).toString('latin1') === 'WAVE';

test('录音列表 journey (manual §6)', { timeout: 300_000 }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page, JOURNEY);
  const byId = (id) => page.getByTestId(id);
  const rows = (p = page) => p.locator('[data-testid="rec-row"]');
  const rowById = (id, p = page) => p.locator(`[data-testid="rec-row"][data-id="${id}"]`);
  const listCalls = (l = log) => l.api.filter((r) => r.method === 'GET' && r.path === '/api/v1/recordings');

  /** Waits for the table to show the latest answer; → [{ id, number, name, agent, available }]. */
  async function shown(p = page) {
    await p.waitForFunction(() => {
      const tbl = document.querySelector('[data-testid="rec-table"]');
      return tbl && tbl.dataset.loading === 'false';
    });
    const out = [];
    for (const r of await rows(p).all()) {
      out.push({
        id: await r.getAttribute('data-id'),
        number: await r.getAttribute('data-number'),
        name: (await r.getByTestId('rec-cell-name').innerText()).trim(),
        agent: await r.getAttribute('data-agent'),
        available: (await r.getAttribute('data-available')) === 'true',
        // A call still being recorded (the demo records its simulated calls) has no
        // duration yet; playing, zipping and annotating use finished ones.
        finished: (await r.getByTestId('rec-cell-duration').innerText()).trim() !== '–',
      });
    }
    return out;
  }

  /** Presses 查询 and waits for its answer. */
  async function search(p = page, l = log) {
    const before = listCalls(l).length;
    const answer = p.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/recordings' && r.request().method() === 'GET');
    await p.getByTestId('rec-submit').click();
    const res = await answer;
    assert.equal(res.status(), 200, `GET /api/v1/recordings answered ${res.status()}`);
    assert.ok(listCalls(l).length > before);
    const body = await res.json();
    await shown(p);
    return body;
  }

  let firstPage;

  await step('log in as administrator; 监控显示’s 录音 count opens 录音列表', async () => {
    await loginAndChangePassword(page, daemon.url);
    await byId('count-recordings').click();
    await expectHash(page, '#/recordings');
    await expectText(byId('page-title'), '录音列表');
    await byId('recordings-page').waitFor({ state: 'visible' });
    await expectAttr(byId('nav-recordings'), 'aria-current', 'page');
  });

  await step('the search form and the table have the manual’s fields and columns', async () => {
    await byId('rec-table').waitFor({ state: 'visible' });
    firstPage = await shown();
    assert.ok(firstPage.length > 0, 'the demo has recordings');
    const heads = (await byId('rec-table').locator('thead th').allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(heads, ['', '日期时间', '客户号码', '客户名', '队列名', '坐席名（工号）', '呼叫类型', '时长', '大小', '批注', '操作']);
    for (const [id, label] of [
      ['rec-customer', '客户'],
      ['rec-number', '号码'],
      ['rec-queue', '队列名'],
      ['rec-agent', '坐席名'],
      ['rec-call-type', '呼叫类型'],
    ]) {
      await expectText(page.locator(`label[for="${id}"]`), label);
    }
    await expectText(page.locator('#rec-dates-label'), '日期');
    assert.deepEqual(
      await page.locator('#rec-customer-match option').allInnerTexts(),
      ['模糊', '精确'],
    );
    assert.deepEqual(
      (await page.locator('#rec-call-type option').allInnerTexts()).map((s) => s.trim()),
      ['全部', '呼入', '自动外呼', '手动外呼'],
    );
    // The filter choices are the server's (the queues and agents that have recordings):
    // the demo's queues 222/333/444 and agents among 8001–8008, 8002 included.
    const api = await call(page, 'GET', '/api/v1/recordings?per_page=10');
    assert.equal(api.status, 200);
    const queues = await page.locator('#rec-queue option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    assert.deepEqual([...queues].sort(), api.body.queues.map((q) => q.key).sort());
    for (const q of queues) assert.ok(['222', '333', '444'].includes(q), `queue ${q} is one of the demo's`);
    assert.ok(queues.length > 0);
    const agents = await page.locator('#rec-agent option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    assert.deepEqual([...agents].sort(), api.body.agents.map((a) => a.key).sort());
    for (const a of agents) assert.match(a, /^800[1-8]$/);
    assert.ok(agents.includes(AGENT_JOB), `agent ${AGENT_JOB} has recordings to annotate`);
    const queueLabel = await page.locator('#rec-queue option[value="222"]').count() ? await page.locator('#rec-queue option[value="222"]').innerText() : '';
    if (queueLabel) assert.equal(queueLabel.trim(), '222 售后');
    // Newest first, 25 a page by default.
    assert.equal(await page.locator('#rec-per-page').inputValue(), '25');
    const dates = await page.locator('[data-testid="rec-cell-date"]').evaluateAll((cs) => cs.map((c) => c.getAttribute('title')));
    for (let i = 1; i < dates.length; i++) assert.ok(Date.parse(dates[i - 1]) >= Date.parse(dates[i]), 'newest first');
    await screenshot(page, 'recordings-list.png');
  });

  await step('客户 (模糊) with part of a number finds only the rows that contain it', async () => {
    const full = firstPage.find((r) => /^\d{11}$/.test(r.number)).number;
    const fragment = full.slice(3, 9);
    await page.locator('#rec-customer').fill(fragment);
    assert.equal(await page.locator('#rec-customer-match').inputValue(), 'fuzzy');
    const body = await search();
    const q = listCalls().at(-1).query;
    assert.match(q, new RegExp(`customer=${fragment}`));
    assert.match(q, /customer_match=fuzzy/);
    const found = await shown();
    assert.ok(found.length > 0, 'the fragment of a listed number finds rows');
    for (const r of found) assert.ok(r.number.includes(fragment) || r.name.includes(fragment), `${r.number} ${r.name} contains ${fragment}`);
    await expectAttr(byId('rec-pager-total'), 'data-total', String(body.total));
    await screenshot(page, 'recordings-fuzzy.png');

    // 精确: the whole number, only that customer's rows.
    await page.locator('#rec-customer').fill(full);
    await page.locator('#rec-customer-match').selectOption('exact');
    await search();
    assert.match(listCalls().at(-1).query, /customer_match=exact/);
    const exact = await shown();
    assert.ok(exact.length > 0);
    for (const r of exact) assert.equal(r.number, full);
  });

  await step('播放 opens the player; the recording loads from the server', async () => {
    const target = (await shown()).find((r) => r.available && r.finished);
    const audioAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/recordings/${target.id}/audio`);
    await rowById(target.id).getByTestId('rec-play').click();
    await byId('rec-player').waitFor({ state: 'visible' });
    const res = await audioAnswer;
    assert.ok([200, 206].includes(res.status()), `audio answered ${res.status()}`);
    assert.match(res.headers()['content-type'], /^audio\//);
    await page.waitForFunction(() => {
      const a = document.querySelector('[data-testid="rec-player-audio"]');
      return a && a.readyState >= 1 && Number.isFinite(a.duration) && a.duration > 0;
    });
    const duration = await byId('rec-player-audio').evaluate((a) => a.duration);
    const api = await call(page, 'GET', `/api/v1/recordings?number=${encodeURIComponent(target.number)}&per_page=100`);
    const item = api.body.items.find((x) => String(x.id) === target.id);
    assert.ok(Math.abs(duration - item.duration_seconds) <= 1.5, `player ${duration} s, list ${item.duration_seconds} s`);
    assert.equal(await byId('rec-player-error').count(), 0);
    await screenshot(page, 'recordings-player.png');
    await byId('rec-player-close').click();
    await byId('rec-player').waitFor({ state: 'hidden' });
  });

  await step('two checked rows download as one ZIP with two WAV files', async () => {
    await page.locator('#rec-customer').fill('');
    await page.locator('#rec-customer-match').selectOption('fuzzy');
    await search();
    const available = (await shown()).filter((r) => r.available && r.finished).slice(0, 2);
    assert.equal(available.length, 2);
    for (const r of available) await rowById(r.id).getByTestId('rec-check').check();
    await expectAttr(byId('rec-selected'), 'data-count', '2');
    const zipAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/recordings/zip');
    const [download] = await Promise.all([page.waitForEvent('download'), byId('rec-zip').click()]);
    const res = await zipAnswer;
    assert.equal(res.status(), 200);
    assert.equal(new URL(res.url()).searchParams.get('ids').split(',').sort().join(','), available.map((r) => r.id).sort().join(','));
    assert.match(download.suggestedFilename(), /\.zip$/);
    const bytes = await readFile(await download.path());
    const entries = unzipSync(new Uint8Array(bytes));
    const names = Object.keys(entries);
    assert.equal(names.length, 2, `two entries: ${names.join(', ')}`);
    for (const n of names) assert.ok(isWav(entries[n]), `${n} is a RIFF/WAVE file`);
    assert.equal(await byId('rec-zip-error').count(), 0);
  });

  await step('21 checked rows: 下载 is refused before asking (and the server refuses 21 too)', async () => {
    // Clear, then check the page (25 rows) and uncheck 4.
    await search();
    await expectAttr(byId('rec-selected'), 'data-count', '0');
    const list = (await shown()).filter((r) => r.available);
    assert.ok(list.length >= 21, `a page of 25 has at least 21 available recordings (${list.length})`);
    await byId('rec-check-page').check();
    for (const r of list.slice(21)) await rowById(r.id).getByTestId('rec-check').uncheck();
    await expectAttr(byId('rec-selected'), 'data-count', '21');
    const zips = () => log.api.filter((r) => r.path === '/api/v1/recordings/zip').length;
    const before = zips();
    await byId('rec-zip').click();
    await expectText(byId('rec-zip-error'), '一次最多下载 20 条录音，当前勾选了 21 条。请减少勾选后再下载。');
    await sleep(300);
    assert.equal(zips(), before, 'nothing was asked');
    await screenshot(page, 'recordings-zip-refused.png');
    const refused = await call(page, 'GET', `/api/v1/recordings/zip?ids=${list.slice(0, 21).map((r) => r.id).join(',')}`);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'too_many_recordings');
    // Back to 20: the refusal goes when the selection changes.
    await rowById(list[20].id).getByTestId('rec-check').uncheck();
    assert.equal(await byId('rec-zip-error').count(), 0);
    await expectAttr(byId('rec-selected'), 'data-count', '20');
  });

  let annotated;

  await step('批注 on a recording of agent 8002: saved and shown in the row', async () => {
    await page.locator('#rec-agent').selectOption(AGENT_JOB);
    await search();
    assert.match(listCalls().at(-1).query, new RegExp(`agent=${AGENT_JOB}`));
    const list = await shown();
    assert.ok(list.length > 0, 'agent 8002 has recordings');
    for (const r of list) assert.equal(r.agent, AGENT_JOB);
    annotated = list.find((r) => r.available && r.finished);
    assert.ok(annotated, 'agent 8002 has a finished recording');
    await rowById(annotated.id).getByTestId('rec-annotate').click();
    await byId('rec-note-dialog').waitFor({ state: 'visible' });
    await expectText(page.locator('#rec-note-title'), '批注录音');
    await page.locator('#rec-note-text').fill(NOTE);
    const answer = page.waitForResponse((r) => r.request().method() === 'PUT' && new URL(r.url()).pathname === `/api/v1/recordings/${annotated.id}/note`);
    await byId('rec-note-save').click();
    const res = await answer;
    assert.equal(res.status(), 200);
    assert.deepEqual(JSON.parse(res.request().postData()), { note: NOTE });
    await byId('rec-note-dialog').waitFor({ state: 'hidden' });
    await expectText(byId('rec-notice'), '批注已保存。');
    await expectText(rowById(annotated.id).getByTestId('rec-note'), NOTE);
    await expectText(rowById(annotated.id).getByTestId('rec-note-by'), /admin/);
    await screenshot(page, 'recordings-annotated.png');
  });

  await step('agent 8002 logs in and sees the note on the agent page, and can play the recording', async () => {
    agentSide = await openContext(session.browser);
    const ap = agentSide.page;
    await ap.goto(daemon.url);
    await expectHash(ap, '#/login');
    await ap.locator('#login-username').fill(AGENT_JOB);
    await ap.locator('#login-password').fill(AGENT_PASSWORD);
    await ap.locator('#login-submit').click();
    await expectHash(ap, '#/agent');
    await ap.getByTestId('me-recordings').waitFor({ state: 'visible' });
    await expectText(ap.locator('#me-recordings-title'), '我的录音');
    await expectAttr(ap.getByTestId('rec-view'), 'data-mode', 'agent');
    assert.equal(await ap.locator('#rec-agent').count(), 0, 'no 坐席名 filter on one’s own recordings');
    const own = await shown(ap);
    assert.ok(own.length > 0);
    for (const r of own) assert.equal(r.agent, AGENT_JOB, 'only the agent’s own recordings');
    let row = rowById(annotated.id, ap);
    if ((await row.count()) === 0) {
      // Not on the first page: find it by its customer number.
      await ap.locator('#rec-number').fill(annotated.number);
      await search(ap, agentSide.log);
      row = rowById(annotated.id, ap);
    }
    await expectText(row.getByTestId('rec-note'), NOTE);
    assert.equal(await row.locator('.rec-note-prominent').count(), 1, 'the note stands out');
    // What the agent may do is the server's word.
    const flags = await call(ap, 'GET', '/api/v1/recordings?per_page=10');
    assert.equal(flags.status, 200);
    assert.equal(await ap.locator('[data-testid="rec-annotate"]').count() > 0, flags.body.can_annotate);
    assert.equal(await ap.locator('[data-testid="rec-delete"]').count() > 0, flags.body.can_delete);
    await row.getByTestId('rec-play').click();
    await ap.getByTestId('rec-player').waitFor({ state: 'visible' });
    await ap.waitForFunction(() => {
      const a = document.querySelector('[data-testid="rec-player-audio"]');
      return a && a.readyState >= 1 && a.duration > 0;
    });
    await screenshot(ap, 'recordings-agent.png');
    await ap.getByTestId('rec-player-close').click();
  });

  await step('team leader 8001 gets the 录音列表 table of their queues on the agent page', async () => {
    leaderSide = await openContext(session.browser);
    const lp = leaderSide.page;
    await lp.goto(daemon.url);
    await expectHash(lp, '#/login');
    await lp.locator('#login-username').fill(LEADER_JOB);
    await lp.locator('#login-password').fill(LEADER_PASSWORD);
    await lp.locator('#login-submit').click();
    await expectHash(lp, '#/agent');
    await lp.getByTestId('me-leader').waitFor({ state: 'visible' });
    await expectText(lp.locator('#me-recordings-title'), '录音列表');
    await expectAttr(lp.getByTestId('rec-view'), 'data-mode', 'leader');
    const list = await shown(lp);
    assert.ok(list.length > 0, 'the leader sees recordings');
    const api = await call(lp, 'GET', '/api/v1/recordings?per_page=10');
    assert.equal(api.status, 200);
    // The filter choices are the server's, 【删除】 after those no longer the leader's.
    const options = await lp.locator('#rec-agent option').evaluateAll((os) =>
      os.filter((o) => o.value).map((o) => ({ key: o.value, text: o.textContent, removed: o.dataset.removed === 'true' })),
    );
    assert.deepEqual(options.map((o) => o.key).sort(), api.body.agents.map((a) => a.key).sort());
    for (const o of options) {
      assert.equal(o.text.endsWith('【删除】'), o.removed, `${o.text}`);
      assert.equal(o.removed, api.body.agents.find((a) => a.key === o.key).removed);
    }
    const queueKeys = api.body.queues.map((q) => q.key);
    const queuesShown = await lp.locator('[data-testid="rec-cell-queue"]').evaluateAll((cs) => cs.map((c) => c.dataset.queue));
    for (const q of queuesShown) assert.ok(q === '' || queueKeys.includes(q), `queue ${q} is one of the leader's choices`);
    assert.equal((await lp.locator('[data-testid="rec-annotate"]').count()) > 0, api.body.can_annotate);
    await screenshot(lp, 'recordings-leader.png');
  });

  await step('删除 asks first, then removes the recording from the list', async () => {
    await page.locator('#rec-agent').selectOption('');
    const before = await search();
    const target = (await shown()).find((r) => r.id !== annotated.id && r.finished);
    await rowById(target.id).getByTestId('rec-delete').click();
    await byId('rec-delete-confirm').waitFor({ state: 'visible' });
    await byId('rec-delete-confirm-cancel').click();
    await byId('rec-delete-confirm').waitFor({ state: 'hidden' });
    assert.ok(!log.api.some((r) => r.method === 'DELETE' && r.path === `/api/v1/recordings/${target.id}`), 'cancel sends nothing');
    await rowById(target.id).getByTestId('rec-delete').click();
    const answer = page.waitForResponse((r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === `/api/v1/recordings/${target.id}`);
    await byId('rec-delete-confirm-ok').click();
    const res = await answer;
    assert.equal(res.status(), 200);
    const body = await res.json();
    await expectText(byId('rec-notice'), body.file_was_missing ? '文件已不存在，已从列表中移除。' : /^已删除与 .* 的通话录音。$/);
    await rowById(target.id).waitFor({ state: 'detached' });
    // The demo keeps recording its simulated calls, so the total may have grown meanwhile:
    // ask for the deleted recording's customer instead.
    const left = await call(page, 'GET', `/api/v1/recordings?number=${encodeURIComponent(target.number)}&per_page=100`);
    assert.equal(left.status, 200);
    assert.ok(!left.body.items.some((x) => String(x.id) === target.id), 'the recording is gone from the index');
    assert.ok(before.total > 0);
  });

  await step('a date range that ends before it starts: the server’s refusal, in Chinese', async () => {
    await page.locator('#rec-from').fill('2026-11-20');
    await page.locator('#rec-to').fill('2026-11-10');
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/recordings' && r.request().method() === 'GET');
    await byId('rec-submit').click();
    const res = await answer;
    assert.equal(res.status(), 400);
    const body = await res.json();
    assert.equal(body.error.code, 'invalid_query');
    await expectText(byId('rec-error'), body.error.message);
    assert.match(body.error.message, /[\u3400-\u9fff]/);
    assert.match(listCalls().at(-1).query, /from=2026-11-20&to=2026-11-10/);
    // The form keeps what was typed; a valid range clears the message.
    assert.equal(await page.locator('#rec-from').inputValue(), '2026-11-20');
    await page.locator('#rec-to').fill('2026-11-30');
    await search();
    assert.equal(await byId('rec-error').count(), 0);
    for (const d of await page.locator('[data-testid="rec-cell-date"]').allInnerTexts()) {
      assert.ok(d >= '2026-11-20' && d < '2026-12-01', `${d} is within the range`);
    }
    await page.locator('#rec-from').fill('');
    await page.locator('#rec-to').fill('');
    await search();
  });

  await step('English', async () => {
    await byId('lang-en').click();
    await expectText(byId('page-title'), 'Recordings');
    const heads = (await byId('rec-table').locator('thead th').allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(heads, ['', 'Date and time', 'Customer number', 'Customer name', 'Queue', 'Agent (job no.)', 'Call type', 'Duration', 'Size', 'Note', 'Actions']);
    await expectText(byId('rec-submit'), 'Search');
    await screenshot(page, 'recordings-en.png');
    await byId('lang-zh').click();
  });

  await step('nothing left loopback, no page errors, no CSP violations', async () => {
    for (const l of [log, agentSide.log, leaderSide.log]) {
      assert.deepEqual(l.blocked, []);
      assert.deepEqual(l.pageErrors, []);
      assert.deepEqual(l.cspViolations, []);
    }
  });
});
