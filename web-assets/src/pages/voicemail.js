// 客户留言 (manual §7, fig. 7.1 and 7.2): the messages callers left in the queue mailboxes.
//
// 显示项 10/25/50/100 rows per page; every column sorts both ways (a click on a header
// turns ▲ into ▼); one search box matches any column as shown (typing 37 finds every row
// with 37 in 客户号码, 客户名, 队列名, 日期 or 时长), sent once typing pauses and starting
// again at page 1. Searching, sorting and paging are the server's (GET /voicemail).
// 操作: 播放 opens the pop-up player (the browser's controls: play, seek, volume), 下载
// saves the file, 删除 asks first (the server renumbers the folder as Asterisk does).
// Formats the browser cannot play (GSM in WAV, …) offer 下载 only.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAuthRedirect, voicemailAudioUrl } from '../api.js';
import { t } from '../i18n.js';
import { ConfirmDialog } from '../components/dialog.js';
import { Icon } from '../components/icons.js';
import { Pager, PageSizeSelect, SearchBox, useDebounced } from '../components/paging.js';
import { PlayerDialog } from '../components/player.js';
import { SortHeader } from '../components/sort.js';
import { Alert, Card, PageHeader, Spinner } from '../components/ui.js';

const DEFAULT_PER_PAGE = 10;
const DEFAULT_SORT = { column: 'date', dir: 'desc' };
/** Column → message key of its header, in the manual's order. */
const COLUMNS = [
  ['number', 'vm.col.number'],
  ['name', 'vm.col.name'],
  ['queue', 'vm.col.queue'],
  ['date', 'vm.col.date'],
  ['duration', 'vm.col.duration'],
];

/** '5550101 Urgent Caller' for the dialogs (whatever of the two is known). */
function caller(row) {
  return [row.number, row.name].filter(Boolean).join(' ') || t('vm.unknownCaller');
}

