// Journey: manual §7 客户留言 on a real Asterisk voicemail spool.
//
// Before the demo daemon starts, its voicemail folder (`<data-dir>/voicemail`, src/demo.rs)
// receives the real spools of ../shared/ami-traces (see VOICEMAIL.md there): the one an
// Asterisk 22.10.1 run wrote (two messages with real 8 kHz WAVs, one of them Urgent) and
// wazo-calld's six samples (16-byte placeholder audio), as tests/voicemail.rs uses them.
// The 22.10.1 messages are also copied into the mailboxes of the demo's queues 222 and 333
// (context `default`, mailbox = queue number, which is where a queue's messages land), so
// that 队列名 shows the queues' names and the table has more than one page of 10 rows.
//
// The administrator opens 客户留言 and finds every message of the spool with its number,
// name, queue, date and duration (expected values read from the msgNNNN.txt files
// themselves); pages with 10 and 25 rows; sorts 客户号码 and 时长 both ways; searches a
// fragment that only some rows contain; plays a real message in the pop-up player (the
// <audio> loads: duration 4 s, the server answered with audio) and sees the player's
// explanation for a placeholder that no browser can decode; downloads a message (the bytes
// equal the spool file); deletes one (asked first; cancel sends nothing) and sees it gone,
// the folder renumbered; is told, in the UI's language, when a message was deleted
// elsewhere meanwhile. Then the page in English. Screenshots: target/browser-artifacts/
// voicemail-*.png.
//
// Run from the repository root:  node --test tests/browser/voicemail.test.mjs

import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  SHARED,
  cleanArtifacts,
  copyTree,
  expectAttr,
  expectHash,
  expectText,
  openBrowser,
  screenshot,
  sleep,
  startDaemon,
  stepper,
} from './lib/harness.mjs';
import { loginAndChangePassword } from './lib/login.mjs';

const JOURNEY = 'voicemail';
const TRACES = path.join(SHARED, 'ami-traces');
const ASTERISK_SPOOL = path.join(TRACES, 'asterisk-22.10.1-queue-scenario', 'spool', 'voicemail');
const WAZO_SPOOL = path.join(TRACES, 'wazo-calld', 'integration_tests', 'assets', 'asterisk-voicemail');
/** The demo's queues whose mailboxes get a copy of the 22.10.1 messages. */
const QUEUE_MAILBOXES = ['222', '333'];
const CJK = /[\u3400-\u9fff]/;

let daemon;
let session;
let spoolDir;

before(async () => {
  await cleanArtifacts(JOURNEY);
  daemon = await startDaemon(JOURNEY, {
    async prepare(dataDir) {
      const vm = path.join(dataDir, 'voicemail');
      await copyTree(ASTERISK_SPOOL, vm);
      await copyTree(WAZO_SPOOL, vm);
      for (const q of QUEUE_MAILBOXES) {
        await copyTree(path.join(ASTERISK_SPOOL, 'default', '1000', 'INBOX'), path.join(vm, 'default', q, 'INBOX'));
        await copyTree(path.join(ASTERISK_SPOOL, 'default', '1001', 'Urgent'), path.join(vm, 'default', q, 'Urgent'));
      }
    },
  });
  spoolDir = path.join(daemon.dataDir, 'voicemail');
  session = await openBrowser();
});

after(async () => {
  if (session) await session.browser.close();
  if (daemon) await daemon.stop();
});

// ---- the spool, read the way VOICEMAIL.md describes it ----------------------------------

async function findMessages(dir, rel = []) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await findMessages(p, [...rel, entry.name])));
    else if (/^msg\d{4}\.txt$/.test(entry.name)) out.push({ txt: p, rel });
  }
  return out;
}

function parseTxt(text) {
  const fields = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([a-z_]+)=(.*)$/.exec(line.trim());
    if (m) fields[m[1]] = m[2];
  }
  return fields;
}

const p2 = (n) => String(n).padStart(2, '0');
/** 'YYYY-MM-DD HH:MM:SS' in this process's time zone, which the daemon (its child) shares. */
const localDate = (epoch) => {
  const d = new Date(epoch * 1000);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
};
const clock = (secs) => `${Math.floor(secs / 60)}:${p2(secs % 60)}`;

