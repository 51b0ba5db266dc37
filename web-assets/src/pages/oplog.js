// 操作日志 (manual §8, fig. 8.1) and, on a second tab, the audit trail of every change
// made in the console (DESIGN: "everything a user can do is in the operation log or the
// audit log").
//
// 操作日志: 坐席名, 工号, 分机 (管理员 for the administrator), 事件类型 (登录, 退出, 忙, 闲),
// 事件详情 (the pause reason, 未知 when none was chosen; the address of a login), 日期.
// 审计日志: 日期, 操作人, 操作, 对象, 修改前, 修改后, 来源地址.
//
// Both: newest first; the search box (over every column, as shown) is the server's `q`,
// sent once typing pauses; 每页 10/25/50/100 行; page numbers; 刷新 reads the page again.
// Dates are shown as the device wrote them (its clock), which is what the search matches.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { formatStamp } from '../format.js';
import { Icon } from '../components/icons.js';
import { Pager, PageSizeSelect, SearchBox, pageCount, useDebounced } from '../components/paging.js';
import { Alert, Card, PageHeader, Spinner } from '../components/ui.js';

// The server stores the administrator as 管理员 in the three identity columns and a pause
// without a reason as 未知 (manual §8); show them in the UI's language.
const ADMIN = '管理员';
const UNKNOWN_REASON = '未知';
const who = (value) => (value === ADMIN ? t('menu.admin') : value);
const detail = (value) => (value === UNKNOWN_REASON ? t('oplog.unknownReason') : value);

const EVENT_TYPES = ['login', 'logout', 'pause', 'unpause'];
const AUDIT_ACTIONS = [
  'agent.created',
  'agent.updated',
  'agent.deleted',
  'agent.password_revealed',
  'queue.renamed',
  'queue.strategy_changed',
  'queue.member_added',
  'queue.member_removed',
  'account.password_changed',
  'account.settings_changed',
  'console.command',
  'login.lockout',
];
const DEFAULT_PER_PAGE = 25;

function eventLabel(type) {
  return EVENT_TYPES.includes(type) ? t(`oplog.event.${type}`) : type;
}

function actionLabel(action) {
  return AUDIT_ACTIONS.includes(action) ? t(`audit.action.${action}`) : '';
}

