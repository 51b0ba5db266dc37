// The agent's own page (#/agent), for accounts whose role is `agent` or `leader`: agents
// log in on the same login page with their job number or extension and the extension's
// password. No admin navigation: the server answers 403 to agents for the admin API.
//
// Shows who is signed in (坐席名, 工号, 分机, 队列), the device state in the dashboard's six
// words and whether the agent is paused (置忙) and why. 置忙 takes a reason from the
// server's `pause_reasons`, or none (不选择原因, logged as 未知); 置闲 resumes. Both go to
// every queue the agent is in; each is written to the operation log by the server.
// GET /api/v1/me is read every 2 s and after each action (the answer is the new state).
// 弹屏 (manual §9.2): when the answer carries a `screen_pop` (a queue call connected to
// this agent, the URL expanded by the server), it is opened in a new window once per call
// (remembered for the tab's session), with a link to open it again or when the browser
// blocked the pop-up.
// 503 pbx_unavailable and other refusals show the server's message.
//
// Below, the recordings (manual §6): a team leader gets the 录音列表 table of the queues they
// lead (search, play, download, 批注); an agent sees their own recordings with the leaders'
// notes (批注) and can play them. The server scopes the rows; the page is wider for them.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { formatTimeOfDay } from '../format.js';
import { Icon } from '../components/icons.js';
import { Alert, Card, PageHeader, Spinner, StatusBadge } from '../components/ui.js';
import { RecordingsView } from './recordings.js';

export const ME_POLL_MS = 2000;
const byNumber = (a, b) => String(a).localeCompare(String(b), 'en', { numeric: true });

