// 队列管理 (manual §5, fig. 5.1, 5.2): the queues Asterisk has, with
//   队列号   read-only
//   队列名   edited in place (编辑 → input → 保存 / 取消; Enter saves, Escape cancels)
//   队列策略 a choice among the strategies the server offers; a change is sent only after
//            the warning that the queue's completed/unanswered counts restart (Asterisk
//            reloads the queue) is confirmed. 待生效 marks a change saved but not yet
//            applied to Asterisk; while one is shown the list is read again every 2 s.
//   成员     one chip per member agent with × to remove it, and a choice of the agents not
//            yet in the queue to add one.
// Adding and deleting queues, ring times etc. are the PBX's (port 9999, 呼入控制 → 呼入队列).
// Every change answers with the queue as it now is, which replaces the row.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { pbxUrl } from '../nav.js';
import { ConfirmDialog } from '../components/dialog.js';
import { Icon } from '../components/icons.js';
import { Alert, Card, PageHeader, Spinner } from '../components/ui.js';

export const STRATEGIES = ['ringall', 'leastrecent', 'fewestcalls', 'random', 'rrmemory', 'rrordered', 'linear', 'wrandom'];
const PENDING_POLL_MS = 2000;
const byNumber = (a, b) => String(a).localeCompare(String(b), 'en', { numeric: true });

export function strategyLabel(s) {
  return STRATEGIES.includes(s) ? t(`strategy.${s}`) : s;
}

function NameCell({ queue, active, error, busy, onEdit, onSave, onCancel }) {
  const [value, setValue] = useState(queue.name);
  const inputRef = useRef(null);
  useEffect(() => {
    if (active) {
      setValue(queue.name);
      requestAnimationFrame(() => {
        if (inputRef.current) {
          inputRef.current.focus();
          inputRef.current.select();
        }
      });
    }
  }, [active]);

  if (!active) {
    return html`<td data-testid="queue-name-cell">
      <div class="name-view">
        <span class="queue-name-text" data-testid="queue-name">${queue.name}</span>
        <button
          type="button"
          class="icon-btn"
          onClick=${onEdit}
          disabled=${busy}
          aria-label=${t('queues.editNameOf', { queue: queue.queue })}
          title=${t('queues.editName')}
          data-testid="queue-name-edit"
        ><${Icon} name="edit" size=${15} /></button>
      </div>
    </td>`;
  }
  const id = `queue-name-input-${queue.queue}`;
  return html`<td data-testid="queue-name-cell">
    <form
      class="name-edit"
      onSubmit=${(e) => {
        e.preventDefault();
        onSave(value);
      }}
    >
      <label class="sr-only" for=${id}>${t('queues.col.name')}</label>
      <input
        id=${id}
        ref=${inputRef}
        class="input input-sm"
        type="text"
        maxLength=${64}
        value=${value}
        disabled=${busy}
        aria-invalid=${error ? 'true' : undefined}
        aria-describedby=${error ? `${id}-error` : undefined}
        data-testid="queue-name-input"
        onInput=${(e) => setValue(e.currentTarget.value)}
        onKeyDown=${(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onCancel();
          }
        }}
      />
      <button type="submit" class="btn btn-primary btn-sm" disabled=${busy} data-testid="queue-name-save">${t('common.save')}</button>
      <button type="button" class="btn btn-default btn-sm" disabled=${busy} onClick=${onCancel} data-testid="queue-name-cancel">
        ${t('common.cancel')}
      </button>
    </form>
    ${error && html`<p class="field-error" id=${`${id}-error`} role="alert" data-testid="queue-name-error">${error}</p>`}
  </td>`;
}

function MembersCell({ queue, agents, busy, onRemove, onAdd }) {
  const members = [...queue.members].sort((a, b) => byNumber(a.job_number, b.job_number));
  const inQueue = new Set(members.map((m) => m.agent_id));
  const candidates = (agents || []).filter((a) => !inQueue.has(a.id)).sort((a, b) => byNumber(a.job_number, b.job_number));
  const addId = `queue-add-${queue.queue}`;
  return html`<td class="members-cell" data-testid="queue-members">
    <ul class="chips" aria-label=${t('queues.membersOf', { queue: queue.queue })}>
      ${members.length === 0 && html`<li class="muted chips-empty">${t('queues.noMembers')}</li>`}
      ${members.map(
        (m) => html`<li key=${m.agent_id} class="chip" data-testid="queue-member" data-agent-id=${String(m.agent_id)} data-job-number=${m.job_number}>
          <span class="chip-name">${m.name}</span>
          <span class="chip-sub">${m.job_number}</span>
          <button
            type="button"
            class="chip-x"
            disabled=${busy}
            onClick=${() => onRemove(m)}
            aria-label=${t('queues.removeMember', { name: m.name, queue: queue.queue })}
            title=${t('queues.removeMember', { name: m.name, queue: queue.queue })}
            data-testid="queue-member-remove"
          ><${Icon} name="close" size=${12} /></button>
        </li>`,
      )}
    </ul>
    <div class="add-member">
      <label class="sr-only" for=${addId}>${t('queues.addMemberTo', { queue: queue.queue })}</label>
      <select
        id=${addId}
        class="input select select-sm"
        value=""
        disabled=${busy || candidates.length === 0}
        data-testid="queue-add-member"
        onChange=${(e) => {
          const v = e.currentTarget.value;
          e.currentTarget.value = '';
          if (v) onAdd(Number(v));
        }}
      >
        <option value="">${candidates.length ? t('queues.addMember') : t('queues.allMembers')}</option>
        ${candidates.map(
          (a) => html`<option key=${a.id} value=${String(a.id)}>${t('queues.agentOption', { name: a.name, job: a.job_number })}</option>`,
        )}
      </select>
    </div>
  </td>`;
}

