// 坐席管理 (manual §4, fig. 4.1–4.3).
//
// The table: 坐席名, 工号, 组长, 分机, 密码 (masked; the eye asks
// GET /agents/{id}/password, which the audit trail records), 分机类型, 队列, 操作
// (编辑, 删除 after a confirmation).
//
// 新建坐席 / 编辑 open the form in a modal dialog, required fields marked with the red *
// of fig. 4.2. 分机 is a choice among the PBX's extensions (GET /pbx/extensions); those
// another agent uses are shown with its name and cannot be chosen. Extensions are created
// in the PBX's own interface (fig. 4.3, the "PBX 设置" link, port 9999); 刷新 reads the
// list again so that a new one appears without reloading the page.
//
// Empty required fields are pointed out before asking the server; everything else is the
// server's to judge: a refusal's message is shown next to the field it names
// (`error.field`), or above the form when it names none. The form keeps what was typed and
// stays open until it is saved or cancelled. Editing sends no password when the field is
// left empty (the password is kept).

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { pbxUrl } from '../nav.js';
import { ConfirmDialog, Modal } from '../components/dialog.js';
import { Icon } from '../components/icons.js';
import { Alert, Card, FieldShell, PageHeader, Spinner, describedBy } from '../components/ui.js';

export const EXTENSION_TYPES = ['web', 'sip', 'analog'];
const MASK = '••••••';
const byNumber = (a, b) => String(a).localeCompare(String(b), 'en', { numeric: true });

/** Server field name → the id of its control in the form. */
const FIELD_IDS = {
  name: 'agent-form-name',
  job_number: 'agent-form-job-number',
  leader: 'agent-form-leader',
  extension: 'agent-form-extension',
  password: 'agent-form-password',
  extension_type: 'agent-form-type',
};

export function extensionTypeLabel(type) {
  return EXTENSION_TYPES.includes(type) ? t(`agents.type.${type}`) : type || '–';
}

/** '222 售后' (just '222' when the name is the number). */
function queueLabel(number, names) {
  const name = names && names.get(number);
  return name && name !== number ? `${number} ${name}` : number;
}

// ---- the form ------------------------------------------------------------------------

function emptyValues(agent) {
  return {
    name: agent ? agent.name : '',
    job_number: agent ? agent.job_number : '',
    leader: agent ? Boolean(agent.leader) : false,
    extension: agent ? agent.extension : '',
    password: '',
    extension_type: agent ? agent.extension_type : '',
  };
}

function ExtensionSelect({ value, onChange, extensions, loading, own, error, hint, onRefresh }) {
  const id = FIELD_IDS.extension;
  const list = [...(extensions || [])].sort((a, b) => byNumber(a.extension, b.extension));
  // The agent's current extension stays choosable even if the PBX no longer lists it.
  const missingOwn = own && extensions && !list.some((x) => x.extension === own);
  return html`<${FieldShell} id=${id} label=${t('agents.col.extension')} required=${true} hint=${hint} error=${error}>
    <div class="input-row">
      <select
        id=${id}
        name=${id}
        data-testid=${id}
        class="input select"
        value=${value}
        aria-required="true"
        aria-invalid=${error ? 'true' : undefined}
        aria-describedby=${describedBy(id, hint, error)}
        aria-busy=${loading ? 'true' : 'false'}
        onChange=${(e) => onChange(e.currentTarget.value)}
      >
        <option value="">${loading && !extensions ? t('common.loading') : t('agents.form.chooseExtension')}</option>
        ${missingOwn &&
        html`<option value=${own}>${t('agents.form.extMissing', { ext: own })}</option>`}
        ${list.map((x) => {
          const usedBy = x.agent && x.extension !== own ? x.agent : null;
          const label = usedBy
            ? t('agents.form.extUsed', { ext: x.extension, tech: x.technology, name: usedBy })
            : t('agents.form.extFree', { ext: x.extension, tech: x.technology });
          return html`<option
            key=${x.extension}
            value=${x.extension}
            disabled=${Boolean(usedBy)}
            data-agent=${usedBy || undefined}
          >${label}</option>`;
        })}
      </select>
      <button
        type="button"
        class="btn btn-default"
        onClick=${onRefresh}
        disabled=${loading}
        data-testid="agent-form-ext-refresh"
        title=${t('agents.form.refreshHint')}
      >
        <${Icon} name="refresh" size=${14} /><span>${t('common.refresh')}</span>
      </button>
      <a
        class="btn btn-ghost"
        href=${pbxUrl()}
        target="_blank"
        rel="noopener noreferrer"
        data-testid="agent-form-pbx-link"
        title=${t('nav.pbxHint')}
      >
        <span>${t('nav.pbx')}</span><${Icon} name="external" size=${13} />
      </a>
    </div>
  <//>`;
}