export function AgentHomePage({ onIdentity }) {
  const [me, setMe] = useState(null);
  const [at, setAt] = useState(0);
  const [loadError, setLoadError] = useState('');
  const [actionError, setActionError] = useState('');
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState('');
  const inFlight = useRef(false);
  const actionSeq = useRef(0);
  const [popBlocked, setPopBlocked] = useState(false);

  function openScreenPop(pop) {
    if (!pop || typeof pop.url !== 'string' || !/^https?:\/\//i.test(pop.url)) return;
    const key = `coocenter.pop.${pop.uniqueid}`;
    try {
      if (sessionStorage.getItem(key)) return;
      sessionStorage.setItem(key, '1');
    } catch {
      // storage unavailable: the pop may open again after a reload, which is harmless
    }
    const w = window.open(pop.url, '_blank');
    if (w) w.opener = null;
    setPopBlocked(!w);
  }

  function accept(m) {
    if (!m || typeof m !== 'object') return;
    openScreenPop(m.screen_pop);
    setMe(m);
    setAt(Date.now());
    if (onIdentity && m.agent) onIdentity(m.agent);
  }

  async function load() {
    if (inFlight.current) return;
    inFlight.current = true;
    const seqAtStart = actionSeq.current;
    try {
      const m = await api.me();
      // An action answered meanwhile carries a newer state than this read.
      if (seqAtStart === actionSeq.current) accept(m);
      setLoadError('');
    } catch (err) {
      if (!isAuthRedirect(err)) setLoadError(err.message);
    }
    inFlight.current = false;
  }

  useEffect(() => {
    load();
    const id = setInterval(load, ME_POLL_MS);
    return () => clearInterval(id);
  }, []);

  async function act(fn) {
    if (busy) return;
    setBusy(true);
    setActionError('');
    actionSeq.current += 1;
    try {
      accept(await fn());
    } catch (err) {
      if (!isAuthRedirect(err)) setActionError(err.message);
    }
    setBusy(false);
  }

  if (!me) {
    return html`<div class="page page-narrow" data-testid="agent-home">
      <${PageHeader} title=${t('me.title')} />
      ${loadError
        ? html`<div class="alert-row">
            <${Alert} kind="error" testid="me-error">${loadError}<//>
            <button type="button" class="btn btn-default btn-sm" onClick=${load}>${t('common.retry')}</button>
          </div>`
        : html`<${Spinner} />`}
    </div>`;
  }

  const agent = me.agent || {};
  const queues = Array.isArray(me.queues) ? [...me.queues].sort(byNumber) : [];
  const reasons = Array.isArray(me.pause_reasons) ? me.pause_reasons : [];
  const paused = me.paused === true;
  const noQueue = queues.length === 0;

  return html`<div class="page page-agent" data-testid="agent-home">
    <${PageHeader} title=${t('me.title')} description=${t('me.desc')} />
    ${me.pbx_connected === false &&
    html`<div class="banner banner-danger" role="alert" data-testid="me-pbx-down">
      <${Icon} name="alert" size=${18} />
      <div><strong>${t('dash.pbxDown')}</strong></div>
    </div>`}
    <${Alert} kind="error" testid="me-error">${loadError}<//>
    <div class="stack me-top">
      <${Card} title=${t('me.who')} testid="me-card">
        <dl class="me-facts">
          <div><dt>${t('agents.col.name')}</dt><dd data-testid="me-name">${agent.name}${agent.leader && html` <span class="tag tag-on" data-testid="me-leader">${t('me.leader')}</span>`}</dd></div>
          <div><dt>${t('agents.col.jobNumber')}</dt><dd class="mono" data-testid="me-job-number">${agent.job_number}</dd></div>
          <div><dt>${t('agents.col.extension')}</dt><dd class="mono" data-testid="me-extension">${agent.extension}</dd></div>
          <div>
            <dt>${t('agents.col.queues')}</dt>
            <dd data-testid="me-queues">
              ${noQueue
                ? html`<span class="muted">${t('agents.noQueue')}</span>`
                : html`<span class="queue-list">${queues.map((q) => html`<span key=${q} class="tag" data-queue=${q}>${q}</span>`)}</span>`}
            </dd>
          </div>
        </dl>
      <//>

      <${Card} title=${t('me.state')} testid="me-state-card">
        <div class="me-state" data-testid="me-state" data-paused=${paused ? 'true' : 'false'}>
          <div class="me-state-item">
            <span class="me-state-label">${t('dash.col.status')}</span>
            <${StatusBadge} status=${me.status} testid="me-status" />
          </div>
          <div class="me-state-item">
            <span class="me-state-label">${t('dash.col.paused')}</span>
            <span class=${paused ? 'paused-yes' : ''} data-testid="me-paused" data-paused=${paused ? 'true' : 'false'}>
              ${paused
                ? t('dash.paused.reason', { reason: me.pause_reason || t('me.noReasonLogged') })
                : t('dash.paused.no')}
            </span>
          </div>
        </div>

        ${noQueue && html`<${Alert} kind="info" testid="me-no-queue">${t('me.noQueue')}<//>`}
        <${Alert} kind="error" testid="me-action-error">${actionError}<//>

        <div class="me-actions">
          <div class="me-pause-group">
            <label class="field-label" for="me-reason">${t('me.reason')}</label>
            <div class="input-row">
              <select
                id="me-reason"
                data-testid="me-reason"
                class="input select"
                value=${reason}
                disabled=${busy}
                onChange=${(e) => setReason(e.currentTarget.value)}
              >
                <option value="">${t('me.noReason')}</option>
                ${reasons.map((r) => html`<option key=${r} value=${r}>${r}</option>`)}
              </select>
              <button
                type="button"
                class="btn btn-warn"
                id="me-pause"
                data-testid="me-pause"
                disabled=${busy || paused || noQueue}
                onClick=${() => act(() => api.pause(reason))}
              >
                <${Icon} name="pause" size=${15} /><span>${t('me.pause')}</span>
              </button>
            </div>
          </div>
          <button
            type="button"
            class="btn btn-primary"
            id="me-unpause"
            data-testid="me-unpause"
            disabled=${busy || !paused || noQueue}
            onClick=${() => act(() => api.unpause())}
          >
            <${Icon} name="play" size=${15} /><span>${t('me.unpause')}</span>
          </button>
        </div>
        ${me.screen_pop &&
        html`<div class="me-screen-pop" data-testid="me-screen-pop">
          <span class="me-state-label">${t('me.screenPop')}</span>
          <a
            class="screen-pop-link"
            href=${me.screen_pop.url}
            target="_blank"
            rel="noopener noreferrer"
            data-testid="me-screen-pop-link"
          >${t('me.screenPop.open')}</a>
          ${popBlocked && html`<${Alert} kind="info" testid="me-screen-pop-blocked">${t('me.screenPop.blocked')}<//>`}
        </div>`}
        <p class="card-note muted" data-testid="me-updated">${t('me.updated', { time: formatTimeOfDay(new Date(at)) })}</p>
      <//>
    </div>
    <section class="me-recordings" data-testid="me-recordings" aria-labelledby="me-recordings-title">
      <h2 class="section-title" id="me-recordings-title">${agent.leader ? t('me.recordingsLeader') : t('me.recordings')}</h2>
      <p class="section-desc muted">${agent.leader ? t('me.recordingsLeaderDesc') : t('me.recordingsDesc')}</p>
      <${RecordingsView} mode=${agent.leader ? 'leader' : 'agent'} />
    </section>
  </div>`;
}