/** Every message of the copied spool as the table must show it. */
async function expectedRows(queueNames) {
  const rows = [];
  for (const { txt, rel } of await findMessages(spoolDir)) {
    const [context, mailbox, folder] = rel;
    const f = parseTxt(await readFile(txt, 'utf8'));
    const cid = /^"(.*)"\s*<(.*)>$/.exec(f.callerid || '');
    const duration = Number(f.duration);
    rows.push({
      number: cid ? cid[2] : f.callerid,
      name: cid ? cid[1] : '',
      queue: (context === 'default' && queueNames.get(mailbox)) || mailbox,
      date: localDate(Number(f.origtime)),
      duration: clock(duration),
      seconds: duration,
      urgent: folder === 'Urgent',
      audio: txt.replace(/\.txt$/, '.wav'),
      mailboxDir: path.dirname(txt),
    });
  }
  return rows;
}

const key = (r) => [r.number, r.name, r.queue, r.date, r.duration].join('|');
const sortedKeys = (rows) => rows.map(key).sort();

/** GET from inside the page (its cookies) → { status, body }. */
function call(page, apiPath) {
  return page.evaluate(async (p) => {
    const r = await fetch(p, { headers: { Accept: 'application/json', 'Accept-Language': 'zh-CN' } });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }, apiPath);
}

