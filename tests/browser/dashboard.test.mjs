// Journey: manual §3 监控显示 against the demo daemon's simulated call center.
//
// The four parts show real numbers; the live part follows the server-sent events without a
// reload: a caller starts waiting in some queue and an agent goes from 空闲 (idle) to
// 设备忙 (busy), and each shows in the page within 1 s of the `live` message that said so.
//
// How the 1 s is measured: an init script wraps window.EventSource so that every `live`
// message is stamped (performance.now()) the moment the browser hands it to the page, before
// the app's own listener runs; a MutationObserver on the page stamps every DOM change with
// what the page then shows (waiting per queue, status per agent row). The test pairs the
// first message that carries a change with the first DOM state that shows it.
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
  screenshot,
  sleep,
  startDaemon,
  stepper,
} from './lib/harness.mjs';
import { loginAndChangePassword } from './lib/login.mjs';

const JOURNEY = 'dashboard';
const LIVE_BUDGET_MS = 1000;
const WAIT_FOR_ACTIVITY_MS = 120_000;
const STATUS_ZH = { idle: '空闲', busy: '设备忙', ringing: '响铃', on_hold: '保持', offline: '离线', unknown: '未知' };
const STATUS_EN = { idle: 'Idle', busy: 'Busy', ringing: 'Ringing', on_hold: 'On hold', offline: 'Offline', unknown: 'Unknown' };

/** Runs in the page before its scripts: stamps every `live`/`stats` message on arrival. */
function recordServerSentEvents() {
  const Original = window.EventSource;
  if (!Original) return;
  const rec = { events: [] };
  Object.defineProperty(window, '__sseRecord', { value: rec });
  window.EventSource = class extends Original {
    constructor(...args) {
      super(...args);
      for (const type of ['live', 'stats']) {
        this.addEventListener(type, (e) => {
          let data = null;
          try {
            data = JSON.parse(e.data);
          } catch {
            // recorded as null
          }
          rec.events.push({ type, t: performance.now(), data });
        });
      }
    }
  };
}

/** Runs in the page: stamps every change of what the dashboard shows. */
function observeDashboard() {
  const shown = () => {
    const waiting = {};
    for (const g of document.querySelectorAll('[data-testid^="waiting-bar-"]')) {
      waiting[g.getAttribute('data-testid').slice('waiting-bar-'.length)] = Number(g.dataset.waiting);
    }
    const table = {};
    for (const r of document.querySelectorAll('[data-testid="queue-row"]')) {
      table[r.dataset.queue] = Number(r.querySelector('[data-testid="queue-waiting"]').textContent.replace(/\D/g, ''));
    }
    const callers = [...document.querySelectorAll('[data-testid="caller-row"]')].map((r) => r.dataset.queue);
    const agents = {};
    for (const r of document.querySelectorAll('[data-testid="agent-row"]')) {
      const badge = r.querySelector('[data-testid="agent-status"]');
      agents[`${r.dataset.extension}|${r.dataset.queue}`] = [badge.dataset.status, badge.textContent.trim()];
    }
    const banner = Boolean(document.querySelector('[data-testid="pbx-banner"]'));
    const live = document.querySelector('[data-testid="dash-live"]');
    const stale = Boolean(live && live.classList.contains('live-stale'));
    return { t: performance.now(), waiting, table, callers, agents, banner, stale };
  };
  const rec = { since: performance.now(), snaps: [shown()] };
  Object.defineProperty(window, '__domRecord', { value: rec });
  new MutationObserver(() => rec.snaps.push(shown())).observe(document.getElementById('main'), {
    subtree: true,
    childList: true,
    attributes: true,
    characterData: true,
  });
}

/** The first `live` message after `since` in which queue Q goes from 0 to > 0 waiting. */
function findCallerArrival(events, since) {
  const live = events.filter((e) => e.type === 'live' && e.data);
  for (let i = 1; i < live.length; i++) {
    const e = live[i];
    if (e.t < since || !e.data.pbx || e.data.pbx.connected !== true) continue;
    for (const q of e.data.queues || []) {
      const before = (live[i - 1].data.queues || []).find((p) => p.queue === q.queue);
      if (q.waiting > 0 && before && before.waiting === 0) return { event: e, queue: q.queue, waiting: q.waiting };
    }
  }
  return null;
}

