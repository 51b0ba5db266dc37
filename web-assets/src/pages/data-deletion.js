// 删除数据 (manual §9.2): delete all customer information, operation logs, outbound plans or
// service records. Each kind shows how many rows it has; 删除 asks for a confirmation that
// says how many rows will go, and the deletion is sent with that count: should the data
// have changed meanwhile, the server deletes nothing and says so, and the counts are read
// again. Every deletion is in the audit trail.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { ConfirmDialog } from '../components/dialog.js';
import { Icon } from '../components/icons.js';
import { Alert, Card, PageHeader, Spinner } from '../components/ui.js';

export const DATA_KINDS = ['customers', 'oplog', 'outbound_plans', 'service_records'];

export function DataDeletionPage() {
  const [counts, setCounts] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [confirm, setConfirm] = useState(null); // { kind, count }
  const [busy, setBusy] = useState(false);
  const [confirmError, setConfirmError] = useState('');

  async function load() {
    setLoading(true);
    setError('');
    try {
      setCounts(await api.dataCounts());
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setLoading(false);
  }
  useEffect(() => {
    load();
  }, []);

  async function remove() {
    if (!confirm) return;
    setBusy(true);
    setConfirmError('');
    try {
      const r = await api.deleteData(confirm.kind, confirm.count);
      setConfirm(null);
      setNotice(t('purge.done', { count: r.deleted, what: t(`purge.kind.${confirm.kind}`) }));
      load();
    } catch (err) {
      if (!isAuthRedirect(err)) {
        setConfirmError(err.message);
        if (err.code === 'count_changed') {
          // Show the new count in the dialog; confirming again deletes that many.
          try {
            const fresh = await api.dataCounts();
            setCounts(fresh);
            setConfirm((c) => c && { ...c, count: fresh[c.kind] });
          } catch {
            // the message above already says what happened
          }
        }
      }
    }
    setBusy(false);
  }

  return html`<div class="page page-narrow" data-testid="data-deletion-page">
    <${PageHeader}
      title=${t('nav.dataDeletion')}
      eyebrow=${t('nav.advanced')}
      description=${t('purge.desc')}
      actions=${html`<button type="button" class="btn btn-default" onClick=${load} disabled=${loading} data-testid="purge-refresh">
        <${Icon} name="refresh" size=${15} /><span>${t('common.refresh')}</span>
      </button>`}
    />
    <${Alert} kind="error" testid="purge-error">${error}<//>
    <${Alert} kind="success" testid="purge-notice">${notice}<//>
    <${Card} class="card-flush" testid="purge-card">
      ${counts === null
        ? html`<div class="card-pad">${loading ? html`<${Spinner} />` : null}</div>`
        : html`<div class="table-wrap">
            <table class="table" data-testid="purge-table">
              <thead>
                <tr>
                  <th scope="col">${t('purge.col.kind')}</th>
                  <th scope="col">${t('purge.col.count')}</th>
                  <th scope="col" class="actions-col">${t('purge.col.actions')}</th>
                </tr>
              </thead>
              <tbody>
                ${DATA_KINDS.map(
                  (kind) => html`<tr key=${kind} data-testid="purge-row" data-kind=${kind}>
                    <td>${t(`purge.kind.${kind}`)}</td>
                    <td class="mono" data-testid="purge-count">${counts[kind]}</td>
                    <td class="actions-col">
                      <button
                        type="button"
                        class="btn btn-danger-ghost btn-sm"
                        disabled=${!counts[kind]}
                        data-testid="purge-delete"
                        onClick=${() => {
                          setNotice('');
                          setConfirmError('');
                          setConfirm({ kind, count: counts[kind] });
                        }}
                      >
                        <${Icon} name="trash" size=${13} /><span>${t('common.delete')}</span>
                      </button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`}
    <//>
    <${ConfirmDialog}
      open=${Boolean(confirm)}
      testid="purge-confirm"
      title=${t('purge.confirm.title')}
      message=${confirm && t('purge.confirm.message', { count: confirm.count, what: t(`purge.kind.${confirm.kind}`) })}
      confirmLabel=${t('common.delete')}
      busy=${busy}
      error=${confirmError}
      onConfirm=${remove}
      onCancel=${() => setConfirm(null)}
    />
  </div>`;
}