export function VoicemailPage() {
  const [query, setQuery] = useState('');
  const search = useDebounced(query.trim());
  const [sort, setSort] = useState(DEFAULT_SORT);
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(DEFAULT_PER_PAGE);
  const [result, setResult] = useState(null); // what is shown: the server's page + the search it answers
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [playing, setPlaying] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState('');
  const seq = useRef(0);

  async function load(want = { search, sort, page, perPage }) {
    const mine = ++seq.current;
    setLoading(true);
    setError('');
    try {
      const r = await api.voicemail({ search: want.search, sort: want.sort.column, dir: want.sort.dir, page: want.page, perPage: want.perPage });
      if (mine !== seq.current) return; // a newer request is on its way
      const shown = {
        total: Number(r && r.total) || 0,
        unfiltered: Number(r && r.unfiltered) || 0,
        rows: Array.isArray(r && r.rows) ? r.rows : [],
        page: Number(r && r.page) || want.page,
        perPage: want.perPage,
        search: want.search,
        // The order these rows are in: the table says it only once they are shown.
        sort: `${want.sort.column}:${want.sort.dir}`,
      };
      setResult(shown);
      // The server clamps a page past the end (after a delete, a narrower search).
      if (shown.page !== want.page) setPage(shown.page);
    } catch (err) {
      if (mine !== seq.current) return;
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setLoading(false);
  }

  // A new search starts at page 1.
  const lastSearch = useRef(search);
  useEffect(() => {
    if (lastSearch.current !== search) {
      lastSearch.current = search;
      if (page !== 1) {
        setPage(1);
        return;
      }
    }
    load({ search, sort, page, perPage });
  }, [search, sort, page, perPage]);

  function askDelete(row) {
    setNotice('');
    setDeleteError('');
    setDeleting(row);
  }

  async function confirmDelete() {
    const row = deleting;
    if (!row) return;
    setDeleteBusy(true);
    setDeleteError('');
    try {
      await api.deleteVoicemail(row.id);
      setDeleting(null);
      setNotice(t('vm.deleted', { caller: caller(row) }));
      if (playing && playing.id === row.id) setPlaying(null);
      load({ search, sort, page, perPage });
    } catch (err) {
      if (!isAuthRedirect(err)) setDeleteError(err.message);
    }
    setDeleteBusy(false);
  }

  function play(row) {
    setNotice('');
    setPlaying({
      id: row.id,
      title: t('vm.playTitle', { caller: caller(row) }),
      facts: [
        [t('vm.col.number'), row.number],
        [t('vm.col.name'), row.name],
        [t('vm.col.queue'), row.queue],
        [t('vm.col.date'), row.date],
        [t('vm.col.duration'), row.duration],
      ],
      src: voicemailAudioUrl(row.id),
      downloadUrl: voicemailAudioUrl(row.id, { download: true }),
    });
  }

  const rows = result ? result.rows : [];
  const colCount = COLUMNS.length + 1;

  return html`<div class="page" data-testid="voicemail-page">
    <${PageHeader} title=${t('nav.voicemail')} description=${t('vm.desc')} />
    <${Alert} kind="error" testid="voicemail-error">${error}<//>
    <${Alert} kind="success" testid="voicemail-notice">${notice}<//>
    <${Card} class="card-flush" testid="voicemail-card">
      <div class="log-toolbar">
        <${PageSizeSelect}
          id="voicemail-per-page"
          value=${perPage}
          onChange=${(n) => {
            setPerPage(n);
            setPage(1);
          }}
        />
        <div class="log-toolbar-right">
          <${SearchBox} id="voicemail-search" value=${query} onInput=${setQuery} label=${t('vm.search')} />
          <button
            type="button"
            class="btn btn-default"
            onClick=${() => load({ search, sort, page, perPage })}
            disabled=${loading}
            data-testid="voicemail-refresh"
          >
            <${Icon} name="refresh" size=${15} /><span>${t('common.refresh')}</span>
          </button>
        </div>
      </div>
      ${!result && loading && html`<div class="card-pad"><${Spinner} /></div>`}
      ${result &&
      html`<div class="table-wrap" aria-busy=${loading ? 'true' : 'false'}>
        <table
          class="table media-table voicemail-table"
          data-testid="voicemail-table"
          data-search=${result.search}
          data-sort=${result.sort}
          data-loading=${loading ? 'true' : 'false'}
        >
          <thead>
            <tr>
              ${COLUMNS.map(
                ([column, key]) => html`<${SortHeader}
                  key=${column}
                  column=${column}
                  label=${t(key)}
                  sort=${sort}
                  onSort=${(s) => {
                    setSort(s);
                    setPage(1);
                  }}
                  testid=${`voicemail-sort-${column}`}
                />`,
              )}
              <th scope="col" class="actions-col">${t('vm.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            ${rows.length
              ? rows.map(
                  (r) => html`<tr key=${r.id} data-testid="voicemail-row" data-id=${r.id} data-urgent=${r.urgent ? 'true' : 'false'}>
                    <td class="mono" data-testid="voicemail-cell-number">${r.number}</td>
                    <td data-testid="voicemail-cell-name">
                      <span>${r.name}</span>${r.urgent && html` <span class="tag tag-urgent">${t('vm.urgent')}</span>`}
                    </td>
                    <td data-testid="voicemail-cell-queue">${r.queue}</td>
                    <td class="mono" data-testid="voicemail-cell-date">${r.date}</td>
                    <td class="mono" data-testid="voicemail-cell-duration">${r.duration}</td>
                    <td class="actions-col">
                      <div class="row-actions">
                        <button
                          type="button"
                          class="btn btn-default btn-sm"
                          onClick=${() => play(r)}
                          disabled=${r.browser_playable === false}
                          title=${r.browser_playable === false ? t('vm.notPlayable') : undefined}
                          aria-label=${t('vm.playOf', { caller: caller(r) })}
                          data-testid="voicemail-play"
                        >
                          <${Icon} name="play" size=${13} /><span>${t('media.play')}</span>
                        </button>
                        <a
                          class="btn btn-default btn-sm"
                          href=${voicemailAudioUrl(r.id, { download: true })}
                          download
                          aria-label=${t('vm.downloadOf', { caller: caller(r) })}
                          data-testid="voicemail-download"
                        >
                          <${Icon} name="download" size=${13} /><span>${t('media.download')}</span>
                        </a>
                        <button
                          type="button"
                          class="btn btn-danger-ghost btn-sm"
                          onClick=${() => askDelete(r)}
                          aria-label=${t('vm.deleteOf', { caller: caller(r) })}
                          data-testid="voicemail-delete"
                        >
                          <${Icon} name="trash" size=${13} /><span>${t('common.delete')}</span>
                        </button>
                      </div>
                    </td>
                  </tr>`,
                )
              : html`<tr class="empty-row">
                  <td colspan=${colCount} data-testid="voicemail-empty">
                    ${result.search && result.unfiltered > 0 ? t('vm.noMatch', { q: result.search }) : t('vm.empty')}
                  </td>
                </tr>`}
          </tbody>
        </table>
      </div>`}
      ${result &&
      html`<div class="card-foot log-foot">
        <${Pager}
          testid="voicemail-pager"
          page=${result.page}
          perPage=${result.perPage}
          total=${result.total}
          onPage=${setPage}
          disabled=${loading}
        />
      </div>`}
    <//>

    <${PlayerDialog} item=${playing} onClose=${() => setPlaying(null)} testid="voicemail-player" />

    <${ConfirmDialog}
      open=${Boolean(deleting)}
      testid="voicemail-delete-confirm"
      title=${t('vm.delete.title')}
      message=${deleting && t('vm.delete.message', { caller: caller(deleting), date: deleting.date, queue: deleting.queue })}
      confirmLabel=${t('common.delete')}
      busy=${deleteBusy}
      error=${deleteError}
      onConfirm=${confirmDelete}
      onCancel=${() => setDeleting(null)}
    />
  </div>`;
}