export function QueuesPage() {
  const [data, setData] = useState(null); // { strategies, queues }
  const [agents, setAgents] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(null); // the queue being changed
  const [nameEdit, setNameEdit] = useState(null); // { queue, error }
  const [change, setChange] = useState(null); // { queue, name, from, to }
  const [changeBusy, setChangeBusy] = useState(false);
  const [changeError, setChangeError] = useState('');

  async function load({ quiet = false } = {}) {
    if (!quiet) {
      setLoading(true);
      setError('');
    }
    const [q, a] = await Promise.allSettled([api.queues(), quiet ? Promise.resolve(null) : api.agents()]);
    if (q.status === 'fulfilled' && q.value) {
      setData({
        strategies: Array.isArray(q.value.strategies) ? q.value.strategies : STRATEGIES,
        queues: Array.isArray(q.value.queues) ? q.value.queues : [],
      });
    } else if (q.status === 'rejected' && !isAuthRedirect(q.reason) && !quiet) {
      setError(q.reason.message);
    }
    if (a.status === 'fulfilled' && a.value) setAgents(Array.isArray(a.value) ? a.value : []);
    if (!quiet) setLoading(false);
  }
  useEffect(() => {
    load();
  }, []);

  // A strategy change waiting for Asterisk: look again until it is applied.
  const anyPending = Boolean(data && data.queues.some((q) => q.pending));
  useEffect(() => {
    if (!anyPending) return undefined;
    const id = setInterval(() => load({ quiet: true }), PENDING_POLL_MS);
    return () => clearInterval(id);
  }, [anyPending]);

  function replaceQueue(updated) {
    if (!updated || !updated.queue) return;
    setData((d) => d && { ...d, queues: d.queues.map((q) => (q.queue === updated.queue ? updated : q)) });
  }

  /** Runs one change of queue `queue`; returns true when it succeeded. */
  async function run(queue, fn, okNotice) {
    setBusy(queue);
    setError('');
    setNotice('');
    try {
      replaceQueue(await fn());
      if (okNotice) setNotice(okNotice);
      setBusy(null);
      return true;
    } catch (err) {
      setBusy(null);
      if (!isAuthRedirect(err)) {
        setError(err.message);
        // The row may be out of date (e.g. the agent was already added elsewhere).
        if (err.status === 409 || err.status === 404) load({ quiet: true });
      }
      return false;
    }
  }

  async function saveName(q, value) {
    setBusy(q.queue);
    try {
      replaceQueue(await api.updateQueue(q.queue, { name: value.trim() }));
      setNameEdit(null);
      setNotice(t('queues.renamed', { queue: q.queue }));
    } catch (err) {
      if (!isAuthRedirect(err)) setNameEdit({ queue: q.queue, error: err.message });
    }
    setBusy(null);
  }

  function askStrategy(q, to) {
    if (to === q.strategy) return;
    setNotice('');
    setChangeError('');
    setChange({ queue: q.queue, name: q.name, from: q.strategy, to });
  }

  async function confirmStrategy() {
    const c = change;
    if (!c) return;
    setChangeBusy(true);
    setChangeError('');
    try {
      replaceQueue(await api.updateQueue(c.queue, { strategy: c.to }));
      setChange(null);
      setNotice(t('queues.strategyChanged', { queue: c.queue, strategy: strategyLabel(c.to) }));
    } catch (err) {
      if (!isAuthRedirect(err)) setChangeError(err.message);
    }
    setChangeBusy(false);
  }

  const agentName = (id) => {
    const a = (agents || []).find((x) => x.id === id);
    return a ? a.name : String(id);
  };

  const rows = data ? [...data.queues].sort((a, b) => byNumber(a.queue, b.queue)) : [];
  const strategies = data ? data.strategies : STRATEGIES;

  const actions = html`<button type="button" class="btn btn-default" onClick=${() => load()} disabled=${loading} data-testid="queues-refresh">
    <${Icon} name="refresh" size=${15} /><span>${t('common.refresh')}</span>
  </button>`;

  return html`<div class="page" data-testid="queues-page">
    <${PageHeader} title=${t('nav.queues')} description=${t('queues.desc')} actions=${actions} />
    <${Alert} kind="error" testid="queues-error">${error}<//>
    <${Alert} kind="success" testid="queues-notice">${notice}<//>
    <${Card} class="card-flush" testid="queues-card">
      ${!data
        ? html`<div class="card-pad">${loading ? html`<${Spinner} />` : null}</div>`
        : rows.length === 0
          ? html`<p class="muted-note card-pad">${t('dash.queues.none')}</p>`
          : html`<div class="table-wrap">
              <table class="table table-queues" data-testid="queues-table">
                <thead>
                  <tr>
                    <th scope="col">${t('queues.col.queue')}</th>
                    <th scope="col">${t('queues.col.name')}</th>
                    <th scope="col">${t('queues.col.strategy')}</th>
                    <th scope="col">${t('queues.col.members')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map((q) => {
                    const rowBusy = busy === q.queue;
                    const sid = `queue-strategy-${q.queue}`;
                    const shownStrategy = change && change.queue === q.queue ? change.to : q.strategy;
                    return html`<tr key=${q.queue} data-testid="queues-row" data-queue=${q.queue} data-strategy=${q.strategy} data-pending=${q.pending ? 'true' : 'false'}>
                      <th scope="row" class="mono queue-no" data-testid="queue-number">${q.queue}</th>
                      <${NameCell}
                        queue=${q}
                        active=${Boolean(nameEdit && nameEdit.queue === q.queue)}
                        error=${nameEdit && nameEdit.queue === q.queue ? nameEdit.error : ''}
                        busy=${rowBusy}
                        onEdit=${() => {
                          setNotice('');
                          setNameEdit({ queue: q.queue, error: '' });
                        }}
                        onSave=${(v) => saveName(q, v)}
                        onCancel=${() => setNameEdit(null)}
                      />
                      <td>
                        <div class="strategy-cell">
                          <label class="sr-only" for=${sid}>${t('queues.strategyOf', { queue: q.queue })}</label>
                          <select
                            id=${sid}
                            class="input select select-sm"
                            value=${shownStrategy}
                            disabled=${rowBusy}
                            data-testid="queue-strategy"
                            onChange=${(e) => askStrategy(q, e.currentTarget.value)}
                          >
                            ${!strategies.includes(q.strategy) && html`<option value=${q.strategy}>${strategyLabel(q.strategy)}</option>`}
                            ${strategies.map((s) => html`<option key=${s} value=${s}>${strategyLabel(s)}</option>`)}
                          </select>
                          ${q.pending &&
                          html`<span class="tag tag-pending" title=${t('queues.pendingHint')} data-testid="queue-pending">${t('queues.pending')}</span>`}
                        </div>
                      </td>
                      <${MembersCell}
                        queue=${q}
                        agents=${agents}
                        busy=${rowBusy}
                        onRemove=${(m) =>
                          run(q.queue, () => api.removeQueueMember(q.queue, m.agent_id), t('queues.memberRemoved', { name: m.name, queue: q.queue }))}
                        onAdd=${(id) =>
                          run(q.queue, () => api.addQueueMember(q.queue, id), t('queues.memberAdded', { name: agentName(id), queue: q.queue }))}
                      />
                    </tr>`;
                  })}
                </tbody>
              </table>
            </div>`}
    <//>
    <p class="page-note" data-testid="queues-pbx-note">
      ${t('queues.pbxNote')}
      <a href=${pbxUrl()} target="_blank" rel="noopener noreferrer" data-testid="queues-pbx-link">
        ${t('nav.pbx')} <${Icon} name="external" size=${12} class="inline-icon" />
      </a>
    </p>

    <${ConfirmDialog}
      open=${Boolean(change)}
      testid="strategy-confirm"
      tone="warn"
      title=${t('queues.strategy.title')}
      message=${t('queues.strategy.warning')}
      confirmLabel=${t('queues.strategy.ok')}
      busy=${changeBusy}
      error=${changeError}
      onConfirm=${confirmStrategy}
      onCancel=${() => setChange(null)}
    >
      ${change &&
      html`<p class="dialog-change" data-testid="strategy-confirm-change">
        ${t('queues.strategy.change', {
          queue: change.name && change.name !== change.queue ? `${change.queue} ${change.name}` : change.queue,
          from: strategyLabel(change.from),
          to: strategyLabel(change.to),
        })}
      </p>`}
    <//>
  </div>`;
}