test('客户留言 journey on the real spool (manual §7)', { timeout: 300_000 }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page, JOURNEY);
  const byId = (id) => page.getByTestId(id);
  const table = byId('voicemail-table');
  const rowsLoc = page.locator('[data-testid="voicemail-row"]');
  const listCalls = () => log.api.filter((r) => r.method === 'GET' && r.path === '/api/v1/voicemail');

  /** Waits until the table shows the answer to the latest request and returns its rows. */
  async function shown() {
    await page.waitForFunction(() => {
      const tbl = document.querySelector('[data-testid="voicemail-table"]');
      return tbl && tbl.dataset.loading === 'false';
    });
    const out = [];
    for (const r of await rowsLoc.all()) {
      const cell = async (c) => (await r.getByTestId(`voicemail-cell-${c}`).innerText()).trim();
      out.push({
        id: await r.getAttribute('data-id'),
        number: await cell('number'),
        name: (await r.getByTestId('voicemail-cell-name').locator('span').first().innerText()).trim(),
        queue: await cell('queue'),
        date: await cell('date'),
        duration: await cell('duration'),
        urgent: (await r.getAttribute('data-urgent')) === 'true',
      });
    }
    return out;
  }

  async function waitTotal(n) {
    await expectAttr(byId('voicemail-pager-total'), 'data-total', String(n));
  }

  let expected;
  let queueNames;

  await step('log in as administrator', async () => {
    await loginAndChangePassword(page, daemon.url);
    const queues = await call(page, '/api/v1/queues');
    assert.equal(queues.status, 200);
    queueNames = new Map(queues.body.queues.map((q) => [q.queue, q.name]));
    assert.equal(queueNames.get('222'), '售后', 'the demo names its queues');
    expected = await expectedRows(queueNames);
    assert.equal(expected.length, 8 + 2 * QUEUE_MAILBOXES.length, 'the copied spool holds 12 messages');
  });

  await step('客户留言 is in the navigation after 录音列表 and shows the manual’s columns', async () => {
    await byId('nav-voicemail').click();
    await expectHash(page, '#/voicemail');
    await expectText(byId('page-title'), '客户留言');
    await byId('voicemail-page').waitFor({ state: 'visible' });
    await table.waitFor({ state: 'visible' });
    const heads = (await table.locator('thead th').allInnerTexts()).map((s) => s.replace(/[▲▼\s]+/g, ' ').trim());
    assert.deepEqual(heads, ['客户号码', '客户名', '队列名', '日期', '时长', '操作']);
    const navOrder = (await page.locator('[data-testid^="nav-"] .nav-label').allInnerTexts()).map((s) => s.trim());
    assert.equal(navOrder.indexOf('客户留言'), navOrder.indexOf('录音列表') + 1);
  });

  await step('10 rows per page by default, newest first; page 2 has the rest', async () => {
    assert.equal(await page.locator('#voicemail-per-page').inputValue(), '10');
    await waitTotal(expected.length);
    const first = await shown();
    assert.equal(first.length, 10);
    const newestFirst = [...expected].sort((a, b) => b.date.localeCompare(a.date));
    assert.equal(first[0].date, newestFirst[0].date);
    for (let i = 1; i < first.length; i++) assert.ok(first[i - 1].date >= first[i].date, 'newest first');
    await expectText(byId('voicemail-pager-total'), `第 1–10 条，共 ${expected.length} 条`);
    await byId('voicemail-pager').getByTestId('pager-page-2').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="voicemail-row"]').length === 2);
    const second = await shown();
    assert.deepEqual(sortedKeys([...first, ...second]), sortedKeys(expected), 'the two pages hold every message once');
    await screenshot(page, 'voicemail-page2.png');
  });

  await step('25 rows per page: every message of the spool with its number, name, queue, date, duration', async () => {
    await page.locator('#voicemail-per-page').selectOption('25');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="voicemail-row"]').length === 12);
    const all = await shown();
    assert.deepEqual(sortedKeys(all), sortedKeys(expected));
    assert.equal(all.filter((r) => r.urgent).length, expected.filter((r) => r.urgent).length, 'Urgent messages are marked');
    for (const r of all.filter((x) => x.urgent)) {
      await expectText(rowsLoc.and(page.locator(`[data-id="${r.id}"]`)).locator('.tag-urgent'), '紧急');
    }
    assert.ok(all.some((r) => r.queue === '售后') && all.some((r) => r.queue === '销售'), 'queue mailboxes show the queue names');
    const last = listCalls().at(-1);
    assert.match(last.query, /per_page=25/);
    assert.match(last.query, /page=1(&|$)/);
    await expectText(byId('voicemail-pager-total'), `第 1–12 条，共 12 条`);
    await screenshot(page, 'voicemail-list.png');
  });

  await step('客户号码 sorts ascending, then descending (the header toggles ▲ ▼)', async () => {
    await byId('voicemail-sort-number').click();
    await expectAttr(byId('voicemail-sort-number'), 'data-sort', 'asc');
    await expectAttr(table.locator('th').nth(0), 'aria-sort', 'ascending');
    await page.waitForFunction(() => document.querySelector('[data-testid="voicemail-table"]').dataset.sort === 'number:asc');
    let rows = await shown();
    const numbers = expected.map((r) => r.number).sort();
    assert.deepEqual(rows.map((r) => r.number), numbers);
    assert.match(listCalls().at(-1).query, /sort=number&dir=asc/);
    await byId('voicemail-sort-number').click();
    await expectAttr(byId('voicemail-sort-number'), 'data-sort', 'desc');
    await page.waitForFunction(() => document.querySelector('[data-testid="voicemail-table"]').dataset.sort === 'number:desc');
    rows = await shown();
    assert.deepEqual(rows.map((r) => r.number), [...numbers].reverse());
    assert.match(listCalls().at(-1).query, /sort=number&dir=desc/);
    await screenshot(page, 'voicemail-sorted.png');
  });

  await step('时长 sorts by seconds both ways', async () => {
    const seconds = (d) => d.split(':').reduce((m, s) => m * 60 + Number(s), 0);
    await byId('voicemail-sort-duration').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="voicemail-table"]').dataset.sort === 'duration:asc');
    let rows = await shown();
    assert.deepEqual(rows.map((r) => seconds(r.duration)), expected.map((r) => r.seconds).sort((a, b) => a - b));
    await expectAttr(byId('voicemail-sort-number'), 'data-sort', 'none');
    await byId('voicemail-sort-duration').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="voicemail-table"]').dataset.sort === 'duration:desc');
    rows = await shown();
    assert.deepEqual(rows.map((r) => seconds(r.duration)), expected.map((r) => r.seconds).sort((a, b) => b - a));
  });

  await step('the search box matches any column as shown (one request once typing stops)', async () => {
    const fragment = '555';
    const want = expected.filter((r) => [r.number, r.name, r.queue, r.date, r.duration].some((c) => c.includes(fragment)));
    assert.ok(want.length > 0 && want.length < expected.length, 'the fragment matches only some rows');
    const before = listCalls().length;
    await page.locator('#voicemail-search').pressSequentially(fragment, { delay: 40 });
    await page.waitForFunction((q) => document.querySelector('[data-testid="voicemail-table"]').dataset.search === q, fragment);
    const rows = await shown();
    assert.deepEqual(sortedKeys(rows), sortedKeys(want));
    await expectAttr(byId('voicemail-pager-total'), 'data-total', String(want.length));
    const searches = listCalls().slice(before);
    assert.equal(searches.length, 1, 'typing sends one debounced request');
    assert.match(searches[0].query, /search=555/);
    await screenshot(page, 'voicemail-search.png');

    // A name, in another column: Bob's three messages.
    await page.locator('#voicemail-search').fill('Bob');
    await page.waitForFunction(() => document.querySelector('[data-testid="voicemail-table"]').dataset.search === 'Bob');
    assert.deepEqual(sortedKeys(await shown()), sortedKeys(expected.filter((r) => r.name === 'Bob')));

    await page.locator('#voicemail-search').fill('no-such-caller');
    await expectText(byId('voicemail-empty'), '没有与“no-such-caller”匹配的留言。');
    await page.locator('#voicemail-search').fill('');
    await page.waitForFunction(() => document.querySelector('[data-testid="voicemail-table"]').dataset.search === '');
    await waitTotal(expected.length);
  });

  await step('播放 opens the pop-up player; the real WAV loads (4 s) from the server', async () => {
    const rows = await shown();
    const target = rows.find((r) => r.number === '5550101' && r.queue === '1001');
    assert.ok(target, 'the 22.10.1 urgent message is listed');
    const audioAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/voicemail/${target.id}/audio`);
    await page.locator(`[data-testid="voicemail-row"][data-id="${target.id}"]`).getByTestId('voicemail-play').click();
    await byId('voicemail-player').waitFor({ state: 'visible' });
    await expectText(page.locator('#voicemail-player-title'), '留言：5550101 Urgent Caller');
    const res = await audioAnswer;
    assert.ok([200, 206].includes(res.status()), `audio answered ${res.status()}`);
    assert.equal(res.headers()['content-type'], 'audio/wav');
    const audio = byId('voicemail-player-audio');
    await page.waitForFunction(() => {
      const a = document.querySelector('[data-testid="voicemail-player-audio"]');
      return a && a.readyState >= 1 && Number.isFinite(a.duration) && a.duration > 0;
    });
    const state = await audio.evaluate((a) => ({ duration: a.duration, controls: a.controls, volume: a.volume }));
    assert.ok(Math.abs(state.duration - 4) < 0.2, `the message lasts 4 s (got ${state.duration})`);
    assert.equal(state.controls, true, 'the browser’s controls (play, seek, volume) are shown');
    // The volume can be set (the controls' slider does the same).
    await audio.evaluate((a) => {
      a.volume = 0.3;
    });
    assert.equal(await audio.evaluate((a) => a.volume), 0.3);
    // Seeking asks the server for a range.
    await audio.evaluate((a) => {
      a.currentTime = 3;
    });
    await page.waitForFunction(() => document.querySelector('[data-testid="voicemail-player-audio"]').currentTime >= 2.9);
    assert.equal(await byId('voicemail-player-error').count(), 0);
    await screenshot(page, 'voicemail-player.png');
    await byId('voicemail-player-close').click();
    await byId('voicemail-player').waitFor({ state: 'hidden' });
  });

  await step('a placeholder file that no browser decodes: the player says so', async () => {
    const rows = await shown();
    const placeholder = rows.find((r) => r.name === 'Alice');
    await page.locator(`[data-testid="voicemail-row"][data-id="${placeholder.id}"]`).getByTestId('voicemail-play').click();
    await byId('voicemail-player').waitFor({ state: 'visible' });
    await expectText(byId('voicemail-player-error'), '浏览器无法播放该音频格式，请下载后用播放器打开。');
    await byId('voicemail-player-download').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await byId('voicemail-player').waitFor({ state: 'hidden' });
  });

  await step('下载 saves the message: the bytes are the spool file’s', async () => {
    const rows = await shown();
    const target = rows.find((r) => r.number === '5550100' && r.queue === '1000');
    const spoolFile = expected.find((r) => r.number === '5550100' && r.queue === '1000').audio;
    const link = page.locator(`[data-testid="voicemail-row"][data-id="${target.id}"]`).getByTestId('voicemail-download');
    await expectText(link, '下载');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = await download.path();
    const got = await readFile(saved);
    const want = await readFile(spoolFile);
    assert.equal(got.length, 64044);
    assert.ok(got.equals(want), 'the downloaded file is byte for byte the spool’s');
    assert.equal(got.subarray(0, 4).toString('latin1'), 'RIFF');
    assert.match(download.suggestedFilename(), /\.wav$/);
  });

  await step('删除 asks first (cancel sends nothing), then deletes; the folder is renumbered', async () => {
    const rows = await shown();
    const target = rows.find((r) => r.name === 'Bob' && r.duration === '0:59');
    const row = page.locator(`[data-testid="voicemail-row"][data-id="${target.id}"]`);
    const deletes = () => log.api.filter((r) => r.method === 'DELETE' && r.path.startsWith('/api/v1/voicemail/')).length;
    const before = deletes();
    await row.getByTestId('voicemail-delete').click();
    await byId('voicemail-delete-confirm').waitFor({ state: 'visible' });
    const message = await byId('voicemail-delete-confirm-message').innerText();
    assert.match(message, /1002 Bob/);
    assert.match(message, CJK);
    await byId('voicemail-delete-confirm-cancel').click();
    await byId('voicemail-delete-confirm').waitFor({ state: 'hidden' });
    assert.equal(deletes(), before, 'cancel sends nothing');

    await row.getByTestId('voicemail-delete').click();
    const answer = page.waitForResponse((r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === `/api/v1/voicemail/${target.id}`);
    await byId('voicemail-delete-confirm-ok').click();
    assert.equal((await answer).status(), 204);
    await byId('voicemail-delete-confirm').waitFor({ state: 'hidden' });
    await expectText(byId('voicemail-notice'), '已删除 1002 Bob 的留言。');
    await waitTotal(expected.length - 1);
    await row.waitFor({ state: 'detached' });
    const left = await shown();
    assert.equal(left.filter((r) => r.name === 'Bob').length, 2);
    assert.ok(!left.some((r) => r.id === target.id));
    // As Asterisk keeps a folder: msg0000 and msg0001 remain, contiguous.
    const bobDir = path.join(spoolDir, 'default', '8001', 'INBOX');
    const names = (await readdir(bobDir)).filter((n) => !n.startsWith('.')).sort();
    assert.deepEqual(names, ['msg0000.txt', 'msg0000.wav', 'msg0001.txt', 'msg0001.wav']);
    await screenshot(page, 'voicemail-deleted.png');
  });

  await step('a message deleted elsewhere meanwhile: the server’s refusal in the dialog, then 刷新', async () => {
    const rows = await shown();
    const target = rows.find((r) => r.name === 'Alice');
    const row = page.locator(`[data-testid="voicemail-row"][data-id="${target.id}"]`);
    const gone = await page.evaluate(async (id) => (await fetch(`/api/v1/voicemail/${id}`, { method: 'DELETE' })).status, target.id);
    assert.equal(gone, 204, 'deleted behind the page’s back');
    await row.getByTestId('voicemail-delete').click();
    const answer = page.waitForResponse((r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === `/api/v1/voicemail/${target.id}`);
    await byId('voicemail-delete-confirm-ok').click();
    const res = await answer;
    assert.equal(res.status(), 404);
    const body = await res.json();
    assert.equal(body.error.code, 'voicemail_not_found');
    await expectText(byId('voicemail-delete-confirm-error'), body.error.message);
    assert.match(body.error.message, CJK, 'in the UI’s language');
    await byId('voicemail-delete-confirm').waitFor({ state: 'visible' });
    await byId('voicemail-delete-confirm-cancel').click();
    await byId('voicemail-refresh').click();
    await row.waitFor({ state: 'detached' });
    await waitTotal(expected.length - 2);
  });

  await step('English: the same page in the UI’s language', async () => {
    await byId('lang-en').click();
    await expectText(byId('page-title'), 'Voicemail');
    const heads = (await table.locator('thead th').allInnerTexts()).map((s) => s.replace(/[▲▼\s]+/g, ' ').trim());
    assert.deepEqual(heads, ['Customer number', 'Customer name', 'Queue', 'Date', 'Duration', 'Actions']);
    await expectText(rowsLoc.first().getByTestId('voicemail-play'), 'Play');
    await expectText(byId('voicemail-pager-total'), /of 10/);
    await screenshot(page, 'voicemail-en.png');
    await byId('lang-zh').click();
    await expectText(byId('page-title'), '客户留言');
  });

  await step('nothing left loopback, no page errors, no CSP violations', async () => {
    await sleep(100);
    assert.deepEqual(log.blocked, []);
    assert.deepEqual(log.pageErrors, []);
    assert.deepEqual(log.cspViolations, []);
  });
});