/** A before/after value: JSON objects as "key: value" lines, anything else as it is. */
function AuditValue({ value }) {
  if (value === null || value === undefined || value === '') return html`<span class="muted">–</span>`;
  let parsed = null;
  if (/^\s*\{/.test(value)) {
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = null;
    }
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    return html`<dl class="audit-kv">
      ${Object.entries(parsed).map(
        ([k, v]) => html`<div key=${k}><dt>${k}</dt><dd>${v === null ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd></div>`,
      )}
    </dl>`;
  }
  return html`<span class="audit-text">${value}</span>`;
}

const VIEWS = {
  oplog: {
    fetch: (p) => api.oplog(p),
    columns: () => [
      t('oplog.col.agent'),
      t('oplog.col.jobNumber'),
      t('oplog.col.extension'),
      t('oplog.col.event'),
      t('oplog.col.detail'),
      t('oplog.col.date'),
    ],
    row: (r) => html`<tr key=${r.id} data-testid="oplog-row" data-event=${r.event_type} data-id=${String(r.id)}>
      <td data-testid="oplog-cell-agent">${who(r.agent_name)}</td>
      <td class="mono" data-testid="oplog-cell-job-number">${who(r.job_number)}</td>
      <td class="mono" data-testid="oplog-cell-extension">${who(r.extension)}</td>
      <td data-testid="oplog-cell-event">
        <span class=${`event-tag event-${EVENT_TYPES.includes(r.event_type) ? r.event_type : 'other'}`}>${eventLabel(r.event_type)}</span>
      </td>
      <td class="wrap" data-testid="oplog-cell-detail">${detail(r.detail)}</td>
      <td class="mono" data-testid="oplog-cell-date" title=${r.at}>${formatStamp(r.at)}</td>
    </tr>`,
  },
  audit: {
    fetch: (p) => api.audit(p),
    columns: () => [
      t('audit.col.date'),
      t('audit.col.actor'),
      t('audit.col.action'),
      t('audit.col.target'),
      t('audit.col.before'),
      t('audit.col.after'),
      t('audit.col.address'),
    ],
    row: (r, i) => html`<tr key=${`${r.at}|${i}`} data-testid="audit-row" data-action=${r.action}>
      <td class="mono" data-testid="audit-cell-date" title=${r.at}>${formatStamp(r.at)}</td>
      <td data-testid="audit-cell-actor">${r.actor}</td>
      <td data-testid="audit-cell-action">
        ${actionLabel(r.action) && html`<span class="audit-action">${actionLabel(r.action)}</span>`}
        <code class="audit-code">${r.action}</code>
      </td>
      <td class="mono" data-testid="audit-cell-target">${r.target}</td>
      <td class="wrap" data-testid="audit-cell-before"><${AuditValue} value=${r.before} /></td>
      <td class="wrap" data-testid="audit-cell-after"><${AuditValue} value=${r.after} /></td>
      <td class="mono" data-testid="audit-cell-address">${r.address || html`<span class="muted">–</span>`}</td>
    </tr>`,
  },
};

/** One searchable, paged log. `kind` is 'oplog' or 'audit' (prefix of every test id). */
function LogView({ kind }) {
  const view = VIEWS[kind];
  const [query, setQuery] = useState('');
  const q = useDebounced(query.trim());
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(DEFAULT_PER_PAGE);
  const [result, setResult] = useState(null); // what is shown: { total, rows, q, page, perPage }
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const seq = useRef(0);

  async function load(want = { q, page, perPage }) {
    const mine = ++seq.current;
    setLoading(true);
    setError('');
    try {
      const r = await view.fetch(want);
      if (mine !== seq.current) return; // a newer request is on its way
      const total = Number(r && r.total) || 0;
      // The list shrank under us (e.g. a narrower search): go to its last page.
      if (want.page > 1 && want.page > pageCount(total, want.perPage)) {
        setPage(pageCount(total, want.perPage));
        return;
      }
      setResult({ total, rows: Array.isArray(r && r.rows) ? r.rows : [], q: want.q, page: want.page, perPage: want.perPage });
    } catch (err) {
      if (mine !== seq.current) return;
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setLoading(false);
  }

  // A new search starts at page 1.
  const lastQ = useRef(q);
  useEffect(() => {
    if (lastQ.current !== q) {
      lastQ.current = q;
      if (page !== 1) {
        setPage(1);
        return;
      }
    }
    load({ q, page, perPage });
  }, [q, page, perPage]);

  const columns = view.columns();
  const rows = result ? result.rows : [];
  const searchId = `${kind}-search`;

  return html`<div class="log-view" data-testid=${`${kind}-view`}>
    <div class="log-toolbar">
      <${PageSizeSelect}
        id=${`${kind}-per-page`}
        value=${perPage}
        onChange=${(n) => {
          setPerPage(n);
          setPage(1);
        }}
      />
      <div class="log-toolbar-right">
        <${SearchBox} id=${searchId} value=${query} onInput=${setQuery} label=${t('oplog.search')} />
        <button
          type="button"
          class="btn btn-default"
          onClick=${() => load({ q, page, perPage })}
          disabled=${loading}
          data-testid=${`${kind}-refresh`}
        >
          <${Icon} name="refresh" size=${15} /><span>${t('common.refresh')}</span>
        </button>
      </div>
    </div>
    ${error &&
    html`<div class="card-pad"><${Alert} kind="error" testid=${`${kind}-error`}>${error}<//></div>`}
    ${!result && loading && html`<div class="card-pad"><${Spinner} /></div>`}
    ${result &&
    html`<div class="table-wrap" aria-busy=${loading ? 'true' : 'false'}>
      <table class=${`table log-table ${kind}-table`} data-testid=${`${kind}-table`} data-query=${result.q} data-loading=${loading ? 'true' : 'false'}>
        <thead>
          <tr>${columns.map((c) => html`<th scope="col" key=${c}>${c}</th>`)}</tr>
        </thead>
        <tbody>
          ${rows.length
            ? rows.map((r, i) => view.row(r, i))
            : html`<tr class="empty-row">
                <td colspan=${columns.length} data-testid=${`${kind}-empty`}>
                  ${result.q ? t('oplog.noMatch', { q: result.q }) : t('oplog.empty')}
                </td>
              </tr>`}
        </tbody>
      </table>
    </div>`}
    ${result &&
    html`<div class="card-foot log-foot">
      <${Pager}
        testid=${`${kind}-pager`}
        page=${result.page}
        perPage=${result.perPage}
        total=${result.total}
        onPage=${setPage}
        disabled=${loading}
      />
    </div>`}
  </div>`;
}

const TABS = ['oplog', 'audit'];

export function OplogPage() {
  const [tab, setTab] = useState('oplog');
  const tabRefs = useRef({});

  function onTabKey(e) {
    const i = TABS.indexOf(tab);
    let next = null;
    if (e.key === 'ArrowRight') next = TABS[(i + 1) % TABS.length];
    else if (e.key === 'ArrowLeft') next = TABS[(i + TABS.length - 1) % TABS.length];
    if (next) {
      e.preventDefault();
      setTab(next);
      const el = tabRefs.current[next];
      if (el) el.focus();
    }
  }

  return html`<div class="page" data-testid="oplog-page">
    <${PageHeader} title=${t('nav.oplog')} description=${t('oplog.desc')} />
    <div class="tabs" role="tablist" aria-label=${t('nav.oplog')} onKeyDown=${onTabKey}>
      ${TABS.map(
        (k) => html`<button
          key=${k}
          type="button"
          role="tab"
          class="tab"
          id=${`tab-${k}`}
          ref=${(el) => {
            tabRefs.current[k] = el;
          }}
          aria-selected=${tab === k ? 'true' : 'false'}
          aria-controls=${`tabpanel-${k}`}
          tabindex=${tab === k ? 0 : -1}
          data-testid=${`tab-${k}`}
          onClick=${() => setTab(k)}
        >${t(`oplog.tab.${k}`)}</button>`,
      )}
    </div>
    <${Card} class="card-flush card-tabbed">
      <div role="tabpanel" id=${`tabpanel-${tab}`} aria-labelledby=${`tab-${tab}`}>
        <${LogView} key=${tab} kind=${tab} />
      </div>
    <//>
  </div>`;
}
