// 监控显示 (manual §3, fig. 3.1), in the manual's four parts:
//   1. counts: 坐席, 录音, 队列, 操作日志 — each tile opens its page
//   2. 今日通话趋势: answered and failed inbound calls per hour today (bar chart)
//   3. live: 监控图 (callers waiting per queue), 队列 table, 坐席 table, waiting callers
//   4. PBX 系统说明: uptimes, memory, disk and USB storage, versions, 刷新
//
// Data: GET /api/v1/dashboard paints the page once; the live stream (live.js) then keeps
// parts 1–3 current without reloading: `live` replaces part 3, `stats` parts 1–2. Whatever
// the stream has already delivered is not overwritten by a slower first GET. Part 4 is
// GET /api/v1/system, read again by 刷新.
//
// When the PBX is unreachable (`pbx.connected` false) a banner says so and part 3 keeps the
// last state seen while connected, greyed (class `live-stale`), with the waiting times
// frozen; it comes back by itself with the next connected `live`.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { useLiveStream, useNow } from '../live.js';
import { formatBytes, formatClock, formatCount, formatDuration, formatTimeOfDay } from '../format.js';
import { TrendChart, WaitingChart, waitingSentence } from '../components/charts.js';
import { Icon } from '../components/icons.js';
import { Alert, Card, PageHeader, Spinner, StatusBadge } from '../components/ui.js';

const arr = (v) => (Array.isArray(v) ? v : []);
const byNumber = (a, b) => String(a).localeCompare(String(b), 'en', { numeric: true });
/** A queue's name when it says more than its number ('售后' for 222; nothing when the name is '222'). */
const extraName = (number, name) => (name && name !== number ? name : '');

/** The part-3 state from a `live` message (or the first GET), given the previous one. */
function nextLive(prev, d, at) {
  const pbx = d.pbx && typeof d.pbx === 'object' ? d.pbx : { connected: false, version: null };
  const connected = pbx.connected === true;
  if (!connected && prev && prev.everConnected) {
    // Keep the last known state, greyed; waiting times stop where they were.
    return { ...prev, pbx, staleSince: prev.staleSince || at };
  }
  return {
    queues: arr(d.queues),
    agents: arr(d.agents),
    callers: arr(d.callers),
    pbx,
    at,
    staleSince: connected ? null : at,
    everConnected: connected || Boolean(prev && prev.everConnected),
    pbxVersion: pbx.version || (prev && prev.pbxVersion) || null,
  };
}

// ---- part 1 --------------------------------------------------------------------------

const TILES = [
  { key: 'agents', href: '#/agents', icon: 'agents' },
  { key: 'recordings', href: '#/recordings', icon: 'recordings' },
  { key: 'queues', href: '#/queues', icon: 'queues' },
  { key: 'oplog', href: '#/oplog', icon: 'oplog' },
];

function CountTiles({ counts }) {
  return html`<section class="tiles" aria-label=${t('dash.counts.label')} data-testid="dash-counts">
    ${TILES.map(
      (tile) => html`<a key=${tile.key} class=${`tile tile-${tile.key}`} href=${tile.href} data-testid=${`count-${tile.key}`}>
        <span class="tile-icon"><${Icon} name=${tile.icon} size=${22} /></span>
        <span class="tile-body">
          <span class="tile-label">${t(`dash.count.${tile.key}`)}</span>
          <span class="tile-value" data-testid=${`count-${tile.key}-value`}>
            ${counts ? formatCount(counts[tile.key]) : '–'}
          </span>
          <span class="tile-hint">${t(`dash.count.${tile.key}.hint`)}</span>
        </span>
        <${Icon} name="chevronRight" size=${16} class="tile-go" />
      </a>`,
    )}
  </section>`;
}

// ---- part 2 --------------------------------------------------------------------------

function TrendCard({ trend }) {
  const rows = arr(trend);
  const answered = rows.reduce((s, r) => s + (Number(r.answered) || 0), 0);
  const failed = rows.reduce((s, r) => s + (Number(r.failed) || 0), 0);
  return html`<${Card} title=${t('dash.trend.title')} description=${t('dash.trend.desc')} testid="dash-trend">
    ${trend
      ? html`<div class="chart-legend">
            <span class="legend-item"><span class="legend-swatch swatch-answered"></span>${t('dash.trend.answered')}</span>
            <span class="legend-item"><span class="legend-swatch swatch-failed"></span>${t('dash.trend.failed')}</span>
            <span class="legend-total" data-testid="trend-total">
              ${t('dash.trend.total', {
                total: formatCount(answered + failed),
                answered: formatCount(answered),
                failed: formatCount(failed),
              })}
            </span>
          </div>
          <${TrendChart} trend=${rows} />`
      : html`<${Spinner} />`}
  <//>`;
}