/** The first `live` message after `since` in which an agent row becomes busy after being idle (ringing in between is fine). */
function findIdleToBusy(events, since) {
  const live = events.filter((e) => e.type === 'live' && e.data);
  const lastSettled = new Map(); // row → last status other than ringing
  const prev = new Map();
  for (const e of live) {
    for (const a of e.data.agents || []) {
      const key = `${a.extension}|${a.queue}`;
      if (
        e.t >= since &&
        e.data.pbx &&
        e.data.pbx.connected === true &&
        a.status === 'busy' &&
        prev.get(key) !== 'busy' &&
        lastSettled.get(key) === 'idle'
      ) {
        return { event: e, key, name: a.name };
      }
      prev.set(key, a.status);
      if (a.status !== 'ringing') lastSettled.set(key, a.status);
    }
  }
  return null;
}

let daemon;
let session;

before(async () => {
  await cleanArtifacts(JOURNEY);
  daemon = await startDaemon(JOURNEY);
  session = await openBrowser();
  await session.context.addInitScript(recordServerSentEvents);
});

after(async () => {
  if (session) await session.browser.close();
  if (daemon) await daemon.stop();
});

test('监控显示 journey (manual §3)', { timeout: 420_000 }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page, JOURNEY);
  const byId = (id) => page.getByTestId(id);
  const apiCalls = (path, method = 'GET') => log.api.filter((r) => r.path === path && r.method === method).length;
  const records = () => page.evaluate(() => ({ events: window.__sseRecord.events, dom: window.__domRecord }));

  await step('log in, change the password, land on 监控显示', async () => {
    await loginAndChangePassword(page, daemon.url);
    await expectText(byId('page-title'), '监控显示');
    await byId('dashboard-page').waitFor({ state: 'visible' });
    await expectAttr(byId('live-indicator'), 'data-state', 'open');
    await expectText(byId('live-indicator'), '实时');
  });

  await step('part 1: four counts, each a link to its page', async () => {
    const dash = await page.evaluate(async () => (await fetch('/api/v1/dashboard')).json());
    for (const [key, href] of [
      ['agents', '#/agents'],
      ['recordings', '#/recordings'],
      ['queues', '#/queues'],
      ['oplog', '#/oplog'],
    ]) {
      assert.equal(await byId(`count-${key}`).getAttribute('href'), href);
      const shown = await expectText(byId(`count-${key}-value`), /^\d[\d,]*$/);
      assert.equal(typeof dash.counts[key], 'number', `counts.${key} from the API`);
      if (key === 'agents' || key === 'queues') assert.equal(Number(shown.replace(/,/g, '')), dash.counts[key], key);
    }
    await expectText(byId('count-agents').locator('.tile-label'), '坐席');
    await expectText(byId('count-recordings').locator('.tile-label'), '录音');
    await expectText(byId('count-queues').locator('.tile-label'), '队列');
    await expectText(byId('count-oplog').locator('.tile-label'), '操作日志');
    await byId('count-agents').click();
    await expectHash(page, '#/agents');
    await page.goBack();
    await expectHash(page, '#/dashboard');
    await byId('dashboard-page').waitFor({ state: 'visible' });
    await expectAttr(byId('live-indicator'), 'data-state', 'open');
  });

  await step('part 2: 今日通话趋势 has 24 hours of answered and failed bars', async () => {
    await expectText(byId('dash-trend').locator('.card-title'), '今日通话趋势');
    await byId('trend-chart').waitFor({ state: 'visible' });
    assert.equal(await page.locator('[data-testid^="trend-hour-"]').count(), 24);
    assert.equal(await page.locator('[data-testid="trend-chart"] .bar-answered').count(), 24);
    assert.equal(await page.locator('[data-testid="trend-chart"] .bar-failed').count(), 24);
    await expectText(byId('trend-total'), /^今日呼入 \d[\d,]*：成功 \d[\d,]*，失败 \d[\d,]*$/);
  });

  await step('part 3: 监控图, 队列 and 坐席 tables with the demo’s queues and agents', async () => {
    await byId('waiting-chart').waitFor({ state: 'visible' });
    await byId('queue-table').waitFor({ state: 'visible' });
    const queues = await page.locator('[data-testid="queue-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.queue));
    for (const q of ['222', '333', '444']) {
      assert.ok(queues.includes(q), `queue ${q} in the table (${queues})`);
      await byId(`waiting-bar-${q}`).waitFor({ state: 'attached' });
    }
    const heads = (await byId('queue-table').locator('thead th').allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(heads, ['队列', '当前等待', '完成', '未接听']);
    const agentHeads = (await byId('agent-table').locator('thead th').allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(agentHeads, ['坐席名', '分机', '队列', '状态', '置忙']);
    const statuses = await page
      .locator('[data-testid="agent-status"]')
      .evaluateAll((els) => els.map((e) => [e.dataset.status, e.textContent.trim()]));
    assert.ok(statuses.length > 0, 'agent rows');
    for (const [status, text] of statuses) assert.equal(text, STATUS_ZH[status], `badge for ${status}`);
    const paused = await page.locator('[data-testid="agent-paused"]').allInnerTexts();
    for (const p of paused) assert.match(p.trim(), /^(否|是(（.+）)?)$/);
  });

  await step('part 4: uptimes, memory, disk, USB storage and version', async () => {
    await byId('system-list').waitFor({ state: 'visible' });
    await expectText(byId('dash-system').locator('.card-title'), 'PBX 系统说明');
    await expectText(byId('sys-system-uptime'), /^(\d+天 )?(\d+小时 )?\d+分$/);
    await expectText(byId('sys-console-uptime'), /^(\d+天 )?(\d+小时 )?\d+分$/);
    await expectText(byId('sys-mem-total'), /^总计 [\d.]+ [KMGT]?B$/);
    await expectText(byId('sys-mem-free'), /^剩余 [\d.]+ [KMGT]?B$/);
    await expectText(byId('sys-disk-total'), /^总计 [\d.]+ [KMGT]?B$/);
    await expectText(byId('sys-disk-free'), /^剩余 [\d.]+ [KMGT]?B$/);
    const sys = await page.evaluate(async () => (await fetch('/api/v1/system')).json());
    if (sys.usb.length) {
      assert.equal(await byId('sys-usb').count(), sys.usb.length);
    } else {
      await expectText(byId('sys-usb-none'), '未检测到 USB 存储');
    }
    await expectText(byId('sys-version'), sys.version);
  });

  await step('刷新 reads GET /api/v1/system again', async () => {
    const before = apiCalls('/api/v1/system');
    const answer = page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/v1/system' && r.request().method() === 'GET',
    );
    await expectText(byId('system-refresh'), '刷新');
    await byId('system-refresh').click();
    assert.equal((await answer).status(), 200);
    assert.equal(apiCalls('/api/v1/system'), before + 1);
    await byId('system-list').waitFor({ state: 'visible' });
    await expectAttr(byId('system-refresh'), 'disabled', null);
  });

  let since;
  await step('the page starts watching what it shows', async () => {
    await page.evaluate(() => {
      window.__noReload = true;
    });
    await page.evaluate(observeDashboard);
    since = await page.evaluate(() => window.__domRecord.since);
  });

  const dashboardGets = apiCalls('/api/v1/dashboard');

  await step('a caller starts waiting: shown within 1 s of the live message', async () => {
    let found = null;
    let rec;
    const deadline = Date.now() + WAIT_FOR_ACTIVITY_MS;
    while (!found && Date.now() < deadline) {
      await sleep(500);
      rec = await records();
      found = findCallerArrival(rec.events, since);
    }
    assert.ok(found, `no caller started waiting within ${WAIT_FOR_ACTIVITY_MS / 1000} s`);
    // Give the page its budget, then look for the DOM state that shows it.
    await sleep(LIVE_BUDGET_MS + 200);
    rec = await records();
    const q = found.queue;
    const shown = rec.dom.snaps.find(
      (s) => s.t >= found.event.t && s.waiting[q] > 0 && s.table[q] > 0 && s.callers.includes(q),
    );
    assert.ok(shown, `queue ${q}: the chart, the table and the caller list never showed the waiting caller`);
    const delay = shown.t - found.event.t;
    t.diagnostic(`caller waiting in ${q}: live message → page ${delay.toFixed(1)} ms`);
    assert.ok(delay <= LIVE_BUDGET_MS, `shown ${delay.toFixed(0)} ms after the live message`);
    await byId('dash-waiting').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await screenshot(page, 'dashboard-live.png');
  });

  await step('an agent goes from 空闲 to 设备忙: shown within 1 s of the live message', async () => {
    let found = null;
    let rec;
    const deadline = Date.now() + WAIT_FOR_ACTIVITY_MS;
    while (!found && Date.now() < deadline) {
      await sleep(500);
      rec = await records();
      found = findIdleToBusy(rec.events, since);
    }
    assert.ok(found, `no agent went from idle to busy within ${WAIT_FOR_ACTIVITY_MS / 1000} s`);
    await sleep(LIVE_BUDGET_MS + 200);
    rec = await records();
    const wasIdle = rec.dom.snaps.some((s) => s.t < found.event.t && s.agents[found.key] && s.agents[found.key][0] === 'idle');
    assert.ok(wasIdle, `${found.key} was shown idle before`);
    assert.ok(
      rec.dom.snaps.some((s) => s.agents[found.key] && s.agents[found.key][1] === '空闲'),
      'idle is worded 空闲',
    );
    const shown = rec.dom.snaps.find((s) => s.t >= found.event.t && s.agents[found.key] && s.agents[found.key][0] === 'busy');
    assert.ok(shown, `${found.key} never shown busy`);
    assert.equal(shown.agents[found.key][1], '设备忙');
    const delay = shown.t - found.event.t;
    t.diagnostic(`agent ${found.name} (${found.key}) idle → busy: live message → page ${delay.toFixed(1)} ms`);
    assert.ok(delay <= LIVE_BUDGET_MS, `shown ${delay.toFixed(0)} ms after the live message`);
    const [ext, queue] = found.key.split('|');
    await page
      .locator(`[data-testid="agent-row"][data-extension="${ext}"][data-queue="${queue}"]`)
      .evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await screenshot(page, 'dashboard-agent-busy.png');
  });

  await step('all of it came over the stream, without a reload or another GET', async () => {
    assert.equal(await page.evaluate(() => window.__noReload === true), true, 'the page was not reloaded');
    assert.equal(apiCalls('/api/v1/dashboard'), dashboardGets, 'no further GET /api/v1/dashboard');
    const rec = await records();
    assert.ok(rec.events.some((e) => e.type === 'stats'), 'stats messages arrived');
    // The trend has real numbers by now: calls were answered or abandoned today.
    await expectText(byId('trend-total'), /^今日呼入 [1-9][\d,]*：/, { timeout: 60_000 });
  });

  await step('waiting times count up every second in the browser', async () => {
    try {
      await byId('caller-row').first().waitFor({ state: 'visible', timeout: WAIT_FOR_ACTIVITY_MS });
    } catch {
      assert.fail('no caller waiting to look at');
    }
    const toSeconds = (s) => s.split(':').reduce((acc, p) => acc * 60 + Number(p), 0);
    const sample = () =>
      page.evaluate(() =>
        Object.fromEntries(
          [...document.querySelectorAll('[data-testid="caller-row"]')].map((r) => [
            `${r.dataset.queue}|${r.dataset.number}`,
            r.querySelector('[data-testid="caller-wait"]').textContent,
          ]),
        ),
      );
    // The same caller (queue and number) seen twice, 2.5 s apart: its time grew by about
    // that much, whether or not live messages came in between (each carries wait_seconds).
    for (let attempt = 0; attempt < 30; attempt++) {
      const a = await sample();
      await sleep(2500);
      const b = await sample();
      const same = Object.keys(a).find((k) => k in b);
      if (!same) continue;
      const grew = toSeconds(b[same]) - toSeconds(a[same]);
      assert.ok(grew >= 1 && grew <= 4, `waiting time of ${same} went ${a[same]} → ${b[same]} in 2.5 s`);
      return;
    }
    assert.fail('no caller stayed waiting for 2.5 s');
  });

  await step('English: status words, headings and durations follow the language', async () => {
    await byId('lang-en').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await expectText(byId('page-title'), 'Monitoring');
    await expectText(byId('live-indicator'), 'Live');
    await expectText(byId('dash-trend').locator('.card-title'), 'Today’s call trend');
    await expectText(byId('trend-total'), /^Today \d[\d,]* inbound: \d[\d,]* answered, \d[\d,]* failed$/);
    const heads = (await byId('queue-table').locator('thead th').allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(heads, ['Queue', 'Waiting', 'Completed', 'Unanswered']);
    const statuses = await page
      .locator('[data-testid="agent-status"]')
      .evaluateAll((els) => els.map((e) => [e.dataset.status, e.textContent.trim()]));
    for (const [status, text] of statuses) assert.equal(text, STATUS_EN[status]);
    await expectText(byId('sys-system-uptime'), /^(\d+d )?(\d+h )?\d+m$/);
    await expectText(byId('sys-mem-total'), /^Total [\d.]+ [KMGT]?B$/);
    await page.evaluate(() => {
      document.getElementById('main').scrollTop = 0;
    });
    await screenshot(page, 'dashboard-en.png');
    await byId('lang-zh').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    await expectText(byId('page-title'), '监控显示');
  });

  await step('a narrow window stacks the parts', async () => {
    await page.setViewportSize({ width: 820, height: 1000 });
    await byId('trend-chart').waitFor({ state: 'visible' });
    // The charts redraw at the new width on their next resize callback; under load that
    // can be a moment after the viewport changes, so give the layout time to settle.
    await page
      .waitForFunction(
        () => {
          const main = document.getElementById('main');
          return main.scrollWidth - main.clientWidth <= 1;
        },
        null,
        { timeout: 5_000 },
      )
      .catch(() => {});
    const overflow = await page.evaluate(() => {
      const main = document.getElementById('main');
      return main.scrollWidth - main.clientWidth;
    });
    assert.ok(overflow <= 1, `no horizontal scrolling of the page (${overflow}px)`);
    const doc = await page.evaluate(() => {
      const d = document.scrollingElement;
      return { x: d.scrollWidth - d.clientWidth, y: d.scrollHeight - d.clientHeight };
    });
    assert.deepEqual(doc, { x: 0, y: 0 }, 'only the content area scrolls, never the document (top bar stays)');
    await screenshot(page, 'dashboard-narrow.png');
    await page.setViewportSize({ width: 1366, height: 800 });
  });

  await step('leaving the page closes the stream; coming back opens it again', async () => {
    await byId('nav-queues').click();
    await expectHash(page, '#/queues');
    const opened = log.api.filter((r) => r.path === '/api/v1/events').length;
    await byId('nav-dashboard').click();
    await expectAttr(byId('live-indicator'), 'data-state', 'open');
    assert.equal(log.api.filter((r) => r.path === '/api/v1/events').length, opened + 1);
    await byId('agent-table').waitFor({ state: 'visible' });
  });

  await step('losing the PBX (core restart now, confirmed): banner within 1 s, greyed, recovers by itself', async () => {
    const mark = (await records()).events.length;
    const status = await page.evaluate(async () => {
      const r = await fetch('/api/v1/console/command', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Accept-Language': 'zh-CN' },
        body: JSON.stringify({ command: 'core restart now', confirmed: true }),
      });
      return r.status;
    });
    if (status !== 200) {
      t.diagnostic(`core restart now answered ${status}: the PBX loss was not exercised`);
      return;
    }
    /** The first `live` message from index `from` on whose pbx.connected is `connected`, with its index. */
    const liveAfter = (rec, from, connected) => {
      const i = rec.events.findIndex(
        (e, k) => k >= from && e.type === 'live' && e.data && e.data.pbx && e.data.pbx.connected === connected,
      );
      return i < 0 ? null : { ...rec.events[i], index: i };
    };
    let rec;
    let down = null;
    for (const deadline = Date.now() + 20_000; !down && Date.now() < deadline; ) {
      await sleep(100);
      rec = await records();
      down = liveAfter(rec, mark, false);
    }
    if (!down) {
      t.diagnostic('the demo’s PBX did not go away after core restart now: the banner was not exercised');
      return;
    }
    if (await byId('pbx-banner').count()) {
      await page.evaluate(() => {
        document.getElementById('main').scrollTop = 0;
      });
      await screenshot(page, 'dashboard-pbx-down.png');
    }
    await sleep(LIVE_BUDGET_MS + 200);
    rec = await records();
    const shownDown = rec.dom.snaps.find((s) => s.t >= down.t && s.banner && s.stale);
    assert.ok(shownDown, 'the banner and the greyed live part were shown');
    assert.ok(shownDown.t - down.t <= LIVE_BUDGET_MS, `banner ${(shownDown.t - down.t).toFixed(0)} ms after the message`);
    t.diagnostic(`PBX lost: live message → banner ${(shownDown.t - down.t).toFixed(1)} ms`);
    let up = null;
    for (const deadline = Date.now() + 90_000; !up && Date.now() < deadline; ) {
      await sleep(250);
      rec = await records();
      up = liveAfter(rec, down.index + 1, true);
    }
    assert.ok(up, 'the PBX came back within 90 s');
    await sleep(LIVE_BUDGET_MS + 200);
    rec = await records();
    const shownUp = rec.dom.snaps.find((s) => s.t >= up.t && !s.banner && !s.stale);
    assert.ok(shownUp, 'the banner went away by itself');
    assert.ok(shownUp.t - up.t <= LIVE_BUDGET_MS, `recovered ${(shownUp.t - up.t).toFixed(0)} ms after the message`);
    t.diagnostic(`PBX back: live message → page ${(shownUp.t - up.t).toFixed(1)} ms`);
    await expectAttr(byId('live-indicator'), 'data-state', 'open');
  });

  await step('no script errors, no CSP violations, nothing but loopback reached', async () => {
    assert.deepEqual(log.pageErrors, [], 'page errors');
    assert.deepEqual(log.cspViolations, [], 'CSP violations');
    assert.deepEqual(log.consoleErrors, [], 'console errors');
    assert.deepEqual(log.blocked, [], 'requests to non-loopback addresses');
  });
});