function AgentForm({ agent, onSaved, onCancel }) {
  const editing = Boolean(agent);
  const [values, setValues] = useState(() => emptyValues(agent));
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  const [showPw, setShowPw] = useState(false);
  const [extensions, setExtensions] = useState(null);
  const [extLoading, setExtLoading] = useState(true);
  const [extError, setExtError] = useState('');
  const formRef = useRef(null);

  async function loadExtensions() {
    setExtLoading(true);
    setExtError('');
    try {
      const list = await api.pbxExtensions();
      setExtensions(Array.isArray(list) ? list : []);
    } catch (err) {
      if (!isAuthRedirect(err)) setExtError(err.message);
    }
    setExtLoading(false);
  }
  useEffect(() => {
    loadExtensions();
  }, []);

  function set(field, value) {
    setValues((v) => ({ ...v, [field]: value }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: '' }));
  }

  function focusField(field) {
    requestAnimationFrame(() => {
      const el = formRef.current && formRef.current.querySelector(`#${FIELD_IDS[field]}`);
      if (el) el.focus();
    });
  }

  async function submit(e) {
    e.preventDefault();
    if (busy) return;
    setFormError('');
    const body = {
      name: values.name.trim(),
      job_number: values.job_number.trim(),
      leader: values.leader,
      extension: values.extension,
      extension_type: values.extension_type,
    };
    if (!editing || values.password !== '') body.password = values.password;

    // Required fields first, all at once, without asking the server.
    const required = ['name', 'job_number', 'extension', 'extension_type'];
    if (!editing) required.push('password');
    const missing = {};
    for (const f of required) {
      if (body[f] === '' || body[f] === undefined) {
        missing[f] = t(f === 'extension' || f === 'extension_type' ? 'form.choose' : 'form.required');
      }
    }
    const firstMissing = Object.keys(FIELD_IDS).find((f) => missing[f]);
    if (firstMissing) {
      setErrors(missing);
      focusField(firstMissing);
      return;
    }

    setErrors({});
    setBusy(true);
    try {
      const saved = editing ? await api.updateAgent(agent.id, body) : await api.createAgent(body);
      setBusy(false);
      onSaved(saved || { ...body, id: agent && agent.id });
    } catch (err) {
      setBusy(false);
      if (isAuthRedirect(err)) return;
      const field = serverField(err);
      if (field) {
        setErrors({ [field]: err.message });
        focusField(field);
      } else {
        setFormError(err.message);
      }
    }
  }

  const pwHint = editing
    ? `${t('agents.form.passwordKeep')} ${t('agents.form.passwordRules')}`
    : t('agents.form.passwordRules');
  const extHint = extError || t('agents.form.extensionHint');

  return html`<form class="dialog-body agent-form" ref=${formRef} onSubmit=${submit} noValidate data-testid="agent-form">
    <div class="dialog-head">
      <span class="dialog-icon dialog-icon-info"><${Icon} name="agents" size=${20} /></span>
      <h2 class="dialog-title" id="agent-form-title">${editing ? t('agents.form.editTitle') : t('agents.form.createTitle')}</h2>
    </div>
    <p class="form-legend"><span class="req" aria-hidden="true">*</span> ${t('form.requiredLegend')}</p>
    <${Alert} kind="error" testid="agent-form-error">${formError}<//>
    <div class="form-grid">
      <${FieldShell} id=${FIELD_IDS.name} label=${t('agents.col.name')} required=${true} error=${errors.name}>
        <input
          id=${FIELD_IDS.name}
          name=${FIELD_IDS.name}
          data-testid=${FIELD_IDS.name}
          class="input"
          type="text"
          autofocus
          autocomplete="off"
          maxLength=${64}
          value=${values.name}
          aria-required="true"
          aria-invalid=${errors.name ? 'true' : undefined}
          aria-describedby=${describedBy(FIELD_IDS.name, null, errors.name)}
          onInput=${(e) => set('name', e.currentTarget.value)}
        />
      <//>
      <${FieldShell} id=${FIELD_IDS.job_number} label=${t('agents.col.jobNumber')} required=${true} error=${errors.job_number}>
        <input
          id=${FIELD_IDS.job_number}
          name=${FIELD_IDS.job_number}
          data-testid=${FIELD_IDS.job_number}
          class="input mono-input"
          type="text"
          inputMode="numeric"
          autocomplete="off"
          spellcheck=${false}
          maxLength=${32}
          value=${values.job_number}
          aria-required="true"
          aria-invalid=${errors.job_number ? 'true' : undefined}
          aria-describedby=${describedBy(FIELD_IDS.job_number, null, errors.job_number)}
          onInput=${(e) => set('job_number', e.currentTarget.value)}
        />
      <//>
    </div>
    <div class=${errors.leader ? 'field has-error' : 'field'}>
      <label class="check" for=${FIELD_IDS.leader}>
        <input
          id=${FIELD_IDS.leader}
          name=${FIELD_IDS.leader}
          data-testid=${FIELD_IDS.leader}
          type="checkbox"
          checked=${values.leader}
          onChange=${(e) => set('leader', e.currentTarget.checked)}
        />
        <span>${t('agents.form.leader')}</span>
      </label>
      ${errors.leader && html`<p class="field-error" data-testid=${`${FIELD_IDS.leader}-error`} role="alert">${errors.leader}</p>`}
    </div>
    <${ExtensionSelect}
      value=${values.extension}
      onChange=${(v) => set('extension', v)}
      extensions=${extensions}
      loading=${extLoading}
      own=${agent ? agent.extension : null}
      error=${errors.extension}
      hint=${extHint}
      onRefresh=${loadExtensions}
    />
    <div class="form-grid">
      <${FieldShell}
        id=${FIELD_IDS.password}
        label=${t('agents.col.password')}
        required=${!editing}
        hint=${pwHint}
        error=${errors.password}
      >
        <div class="input-wrap has-action">
          <input
            id=${FIELD_IDS.password}
            name=${FIELD_IDS.password}
            data-testid=${FIELD_IDS.password}
            class="input"
            type=${showPw ? 'text' : 'password'}
            autocomplete="new-password"
            spellcheck=${false}
            maxLength=${64}
            placeholder=${editing ? t('agents.form.passwordUnchanged') : undefined}
            value=${values.password}
            aria-required=${editing ? undefined : 'true'}
            aria-invalid=${errors.password ? 'true' : undefined}
            aria-describedby=${describedBy(FIELD_IDS.password, pwHint, errors.password)}
            onInput=${(e) => set('password', e.currentTarget.value)}
          />
          <button
            type="button"
            class="input-action"
            aria-label=${showPw ? t('agents.hidePassword') : t('agents.showPassword')}
            aria-pressed=${showPw ? 'true' : 'false'}
            data-testid="agent-form-password-toggle"
            onClick=${() => setShowPw(!showPw)}
          ><${Icon} name=${showPw ? 'eyeOff' : 'eye'} size=${16} /></button>
        </div>
      <//>
      <${FieldShell} id=${FIELD_IDS.extension_type} label=${t('agents.col.type')} required=${true} error=${errors.extension_type}>
        <select
          id=${FIELD_IDS.extension_type}
          name=${FIELD_IDS.extension_type}
          data-testid=${FIELD_IDS.extension_type}
          class="input select"
          value=${values.extension_type}
          aria-required="true"
          aria-invalid=${errors.extension_type ? 'true' : undefined}
          aria-describedby=${describedBy(FIELD_IDS.extension_type, null, errors.extension_type)}
          onChange=${(e) => set('extension_type', e.currentTarget.value)}
        >
          <option value="">${t('form.choosePlaceholder')}</option>
          ${EXTENSION_TYPES.map((ty) => html`<option key=${ty} value=${ty}>${t(`agents.type.${ty}`)}</option>`)}
        </select>
      <//>
    </div>
    <div class="dialog-actions">
      <button type="button" class="btn btn-default" onClick=${onCancel} disabled=${busy} data-testid="agent-form-cancel">
        ${t('common.cancel')}
      </button>
      <button type="submit" class="btn btn-primary" disabled=${busy} data-testid="agent-form-submit" id="agent-form-submit">
        ${busy ? t('common.saving') : editing ? t('common.save') : t('common.submit')}
      </button>
    </div>
  </form>`;
}