// ---- part 3 --------------------------------------------------------------------------

function QueueTable({ queues }) {
  const rows = [...queues].sort((a, b) => byNumber(a.queue, b.queue));
  if (!rows.length) return html`<p class="muted-note">${t('dash.queues.none')}</p>`;
  return html`<div class="table-wrap">
    <table class="table" data-testid="queue-table">
      <thead>
        <tr>
          <th scope="col">${t('dash.col.queue')}</th>
          <th scope="col" class="num">${t('dash.col.waiting')}</th>
          <th scope="col" class="num">${t('dash.col.completed')}</th>
          <th scope="col" class="num">${t('dash.col.abandoned')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (q) => html`<tr key=${q.queue} data-testid="queue-row" data-queue=${q.queue}>
            <th scope="row"><span class="queue-no">${q.queue}</span> <span class="queue-name">${extraName(q.queue, q.name)}</span></th>
            <td class=${q.waiting > 0 ? 'num is-waiting' : 'num'} data-testid="queue-waiting">${formatCount(q.waiting)}</td>
            <td class="num" data-testid="queue-completed">${formatCount(q.completed)}</td>
            <td class="num" data-testid="queue-abandoned">${formatCount(q.abandoned)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function AgentTable({ agents, queueNames }) {
  const rows = [...agents].sort((a, b) => byNumber(a.queue, b.queue) || byNumber(a.extension, b.extension));
  if (!rows.length) return html`<p class="muted-note">${t('dash.agents.none')}</p>`;
  return html`<div class="table-wrap">
    <table class="table" data-testid="agent-table">
      <thead>
        <tr>
          <th scope="col">${t('dash.col.agent')}</th>
          <th scope="col">${t('dash.col.extension')}</th>
          <th scope="col">${t('dash.col.queue')}</th>
          <th scope="col">${t('dash.col.status')}</th>
          <th scope="col">${t('dash.col.paused')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (a) => html`<tr
            key=${`${a.extension}|${a.queue}`}
            data-testid="agent-row"
            data-extension=${a.extension}
            data-queue=${a.queue}
            data-job-number=${a.job_number || undefined}
          >
            <td>
              <span class="agent-name" data-testid="agent-name">${a.name}</span>
              ${a.job_number && html`<span class="agent-job" data-testid="agent-job">${t('dash.jobNumber', { n: a.job_number })}</span>`}
            </td>
            <td class="mono">${a.extension}</td>
            <td><span class="queue-no">${a.queue}</span> <span class="queue-name">${extraName(a.queue, queueNames.get(a.queue))}</span></td>
            <td><${StatusBadge} status=${a.status} /></td>
            <td data-testid="agent-paused" data-paused=${a.paused ? 'true' : 'false'}>
              ${a.paused
                ? html`<span class="paused-yes">${a.pause_reason ? t('dash.paused.reason', { reason: a.pause_reason }) : t('dash.paused.yes')}</span>`
                : t('dash.paused.no')}
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** Waiting callers; the waiting time counts up every second from wait_seconds. */
function CallerTable({ callers, at, staleSince }) {
  const rows = [...callers].sort((a, b) => byNumber(a.queue, b.queue) || a.position - b.position);
  const now = useNow(1000, rows.length > 0 && !staleSince);
  if (!rows.length) return html`<p class="muted-note" data-testid="callers-none">${t('dash.waiting.none')}</p>`;
  const upTo = staleSince || Math.max(now, at);
  const elapsed = Math.max(0, Math.floor((upTo - at) / 1000));
  return html`<div class="table-wrap">
    <table class="table table-compact" data-testid="caller-table">
      <thead>
        <tr>
          <th scope="col">${t('dash.col.queue')}</th>
          <th scope="col" class="num">${t('dash.col.position')}</th>
          <th scope="col">${t('dash.col.number')}</th>
          <th scope="col">${t('dash.col.name')}</th>
          <th scope="col" class="num">${t('dash.col.waitTime')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (c) => html`<tr key=${`${c.queue}|${c.position}|${c.number}`} data-testid="caller-row" data-queue=${c.queue} data-number=${c.number}>
            <td class="mono">${c.queue}</td>
            <td class="num">${c.position}</td>
            <td class="mono">${c.number}</td>
            <td>${c.name || html`<span class="muted">–</span>`}</td>
            <td class="num mono" data-testid="caller-wait">${formatClock((Number(c.wait_seconds) || 0) + elapsed)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function LivePart({ live }) {
  if (!live) {
    return html`<${Card} title=${t('dash.live.title')} testid="dash-live"><${Spinner} /><//>`;
  }
  const queueNames = new Map(live.queues.map((q) => [q.queue, q.name]));
  const waitingQueues = [...live.queues].sort((a, b) => byNumber(a.queue, b.queue));
  const waitingNow = waitingQueues.filter((q) => q.waiting > 0);
  return html`<div class=${live.staleSince ? 'live-part live-stale' : 'live-part'} data-testid="dash-live" aria-busy=${live.staleSince ? 'true' : 'false'}>
    <div class="grid-2">
      <${Card} title=${t('dash.waiting.title')} description=${t('dash.waiting.desc')} testid="dash-waiting">
        ${waitingQueues.length
          ? html`<${WaitingChart} queues=${waitingQueues} />`
          : html`<p class="muted-note">${t('dash.queues.none')}</p>`}
        <ul class="waiting-lines" data-testid="waiting-lines">
          ${waitingNow.length
            ? waitingNow.map((q) => html`<li key=${q.queue} data-queue=${q.queue}>${waitingSentence(q.queue, q.waiting)}</li>`)
            : html`<li class="muted">${t('dash.waiting.none')}</li>`}
        </ul>
      <//>
      <${Card} title=${t('dash.queues.title')} description=${t('dash.queues.desc')} testid="dash-queues">
        <${QueueTable} queues=${live.queues} />
      <//>
    </div>
    <div class="grid-2 grid-wide-left">
      <${Card} title=${t('dash.agents.title')} description=${t('dash.agents.desc')} testid="dash-agents">
        <${AgentTable} agents=${live.agents} queueNames=${queueNames} />
      <//>
      <${Card} title=${t('dash.callers.title')} testid="dash-callers">
        <${CallerTable} callers=${live.callers} at=${live.at} staleSince=${live.staleSince} />
      <//>
    </div>
  </div>`;
}

// ---- part 4 --------------------------------------------------------------------------

function Usage({ total, free, label }) {
  if (!(total > 0)) return null;
  const used = Math.min(Math.max(total - free, 0), total);
  return html`<meter
    class="usage"
    min="0"
    max=${total}
    low=${total * 0.75}
    high=${total * 0.9}
    optimum="0"
    value=${used}
    aria-label=${label}
    title=${t('dash.sys.usedPct', { p: Math.round((used / total) * 100) })}
  ></meter>`;
}

function SizePair({ total, free, testid }) {
  return html`<span class="size-pair">
    <span data-testid=${`${testid}-total`}>${t('dash.sys.total', { v: formatBytes(total) })}</span>
    <span class="sep" aria-hidden="true">·</span>
    <span data-testid=${`${testid}-free`}>${t('dash.sys.free', { v: formatBytes(free) })}</span>
  </span>`;
}

function SystemCard({ pbxVersion, pbxConnected }) {
  const [sys, setSys] = useState(null);
  const [at, setAt] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const now = useNow(30000, Boolean(sys));

  async function load() {
    setLoading(true);
    setError('');
    try {
      const s = await api.system();
      setSys(s);
      setAt(Date.now());
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setLoading(false);
  }
  useEffect(() => {
    load();
  }, []);

  const elapsed = sys ? Math.max(0, Math.floor((now - at) / 1000)) : 0;
  const refresh = html`<button
    type="button"
    class="btn btn-default btn-sm"
    onClick=${load}
    disabled=${loading}
    data-testid="system-refresh"
    id="system-refresh"
  >
    <${Icon} name="refresh" size=${14} />
    <span>${t('common.refresh')}</span>
  </button>`;
  const mem = (sys && sys.memory) || {};
  const disk = (sys && sys.disk) || {};
  const usb = sys ? arr(sys.usb) : [];

  return html`<${Card} title=${t('dash.sys.title')} actions=${refresh} testid="dash-system" class="card-flush">
    ${error && html`<div class="card-pad"><${Alert} kind="error" testid="system-error">${error}<//></div>`}
    ${!sys && loading && html`<div class="card-pad"><${Spinner} /></div>`}
    ${sys &&
    html`<dl class="kv" data-testid="system-list" aria-busy=${loading ? 'true' : 'false'}>
      <div class="kv-row">
        <dt>${t('dash.sys.status')}</dt>
        <dd class="kv-lines">
          <div><span class="kv-sub">${t('dash.sys.systemUptime')}</span><span data-testid="sys-system-uptime">${formatDuration(sys.system_uptime_seconds + elapsed)}</span></div>
          <div><span class="kv-sub">${t('dash.sys.consoleUptime')}</span><span data-testid="sys-console-uptime">${formatDuration(sys.console_uptime_seconds + elapsed)}</span></div>
        </dd>
      </div>
      <div class="kv-row">
        <dt>${t('dash.sys.memory')}</dt>
        <dd class="kv-lines">
          <div class="usage-line">
            <${SizePair} total=${mem.total_bytes} free=${mem.free_bytes} testid="sys-mem" />
            <${Usage} total=${mem.total_bytes} free=${mem.free_bytes} label=${t('dash.sys.memory')} />
          </div>
        </dd>
      </div>
      <div class="kv-row">
        <dt>${t('dash.sys.disk')}</dt>
        <dd class="kv-lines">
          <div class="usage-line">
            <span class="kv-sub">${t('dash.sys.systemDisk')} <span class="mono">${disk.mount || '/'}</span></span>
            <${SizePair} total=${disk.total_bytes} free=${disk.free_bytes} testid="sys-disk" />
            <${Usage} total=${disk.total_bytes} free=${disk.free_bytes} label=${t('dash.sys.systemDisk')} />
          </div>
          ${usb.length
            ? usb.map(
                (u) => html`<div class="usage-line" key=${u.mount} data-testid="sys-usb" data-mount=${u.mount}>
                  <span class="kv-sub">
                    ${t('dash.sys.usb')} <span class="mono">${u.mount}</span>
                    <span class="muted"> (${[u.device, u.fs_type].filter(Boolean).join(', ')})</span>
                  </span>
                  <${SizePair} total=${u.total_bytes} free=${u.free_bytes} testid="sys-usb" />
                  <${Usage} total=${u.total_bytes} free=${u.free_bytes} label=${`${t('dash.sys.usb')} ${u.mount}`} />
                </div>`,
              )
            : html`<div class="muted" data-testid="sys-usb-none">${t('dash.sys.noUsb')}</div>`}
        </dd>
      </div>
      <div class="kv-row">
        <dt>${t('dash.sys.version')}</dt>
        <dd class="kv-lines">
          <div><span class="kv-sub">${t('dash.sys.ccVersion')}</span><span class="mono" data-testid="sys-version">${sys.version}</span></div>
          <div>
            <span class="kv-sub">${t('dash.sys.pbxVersion')}</span>
            <span class="mono" data-testid="sys-pbx-version">${pbxVersion || '–'}</span>
            ${!pbxConnected && html`<span class="tag tag-warn">${t('dash.sys.pbxDown')}</span>`}
          </div>
        </dd>
      </div>
    </dl>
    <p class="card-foot muted" data-testid="system-updated">${t('dash.sys.updated', { time: formatTimeOfDay(new Date(at)) })}</p>`}
  <//>`;
}

// ---- the page ------------------------------------------------------------------------

function StreamIndicator({ state }) {
  return html`<span class=${`live-pill live-${state}`} role="status" data-testid="live-indicator" data-state=${state}>
    <span class="live-dot" aria-hidden="true"></span>${t(`dash.stream.${state}`)}
  </span>`;
}

export function DashboardPage() {
  const [stats, setStats] = useState(null);
  const [live, setLive] = useState(null);
  const [error, setError] = useState('');
  const got = useRef({ live: false, stats: false });

  const stream = useLiveStream({
    live(d) {
      got.current.live = true;
      const at = Date.now();
      setLive((prev) => nextLive(prev, d, at));
    },
    stats(d) {
      got.current.stats = true;
      setStats({ counts: d.counts || null, trend: arr(d.trend) });
    },
  });

  async function load() {
    setError('');
    try {
      const d = await api.dashboard();
      if (!d) return;
      if (!got.current.stats) setStats({ counts: d.counts || null, trend: arr(d.trend) });
      if (!got.current.live) {
        const at = Date.now();
        setLive((prev) => nextLive(prev, d, at));
      }
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
  }
  useEffect(() => {
    load();
  }, []);

  const pbxDown = live && live.pbx && live.pbx.connected !== true;

  return html`<div class="page dashboard" data-testid="dashboard-page">
    <${PageHeader} title=${t('nav.dashboard')} actions=${html`<${StreamIndicator} state=${stream} />`} />
    ${error &&
    html`<div class="alert-row">
      <${Alert} kind="error" testid="dashboard-error">${error}<//>
      <button type="button" class="btn btn-default btn-sm" onClick=${load}>${t('common.retry')}</button>
    </div>`}
    ${pbxDown &&
    html`<div class="banner banner-danger" role="alert" data-testid="pbx-banner">
      <${Icon} name="alert" size=${18} />
      <div>
        <strong>${t('dash.pbxDown')}</strong>
        ${live.everConnected && html`<span class="banner-sub">${t('dash.pbxDownHint')}</span>`}
      </div>
    </div>`}
    <div class="dash-stack">
      <${CountTiles} counts=${stats && stats.counts} />
      <${TrendCard} trend=${stats && stats.trend} />
      <${LivePart} live=${live} />
      <${SystemCard} pbxVersion=${live && live.pbxVersion} pbxConnected=${!pbxDown} />
    </div>
  </div>`;
}
