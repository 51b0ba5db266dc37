// 录音列表 (manual §6, fig. 6.1): the call recordings, for the administrator (#/recordings)
// and, on the agent page, for team leaders (the same table) and agents (their own, with the
// leaders' notes).
//
// The search form: 客户 (number or name, 模糊 fuzzy or 精确 exact), 号码 (exact customer
// number), 队列名, 日期 from–to, 坐席名, 呼叫类型 (呼入 / 自动外呼 / 手动外呼); 查询 applies
// it (page 1); 下载 fetches the checked rows as one ZIP, at most 20 (refused here before
// asking, and by the server too). The choices of 队列名 and 坐席名 are the server's: those a
// leader no longer leads are marked 【删除】 (the server has already limited their rows as
// the manual says). Rows come newest first, scoped by the server to the session.
//
// The table: checkbox, 日期时间, 客户号码, 客户名, 队列名, 坐席名（工号）, 呼叫类型, 时长, 大小,
// 批注, 操作 — 播放 (the pop-up player; seeking uses HTTP ranges), 下载, 删除 (asks first;
// only with `can_delete`), 批注 (a dialog; only with `can_annotate`). A recording on a USB
// disk that is not plugged in (`available: false`) is greyed with 不可用（U盘未连接） and can
// be neither played, downloaded nor checked. Checked rows stay checked across pages until
// the next 查询.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ZIP_LIMIT, api, fetchRecordingsZip, isAuthRedirect, recordingAudioUrl } from '../api.js';
import { t } from '../i18n.js';
import { formatBytes, formatClock, formatStamp } from '../format.js';
import { ConfirmDialog, Modal } from '../components/dialog.js';
import { Icon } from '../components/icons.js';
import { Pager, PageSizeSelect } from '../components/paging.js';
import { PlayerDialog } from '../components/player.js';
import { Alert, Card, PageHeader, Spinner } from '../components/ui.js';

export const CALL_TYPES = ['inbound', 'auto_outbound', 'manual_outbound'];
export const NOTE_MAX = 500;
const DEFAULT_PER_PAGE = 25;
const EMPTY_FILTERS = {
  customer: '',
  customer_match: 'fuzzy',
  number: '',
  queue: '',
  agent: '',
  from: '',
  to: '',
  call_type: '',
};

export function callTypeLabel(type) {
  return CALL_TYPES.includes(type) ? t(`rec.type.${type}`) : type || '–';
}

/**
 * The server's filter choices as { queue | job_number, name, removed }: the number is named
 * `key` in the answer (ChoiceItem), or by the field itself.
 */
function choices(list, field) {
  if (!Array.isArray(list)) return [];
  return list
    .map((c) => ({ ...c, [field]: String(c[field] ?? c.key ?? '') }))
    .filter((c) => c[field] !== '');
}

const removedMark = (removed) => (removed ? t('rec.removed') : '');

function queueOption(q) {
  return `${q.name && q.name !== q.queue ? `${q.queue} ${q.name}` : q.queue}${removedMark(q.removed)}`;
}

function agentOption(a) {
  return `${a.name ? t('rec.agentLabel', { name: a.name, job: a.job_number }) : a.job_number}${removedMark(a.removed)}`;
}

/** 时长 as a clock ('1:05'); '–' while the index does not know it yet. */
function duration(item) {
  return typeof item.duration_seconds === 'number' ? formatClock(item.duration_seconds) : '–';
}

/** '13800138000 张三' for dialogs and labels. */
function customerOf(item) {
  return [item.customer_number, item.customer_name].filter(Boolean).join(' ') || t('rec.unknownCustomer');
}