/** The form field a refusal names, if it is one of the form's. */
function serverField(err) {
  const f = err.field;
  return f && Object.prototype.hasOwnProperty.call(FIELD_IDS, f) ? f : null;
}

// ---- the table -----------------------------------------------------------------------

function PasswordCell({ agent, revealed, onToggle, busy }) {
  const shown = typeof revealed === 'string';
  return html`<td class="pw-cell">
    <span class=${shown ? 'pw-value mono' : 'pw-mask'} data-testid="agent-password" data-revealed=${shown ? 'true' : 'false'}>
      ${shown ? revealed : MASK}
    </span>
    <button
      type="button"
      class="icon-btn"
      aria-label=${shown ? t('agents.hidePasswordOf', { name: agent.name }) : t('agents.showPasswordOf', { name: agent.name })}
      title=${shown ? t('agents.hidePassword') : t('agents.showPassword')}
      aria-pressed=${shown ? 'true' : 'false'}
      disabled=${busy}
      data-testid="agent-password-toggle"
      onClick=${onToggle}
    ><${Icon} name=${shown ? 'eyeOff' : 'eye'} size=${16} /></button>
  </td>`;
}

function AgentTable({ agents, queueNames, revealed, revealing, onReveal, onEdit, onDelete }) {
  if (!agents.length) return html`<p class="muted-note" data-testid="agents-none">${t('agents.none')}</p>`;
  const rows = [...agents].sort((a, b) => byNumber(a.job_number, b.job_number));
  return html`<div class="table-wrap">
    <table class="table" data-testid="agents-table">
      <thead>
        <tr>
          <th scope="col">${t('agents.col.name')}</th>
          <th scope="col">${t('agents.col.jobNumber')}</th>
          <th scope="col">${t('agents.col.leader')}</th>
          <th scope="col">${t('agents.col.extension')}</th>
          <th scope="col">${t('agents.col.password')}</th>
          <th scope="col">${t('agents.col.type')}</th>
          <th scope="col">${t('agents.col.queues')}</th>
          <th scope="col" class="actions-col">${t('agents.col.actions')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (a) => html`<tr key=${a.id} data-testid="agents-row" data-agent-id=${String(a.id)} data-job-number=${a.job_number}>
            <td data-testid="agents-cell-name"><span class="agent-name">${a.name}</span></td>
            <td class="mono" data-testid="agents-cell-job-number">${a.job_number}</td>
            <td data-testid="agents-cell-leader" data-leader=${a.leader ? 'true' : 'false'}>
              ${a.leader ? html`<span class="tag tag-on">${t('common.yes')}</span>` : t('common.no')}
            </td>
            <td class="mono" data-testid="agents-cell-extension">${a.extension}</td>
            <${PasswordCell}
              agent=${a}
              revealed=${revealed.get(a.id)}
              busy=${revealing === a.id}
              onToggle=${() => onReveal(a)}
            />
            <td data-testid="agents-cell-type" data-type=${a.extension_type}>${extensionTypeLabel(a.extension_type)}</td>
            <td data-testid="agents-cell-queues">
              ${Array.isArray(a.queues) && a.queues.length
                ? html`<span class="queue-list">
                    ${[...a.queues].sort(byNumber).map((q) => html`<span key=${q} class="tag" data-queue=${q}>${queueLabel(q, queueNames)}</span>`)}
                  </span>`
                : html`<span class="muted">${t('agents.noQueue')}</span>`}
            </td>
            <td class="actions-col">
              <div class="row-actions">
                <button type="button" class="btn btn-default btn-sm" onClick=${() => onEdit(a)} data-testid="agent-edit" aria-label=${t('agents.editOf', { name: a.name })}>
                  <${Icon} name="edit" size=${13} /><span>${t('common.edit')}</span>
                </button>
                <button type="button" class="btn btn-danger-ghost btn-sm" onClick=${() => onDelete(a)} data-testid="agent-delete" aria-label=${t('agents.deleteOf', { name: a.name })}>
                  <${Icon} name="trash" size=${13} /><span>${t('common.delete')}</span>
                </button>
              </div>
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

// ---- the page ------------------------------------------------------------------------

export function AgentsPage() {
  const [agents, setAgents] = useState(null);
  const [queueNames, setQueueNames] = useState(new Map());
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [form, setForm] = useState(null); // { agent: null (new) | agent, key }
  const [deleting, setDeleting] = useState(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState('');
  const [revealed, setRevealed] = useState(new Map());
  const [revealing, setRevealing] = useState(null);
  const formKey = useRef(0);

  async function load() {
    setLoading(true);
    setError('');
    const [a, q] = await Promise.allSettled([api.agents(), api.queues()]);
    if (a.status === 'fulfilled') {
      setAgents(Array.isArray(a.value) ? a.value : []);
    } else if (!isAuthRedirect(a.reason)) {
      setError(a.reason.message);
    }
    if (q.status === 'fulfilled' && q.value && Array.isArray(q.value.queues)) {
      setQueueNames(new Map(q.value.queues.map((x) => [x.queue, x.name])));
    }
    setLoading(false);
  }
  useEffect(() => {
    load();
  }, []);

  function openForm(agent) {
    formKey.current += 1;
    setNotice('');
    setForm({ agent, key: formKey.current });
  }

  function saved(agent) {
    const editing = Boolean(form && form.agent);
    setForm(null);
    setNotice(
      editing
        ? t('agents.updated', { name: agent.name })
        : t('agents.created', { name: agent.name, job: agent.job_number }),
    );
    if (editing) {
      setRevealed((m) => {
        const next = new Map(m);
        next.delete(agent.id);
        return next;
      });
    }
    load();
  }

  async function reveal(agent) {
    if (revealed.has(agent.id)) {
      const next = new Map(revealed);
      next.delete(agent.id);
      setRevealed(next);
      return;
    }
    setRevealing(agent.id);
    setError('');
    try {
      const r = await api.agentPassword(agent.id);
      setRevealed((m) => new Map(m).set(agent.id, String((r && r.password) || '')));
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setRevealing(null);
  }

  function askDelete(agent) {
    setNotice('');
    setDeleteError('');
    setDeleting(agent);
  }

  async function confirmDelete() {
    const agent = deleting;
    if (!agent) return;
    setDeleteBusy(true);
    setDeleteError('');
    try {
      await api.deleteAgent(agent.id);
      setDeleting(null);
      setNotice(t('agents.deleted', { name: agent.name }));
      load();
    } catch (err) {
      if (!isAuthRedirect(err)) setDeleteError(err.message);
    }
    setDeleteBusy(false);
  }

  const actions = html`
    <button type="button" class="btn btn-default" onClick=${load} disabled=${loading} data-testid="agents-refresh">
      <${Icon} name="refresh" size=${15} /><span>${t('common.refresh')}</span>
    </button>
    <button type="button" class="btn btn-primary" onClick=${() => openForm(null)} data-testid="agent-create" id="agent-create">
      <${Icon} name="plus" size=${15} /><span>${t('agents.create')}</span>
    </button>
  `;

  return html`<div class="page" data-testid="agents-page">
    <${PageHeader} title=${t('nav.agents')} description=${t('agents.desc')} actions=${actions} />
    <${Alert} kind="error" testid="agents-error">${error}<//>
    <${Alert} kind="success" testid="agents-notice">${notice}<//>
    <${Card} class="card-flush" testid="agents-card">
      ${agents === null
        ? html`<div class="card-pad">${loading ? html`<${Spinner} />` : null}</div>`
        : html`<${AgentTable}
            agents=${agents}
            queueNames=${queueNames}
            revealed=${revealed}
            revealing=${revealing}
            onReveal=${reveal}
            onEdit=${openForm}
            onDelete=${askDelete}
          />`}
    <//>

    <${Modal}
      open=${Boolean(form)}
      onClose=${() => setForm(null)}
      labelledBy="agent-form-title"
      testid="agent-dialog"
      wide=${true}
    >
      ${form &&
      html`<${AgentForm} key=${form.key} agent=${form.agent} onSaved=${saved} onCancel=${() => setForm(null)} />`}
    <//>

    <${ConfirmDialog}
      open=${Boolean(deleting)}
      testid="agent-delete-confirm"
      title=${t('agents.delete.title')}
      message=${deleting &&
      t('agents.delete.message', { name: deleting.name, job: deleting.job_number, ext: deleting.extension })}
      confirmLabel=${t('common.delete')}
      busy=${deleteBusy}
      error=${deleteError}
      onConfirm=${confirmDelete}
      onCancel=${() => setDeleting(null)}
    />
  </div>`;
}