/** Saves a Blob under `fileName` through a temporary link (the browser's download). */
function saveBlob(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// ---- the search form ---------------------------------------------------------------

function SearchForm({ values, onChange, onSubmit, queues, agents, showAgent, busy, zip }) {
  const set = (key) => (e) => onChange({ ...values, [key]: e.currentTarget.value });
  return html`<form
    class="rec-search"
    data-testid="rec-search-form"
    onSubmit=${(e) => {
      e.preventDefault();
      onSubmit();
    }}
  >
    <div class="rec-field rec-field-customer">
      <label class="field-label" for="rec-customer">${t('rec.f.customer')}</label>
      <div class="input-row">
        <input
          id="rec-customer"
          data-testid="rec-customer"
          class="input"
          type="search"
          maxLength=${64}
          autocomplete="off"
          spellcheck=${false}
          placeholder=${t('rec.f.customerHint')}
          value=${values.customer}
          onInput=${set('customer')}
        />
        <select
          id="rec-customer-match"
          data-testid="rec-customer-match"
          class="input select rec-match"
          aria-label=${t('rec.f.match')}
          value=${values.customer_match}
          onChange=${set('customer_match')}
        >
          <option value="fuzzy">${t('rec.f.fuzzy')}</option>
          <option value="exact">${t('rec.f.exact')}</option>
        </select>
      </div>
    </div>
    <div class="rec-field">
      <label class="field-label" for="rec-number">${t('rec.f.number')}</label>
      <input
        id="rec-number"
        data-testid="rec-number"
        class="input mono-input"
        type="search"
        inputMode="tel"
        maxLength=${32}
        autocomplete="off"
        spellcheck=${false}
        placeholder=${t('rec.f.numberHint')}
        value=${values.number}
        onInput=${set('number')}
      />
    </div>
    <div class="rec-field">
      <label class="field-label" for="rec-queue">${t('rec.f.queue')}</label>
      <select id="rec-queue" data-testid="rec-queue" class="input select" value=${values.queue} onChange=${set('queue')}>
        <option value="">${t('rec.f.all')}</option>
        ${queues.map((q) => html`<option key=${q.queue} value=${q.queue} data-removed=${q.removed ? 'true' : 'false'}>${queueOption(q)}</option>`)}
      </select>
    </div>
    <div class="rec-field rec-field-dates">
      <span class="field-label" id="rec-dates-label">${t('rec.f.date')}</span>
      <div class="input-row" role="group" aria-labelledby="rec-dates-label">
        <input
          id="rec-from"
          data-testid="rec-from"
          class="input"
          type="date"
          aria-label=${t('rec.f.from')}
          value=${values.from}
          onInput=${set('from')}
        />
        <span class="rec-dash" aria-hidden="true">–</span>
        <input
          id="rec-to"
          data-testid="rec-to"
          class="input"
          type="date"
          aria-label=${t('rec.f.to')}
          value=${values.to}
          onInput=${set('to')}
        />
      </div>
    </div>
    ${showAgent &&
    html`<div class="rec-field">
      <label class="field-label" for="rec-agent">${t('rec.f.agent')}</label>
      <select id="rec-agent" data-testid="rec-agent" class="input select" value=${values.agent} onChange=${set('agent')}>
        <option value="">${t('rec.f.all')}</option>
        ${agents.map(
          (a) => html`<option key=${a.job_number} value=${a.job_number} data-removed=${a.removed ? 'true' : 'false'}>${agentOption(a)}</option>`,
        )}
      </select>
    </div>`}
    <div class="rec-field">
      <label class="field-label" for="rec-call-type">${t('rec.f.callType')}</label>
      <select id="rec-call-type" data-testid="rec-call-type" class="input select" value=${values.call_type} onChange=${set('call_type')}>
        <option value="">${t('rec.f.all')}</option>
        ${CALL_TYPES.map((c) => html`<option key=${c} value=${c}>${callTypeLabel(c)}</option>`)}
      </select>
    </div>
    <div class="rec-buttons">
      <button type="submit" class="btn btn-primary" disabled=${busy} data-testid="rec-submit" id="rec-submit">
        <${Icon} name="search" size=${15} /><span>${t('rec.f.submit')}</span>
      </button>
      ${zip &&
      html`<button
          type="button"
          class="btn btn-default"
          disabled=${zip.busy}
          onClick=${zip.onClick}
          data-testid="rec-zip"
          id="rec-zip"
          title=${t('rec.zipHint', { max: ZIP_LIMIT })}
        >
          <${Icon} name="download" size=${15} /><span>${zip.busy ? t('rec.zipBusy') : t('media.download')}</span>
        </button>
        <span class="rec-selected muted" data-testid="rec-selected" data-count=${String(zip.count)}>
          ${t('rec.selected', { n: zip.count, max: ZIP_LIMIT })}
        </span>`}
    </div>
  </form>`;
}

// ---- the note dialog ---------------------------------------------------------------

function NoteForm({ item, onSaved, onCancel }) {
  const [text, setText] = useState(item.note || '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const length = [...text].length;

  async function submit(e) {
    e.preventDefault();
    if (busy) return;
    if (length > NOTE_MAX) {
      setError(t('rec.note.tooLong', { max: NOTE_MAX }));
      return;
    }
    setBusy(true);
    setError('');
    try {
      const updated = await api.annotateRecording(item.id, text.trim());
      setBusy(false);
      onSaved(updated && typeof updated === 'object' ? updated : { ...item, note: text.trim() || null });
    } catch (err) {
      setBusy(false);
      if (!isAuthRedirect(err)) setError(err.message);
    }
  }

  return html`<form class="dialog-body" onSubmit=${submit} noValidate data-testid="rec-note-form">
    <div class="dialog-head">
      <span class="dialog-icon dialog-icon-info"><${Icon} name="edit" size=${20} /></span>
      <h2 class="dialog-title" id="rec-note-title">${t('rec.note.title')}</h2>
    </div>
    <p class="dialog-text" data-testid="rec-note-about">
      ${t('rec.note.about', {
        date: formatStamp(item.started_at),
        customer: customerOf(item),
        agent: item.agent_name ? t('rec.agentLabel', { name: item.agent_name, job: item.agent_job_number }) : item.agent_job_number || '–',
      })}
    </p>
    <div class="field">
      <label class="field-label" for="rec-note-text">${t('rec.col.note')}</label>
      <textarea
        id="rec-note-text"
        data-testid="rec-note-text"
        class="input textarea"
        rows="5"
        autofocus
        maxLength=${NOTE_MAX}
        value=${text}
        aria-describedby="rec-note-count"
        onInput=${(e) => setText(e.currentTarget.value)}
      ></textarea>
      <p class="field-hint" id="rec-note-count">${t('rec.note.count', { n: length, max: NOTE_MAX })} · ${t('rec.note.clearHint')}</p>
    </div>
    <${Alert} kind="error" testid="rec-note-error">${error}<//>
    <div class="dialog-actions">
      <button type="button" class="btn btn-default" disabled=${busy} onClick=${onCancel} data-testid="rec-note-cancel">${t('common.cancel')}</button>
      <button type="submit" class="btn btn-primary" disabled=${busy} data-testid="rec-note-save">${busy ? t('common.saving') : t('common.save')}</button>
    </div>
  </form>`;
}

// ---- the table -----------------------------------------------------------------------

function NoteCell({ item, prominent }) {
  if (!item.note) return html`<td class="wrap rec-note-cell" data-testid="rec-cell-note"><span class="muted">–</span></td>`;
  return html`<td class="wrap rec-note-cell" data-testid="rec-cell-note">
    <div class=${prominent ? 'rec-note rec-note-prominent' : 'rec-note'}>
      <span class="rec-note-text" data-testid="rec-note">${item.note}</span>
      ${(item.note_by || item.noted_at) &&
      html`<span class="rec-note-by muted" data-testid="rec-note-by">
        ${t('rec.note.by', { who: item.note_by || '–', at: item.noted_at ? formatStamp(item.noted_at) : '' })}
      </span>`}
    </div>
  </td>`;
}

function RecordingRow({ item, checked, onCheck, perms, mode, onPlay, onDelete, onAnnotate }) {
  const available = item.available !== false;
  const customer = customerOf(item);
  return html`<tr
    class=${available ? '' : 'rec-unavailable'}
    data-testid="rec-row"
    data-id=${String(item.id)}
    data-agent=${item.agent_job_number || ''}
    data-number=${item.customer_number || ''}
    data-available=${available ? 'true' : 'false'}
  >
    ${perms.can_download &&
    html`<td class="check-col">
      <input
        type="checkbox"
        class="rec-check"
        checked=${checked}
        disabled=${!available}
        onChange=${(e) => onCheck(item, e.currentTarget.checked)}
        aria-label=${t('rec.checkOf', { customer, date: formatStamp(item.started_at) })}
        data-testid="rec-check"
      />
    </td>`}
    <td class="mono" data-testid="rec-cell-date" title=${item.started_at}>${formatStamp(item.started_at)}</td>
    <td class="mono" data-testid="rec-cell-number">${item.customer_number || html`<span class="muted">–</span>`}</td>
    <td data-testid="rec-cell-name">${item.customer_name || html`<span class="muted">–</span>`}</td>
    <td data-testid="rec-cell-queue" data-queue=${item.queue || ''}>${item.queue_name || item.queue || html`<span class="muted">–</span>`}</td>
    <td data-testid="rec-cell-agent">
      ${item.agent_job_number
        ? item.agent_name
          ? t('rec.agentLabel', { name: item.agent_name, job: item.agent_job_number })
          : item.agent_job_number
        : html`<span class="muted">–</span>`}
    </td>
    <td data-testid="rec-cell-type" data-type=${item.call_type}>${callTypeLabel(item.call_type)}</td>
    <td class="mono num" data-testid="rec-cell-duration">${duration(item)}</td>
    <td class="num" data-testid="rec-cell-size">${formatBytes(item.size_bytes)}</td>
    <${NoteCell} item=${item} prominent=${mode === 'agent'} />
    <td class="actions-col">
      <div class="row-actions">
        ${available
          ? html`<button
                type="button"
                class="icon-btn"
                onClick=${() => onPlay(item)}
                title=${t('media.play')}
                aria-label=${t('rec.playOf', { customer })}
                data-testid="rec-play"
              >
                <${Icon} name="play" size=${16} />
              </button>
              ${perms.can_download &&
              html`<a
                class="icon-btn"
                href=${recordingAudioUrl(item.id, { download: true })}
                download
                title=${t('media.download')}
                aria-label=${t('rec.downloadOf', { customer })}
                data-testid="rec-download"
              >
                <${Icon} name="download" size=${16} />
              </a>`}`
          : html`<span class="tag tag-unavailable" data-testid="rec-unavailable">${t('rec.unavailable')}</span>`}
        ${perms.can_annotate &&
        html`<button
          type="button"
          class="icon-btn"
          onClick=${() => onAnnotate(item)}
          title=${t('rec.annotate')}
          aria-label=${t('rec.annotateOf', { customer })}
          data-testid="rec-annotate"
        >
          <${Icon} name="edit" size=${16} />
        </button>`}
        ${perms.can_delete &&
        html`<button
          type="button"
          class="icon-btn icon-btn-danger"
          onClick=${() => onDelete(item)}
          title=${t('common.delete')}
          aria-label=${t('rec.deleteOf', { customer })}
          data-testid="rec-delete"
        >
          <${Icon} name="trash" size=${16} />
        </button>`}
      </div>
    </td>
  </tr>`;
}

// ---- the view: form, table, paging, dialogs ----------------------------------------

/**
 * The whole 录音列表 view. `mode` is 'admin' (the console page), 'leader' (the agent page
 * of a team leader: the same table) or 'agent' (an agent's own recordings: no 坐席名 filter,
 * the leaders' notes shown prominently). What may be done comes from the server's
 * can_delete / can_annotate / can_download.
 */
export function RecordingsView({ mode = 'admin' }) {
  const [form, setForm] = useState(EMPTY_FILTERS);
  const [applied, setApplied] = useState(EMPTY_FILTERS);
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(DEFAULT_PER_PAGE);
  const [result, setResult] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [selected, setSelected] = useState(() => new Map());
  const [zipBusy, setZipBusy] = useState(false);
  const [zipError, setZipError] = useState('');
  const [playing, setPlaying] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState('');
  const [annotating, setAnnotating] = useState(null);
  const seq = useRef(0);

  async function load(filters = applied, p = page, n = perPage) {
    const mine = ++seq.current;
    setLoading(true);
    setError('');
    try {
      const r = await api.recordings({ ...filters, page: p, perPage: n });
      if (mine !== seq.current) return;
      setResult({
        items: Array.isArray(r && r.items) ? r.items : [],
        total: Number(r && r.total) || 0,
        page: Number(r && r.page) || p,
        perPage: Number(r && r.per_page) || n,
        queues: choices(r && r.queues, 'queue'),
        agents: choices(r && r.agents, 'job_number'),
        can_delete: Boolean(r && r.can_delete),
        can_annotate: Boolean(r && r.can_annotate),
        can_download: Boolean(r && r.can_download),
      });
    } catch (err) {
      if (mine !== seq.current) return;
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setLoading(false);
  }

  useEffect(() => {
    load(applied, page, perPage);
  }, [applied, page, perPage]);

  function submit() {
    setNotice('');
    setZipError('');
    setSelected(new Map());
    setPage(1);
    // A new object even when nothing changed: 查询 always asks again.
    setApplied({ ...form });
  }

  function check(item, on) {
    setZipError('');
    setSelected((m) => {
      const next = new Map(m);
      if (on) next.set(item.id, item);
      else next.delete(item.id);
      return next;
    });
  }

  function checkPage(on) {
    setZipError('');
    setSelected((m) => {
      const next = new Map(m);
      for (const item of result ? result.items : []) {
        if (item.available === false) continue;
        if (on) next.set(item.id, item);
        else next.delete(item.id);
      }
      return next;
    });
  }

  async function downloadZip() {
    setNotice('');
    setZipError('');
    const ids = [...selected.keys()];
    if (ids.length === 0) {
      setZipError(t('rec.zipNone'));
      return;
    }
    if (ids.length > ZIP_LIMIT) {
      setZipError(t('rec.zipTooMany', { max: ZIP_LIMIT, n: ids.length }));
      return;
    }
    setZipBusy(true);
    try {
      const { blob, fileName } = await fetchRecordingsZip(ids);
      saveBlob(blob, fileName);
    } catch (err) {
      if (!isAuthRedirect(err)) setZipError(err.message);
    }
    setZipBusy(false);
  }

  function play(item) {
    setNotice('');
    setPlaying({
      id: item.id,
      title: t('rec.playTitle', { customer: customerOf(item) }),
      facts: [
        [t('rec.col.date'), formatStamp(item.started_at)],
        [t('rec.col.queue'), item.queue_name || item.queue],
        [t('rec.col.agent'), item.agent_name ? t('rec.agentLabel', { name: item.agent_name, job: item.agent_job_number }) : item.agent_job_number],
        [t('rec.col.type'), callTypeLabel(item.call_type)],
        [t('rec.col.duration'), duration(item)],
        ...(item.note ? [[t('rec.col.note'), item.note]] : []),
      ],
      src: recordingAudioUrl(item.id),
      downloadUrl: result && result.can_download ? recordingAudioUrl(item.id, { download: true }) : null,
    });
  }

  function askDelete(item) {
    setNotice('');
    setDeleteError('');
    setDeleting(item);
  }

  async function confirmDelete() {
    const item = deleting;
    if (!item) return;
    setDeleteBusy(true);
    setDeleteError('');
    try {
      const r = await api.deleteRecording(item.id);
      setDeleting(null);
      setNotice(r && r.file_was_missing ? t('rec.deletedMissing') : t('rec.deleted', { customer: customerOf(item) }));
      setSelected((m) => {
        if (!m.has(item.id)) return m;
        const next = new Map(m);
        next.delete(item.id);
        return next;
      });
      if (playing && playing.id === item.id) setPlaying(null);
      // The last row of a later page: go back one page.
      if (result && result.items.length === 1 && page > 1) setPage(page - 1);
      else load();
    } catch (err) {
      if (!isAuthRedirect(err)) setDeleteError(err.message);
    }
    setDeleteBusy(false);
  }

  function annotated(updated) {
    setAnnotating(null);
    setNotice(updated.note ? t('rec.note.saved') : t('rec.note.cleared'));
    setResult((r) => (r ? { ...r, items: r.items.map((x) => (x.id === updated.id ? { ...x, ...updated } : x)) } : r));
  }

  const perms = result || { can_delete: false, can_annotate: false, can_download: false };
  const items = result ? result.items : [];
  const pageChoosable = items.filter((x) => x.available !== false);
  const allChecked = pageChoosable.length > 0 && pageChoosable.every((x) => selected.has(x.id));
  const someChecked = pageChoosable.some((x) => selected.has(x.id));
  const colCount = 10 + (perms.can_download ? 1 : 0);

  return html`<div class="rec-view" data-testid="rec-view" data-mode=${mode}>
    <${Alert} kind="error" testid="rec-error">${error}<//>
    <${Alert} kind="success" testid="rec-notice">${notice}<//>
    <${Card} class="card-flush" testid="rec-card">
      <${SearchForm}
        values=${form}
        onChange=${setForm}
        onSubmit=${submit}
        queues=${result ? result.queues : []}
        agents=${result ? result.agents : []}
        showAgent=${mode !== 'agent'}
        busy=${loading}
        zip=${perms.can_download ? { busy: zipBusy, onClick: downloadZip, count: selected.size } : null}
      />
      ${zipError && html`<div class="card-pad rec-zip-error"><${Alert} kind="error" testid="rec-zip-error">${zipError}<//></div>`}
      ${!result && loading && html`<div class="card-pad"><${Spinner} /></div>`}
      ${result &&
      html`<div class="table-wrap" aria-busy=${loading ? 'true' : 'false'}>
        <table class="table media-table rec-table" data-testid="rec-table" data-loading=${loading ? 'true' : 'false'}>
          <thead>
            <tr>
              ${perms.can_download &&
              html`<th scope="col" class="check-col">
                <input
                  type="checkbox"
                  checked=${allChecked}
                  indeterminate=${!allChecked && someChecked}
                  disabled=${pageChoosable.length === 0}
                  onChange=${(e) => checkPage(e.currentTarget.checked)}
                  aria-label=${t('rec.checkPage')}
                  data-testid="rec-check-page"
                />
              </th>`}
              <th scope="col">${t('rec.col.date')}</th>
              <th scope="col">${t('rec.col.number')}</th>
              <th scope="col">${t('rec.col.name')}</th>
              <th scope="col">${t('rec.col.queue')}</th>
              <th scope="col">${t('rec.col.agent')}</th>
              <th scope="col">${t('rec.col.type')}</th>
              <th scope="col" class="num">${t('rec.col.duration')}</th>
              <th scope="col" class="num">${t('rec.col.size')}</th>
              <th scope="col">${t('rec.col.note')}</th>
              <th scope="col" class="actions-col">${t('rec.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            ${items.length
              ? items.map(
                  (item) => html`<${RecordingRow}
                    key=${item.id}
                    item=${item}
                    checked=${selected.has(item.id)}
                    onCheck=${check}
                    perms=${perms}
                    mode=${mode}
                    onPlay=${play}
                    onDelete=${askDelete}
                    onAnnotate=${(x) => {
                      setNotice('');
                      setAnnotating(x);
                    }}
                  />`,
                )
              : html`<tr class="empty-row">
                  <td colspan=${colCount} data-testid="rec-empty">${t(mode === 'agent' ? 'rec.emptyOwn' : 'rec.empty')}</td>
                </tr>`}
          </tbody>
        </table>
      </div>`}
      ${result &&
      html`<div class="card-foot log-foot rec-foot">
        <${PageSizeSelect}
          id="rec-per-page"
          value=${perPage}
          onChange=${(n) => {
            setPerPage(n);
            setPage(1);
          }}
        />
        <${Pager} testid="rec-pager" page=${result.page} perPage=${result.perPage} total=${result.total} onPage=${setPage} disabled=${loading} />
      </div>`}
    <//>

    <${PlayerDialog} item=${playing} onClose=${() => setPlaying(null)} testid="rec-player" />

    <${Modal} open=${Boolean(annotating)} onClose=${() => setAnnotating(null)} labelledBy="rec-note-title" testid="rec-note-dialog" wide=${true}>
      ${annotating && html`<${NoteForm} key=${annotating.id} item=${annotating} onSaved=${annotated} onCancel=${() => setAnnotating(null)} />`}
    <//>

    <${ConfirmDialog}
      open=${Boolean(deleting)}
      testid="rec-delete-confirm"
      title=${t('rec.delete.title')}
      message=${deleting && t('rec.delete.message', { customer: customerOf(deleting), date: formatStamp(deleting.started_at) })}
      confirmLabel=${t('common.delete')}
      busy=${deleteBusy}
      error=${deleteError}
      onConfirm=${confirmDelete}
      onCancel=${() => setDeleting(null)}
    />
  </div>`;
}

/** #/recordings: the administrator's 录音列表. */
export function RecordingsPage() {
  return html`<div class="page" data-testid="recordings-page">
    <${PageHeader} title=${t('nav.recordings')} description=${t('rec.desc')} />
    <${RecordingsView} mode="admin" />
  </div>`;
}
