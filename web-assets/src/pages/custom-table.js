// 自定义表 (manual §9.3, fig. 9.3.1 and the 新建表属性 form): the CRM's attribute
// definitions, listed by 优先级 (lower first), with 属性名, 类型, 属性值, 优先级, 备注, 显示 and
// 操作 (编辑, 删除 after a confirmation).
//
// 属性值 is typed as in the manual's figure, "1,2" (a Chinese comma works too) and is only
// offered for 单选, 多项 and 选择; the server refuses options for the other types and
// requires them for those three. Every refusal is shown next to the field it names.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { ConfirmDialog, Modal } from '../components/dialog.js';
import { Icon } from '../components/icons.js';
import { Alert, Card, FieldShell, PageHeader, Spinner, describedBy } from '../components/ui.js';

export const FIELD_KINDS = ['input', 'radio', 'checkbox', 'select', 'date', 'time', 'text'];
const KINDS_WITH_OPTIONS = ['radio', 'checkbox', 'select'];

const FIELD_IDS = {
  name: 'cf-form-name',
  kind: 'cf-form-kind',
  options: 'cf-form-options',
  priority: 'cf-form-priority',
  remark: 'cf-form-remark',
  visible: 'cf-form-visible',
};

export function kindLabel(kind) {
  return FIELD_KINDS.includes(kind) ? t(`cf.kind.${kind}`) : kind;
}

/** "1, 2，3" → ['1', '2', '3'] (empty items are kept so the server can name them). */
function splitOptions(text) {
  if (!text.trim()) return [];
  return text.split(/[,，]/).map((s) => s.trim());
}

function CustomFieldForm({ field, onSaved, onCancel }) {
  const editing = Boolean(field);
  const [values, setValues] = useState(() => ({
    name: field ? field.name : '',
    kind: field ? field.kind : 'input',
    options: field ? field.options.join(',') : '',
    priority: field ? String(field.priority) : '0',
    remark: field ? field.remark : '',
    visible: field ? Boolean(field.visible) : true,
  }));
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  const takesOptions = KINDS_WITH_OPTIONS.includes(values.kind);

  function set(key, value) {
    setValues((v) => ({ ...v, [key]: value }));
    if (errors[key]) setErrors((e) => ({ ...e, [key]: '' }));
  }

  function focusField(key) {
    requestAnimationFrame(() => {
      const el = formRef.current && formRef.current.querySelector(`#${FIELD_IDS[key]}`);
      if (el) el.focus();
    });
  }

  async function submit(e) {
    e.preventDefault();
    if (busy) return;
    setFormError('');
    if (!values.name.trim()) {
      setErrors({ name: t('form.required') });
      focusField('name');
      return;
    }
    const priority = Number(values.priority);
    if (values.priority.trim() === '' || !Number.isInteger(priority)) {
      setErrors({ priority: t('cf.form.priorityNumber') });
      focusField('priority');
      return;
    }
    const body = {
      name: values.name.trim(),
      kind: values.kind,
      // Options typed for a type that takes none are sent anyway: the server says why not.
      options: takesOptions || values.options.trim() ? splitOptions(values.options) : [],
      priority,
      remark: values.remark,
      visible: values.visible,
    };
    setErrors({});
    setBusy(true);
    try {
      const saved = editing ? await api.updateCustomField(field.id, body) : await api.createCustomField(body);
      setBusy(false);
      onSaved(saved || body);
    } catch (err) {
      setBusy(false);
      if (isAuthRedirect(err)) return;
      if (err.field && FIELD_IDS[err.field]) {
        setErrors({ [err.field]: err.message });
        focusField(err.field);
      } else {
        setFormError(err.message);
      }
    }
  }

  const optionsHint = takesOptions ? t('cf.form.optionsHint') : t('cf.form.optionsNone');
  return html`<form class="dialog-body" ref=${formRef} onSubmit=${submit} noValidate data-testid="cf-form">
    <div class="dialog-head">
      <span class="dialog-icon dialog-icon-info"><${Icon} name="edit" size=${20} /></span>
      <h2 class="dialog-title" id="cf-form-title">${editing ? t('cf.form.editTitle') : t('cf.form.createTitle')}</h2>
    </div>
    <p class="form-legend"><span class="req" aria-hidden="true">*</span> ${t('form.requiredLegend')}</p>
    <${Alert} kind="error" testid="cf-form-error">${formError}<//>
    <div class="form-grid">
      <${FieldShell} id=${FIELD_IDS.name} label=${t('cf.col.name')} required=${true} error=${errors.name}>
        <input
          id=${FIELD_IDS.name}
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
      <${FieldShell} id=${FIELD_IDS.kind} label=${t('cf.col.kind')} required=${true} error=${errors.kind}>
        <select
          id=${FIELD_IDS.kind}
          data-testid=${FIELD_IDS.kind}
          class="input select"
          value=${values.kind}
          aria-invalid=${errors.kind ? 'true' : undefined}
          aria-describedby=${describedBy(FIELD_IDS.kind, null, errors.kind)}
          onChange=${(e) => set('kind', e.currentTarget.value)}
        >
          ${FIELD_KINDS.map((k) => html`<option key=${k} value=${k}>${t(`cf.kind.${k}`)}</option>`)}
        </select>
      <//>
    </div>
    <${FieldShell}
      id=${FIELD_IDS.options}
      label=${t('cf.col.options')}
      required=${takesOptions}
      hint=${optionsHint}
      error=${errors.options}
    >
      <input
        id=${FIELD_IDS.options}
        data-testid=${FIELD_IDS.options}
        class="input"
        type="text"
        autocomplete="off"
        placeholder=${takesOptions ? '1,2' : ''}
        value=${values.options}
        aria-required=${takesOptions ? 'true' : undefined}
        aria-invalid=${errors.options ? 'true' : undefined}
        aria-describedby=${describedBy(FIELD_IDS.options, optionsHint, errors.options)}
        onInput=${(e) => set('options', e.currentTarget.value)}
      />
    <//>
    <div class="form-grid">
      <${FieldShell} id=${FIELD_IDS.priority} label=${t('cf.col.priority')} required=${true} hint=${t('cf.form.priorityHint')} error=${errors.priority}>
        <input
          id=${FIELD_IDS.priority}
          data-testid=${FIELD_IDS.priority}
          class="input mono-input"
          type="number"
          min="0"
          max="9999"
          step="1"
          value=${values.priority}
          aria-required="true"
          aria-invalid=${errors.priority ? 'true' : undefined}
          aria-describedby=${describedBy(FIELD_IDS.priority, t('cf.form.priorityHint'), errors.priority)}
          onInput=${(e) => set('priority', e.currentTarget.value)}
        />
      <//>
      <${FieldShell} id=${FIELD_IDS.remark} label=${t('cf.col.remark')} error=${errors.remark}>
        <input
          id=${FIELD_IDS.remark}
          data-testid=${FIELD_IDS.remark}
          class="input"
          type="text"
          autocomplete="off"
          maxLength=${200}
          value=${values.remark}
          aria-invalid=${errors.remark ? 'true' : undefined}
          aria-describedby=${describedBy(FIELD_IDS.remark, null, errors.remark)}
          onInput=${(e) => set('remark', e.currentTarget.value)}
        />
      <//>
    </div>
    <div class="field">
      <label class="check" for=${FIELD_IDS.visible}>
        <input
          id=${FIELD_IDS.visible}
          data-testid=${FIELD_IDS.visible}
          type="checkbox"
          checked=${values.visible}
          onChange=${(e) => set('visible', e.currentTarget.checked)}
        />
        <span>${t('cf.form.visible')}</span>
      </label>
    </div>
    <div class="dialog-actions">
      <button type="button" class="btn btn-default" onClick=${onCancel} disabled=${busy} data-testid="cf-form-cancel">
        ${t('common.cancel')}
      </button>
      <button type="submit" class="btn btn-primary" disabled=${busy} data-testid="cf-form-submit">
        ${busy ? t('common.saving') : editing ? t('common.save') : t('common.submit')}
      </button>
    </div>
  </form>`;
}

function FieldTable({ fields, onEdit, onDelete }) {
  if (!fields.length) return html`<p class="muted-note" data-testid="cf-none">${t('cf.none')}</p>`;
  return html`<div class="table-wrap">
    <table class="table" data-testid="cf-table">
      <thead>
        <tr>
          <th scope="col">${t('cf.col.name')}</th>
          <th scope="col">${t('cf.col.kind')}</th>
          <th scope="col">${t('cf.col.options')}</th>
          <th scope="col">${t('cf.col.priority')}</th>
          <th scope="col">${t('cf.col.remark')}</th>
          <th scope="col">${t('cf.col.visible')}</th>
          <th scope="col" class="actions-col">${t('cf.col.actions')}</th>
        </tr>
      </thead>
      <tbody>
        ${fields.map(
          (f) => html`<tr key=${f.id} data-testid="cf-row" data-field-id=${String(f.id)} data-name=${f.name}>
            <td data-testid="cf-cell-name">${f.name}</td>
            <td data-testid="cf-cell-kind" data-kind=${f.kind}>${kindLabel(f.kind)}</td>
            <td data-testid="cf-cell-options">
              ${f.options.length
                ? html`<span class="queue-list">${f.options.map((o) => html`<span key=${o} class="tag">${o}</span>`)}</span>`
                : html`<span class="muted">–</span>`}
            </td>
            <td class="mono" data-testid="cf-cell-priority">${f.priority}</td>
            <td data-testid="cf-cell-remark">${f.remark || html`<span class="muted">–</span>`}</td>
            <td data-testid="cf-cell-visible" data-visible=${f.visible ? 'true' : 'false'}>
              ${f.visible ? html`<span class="tag tag-on">${t('common.yes')}</span>` : t('common.no')}
            </td>
            <td class="actions-col">
              <div class="row-actions">
                <button type="button" class="btn btn-default btn-sm" onClick=${() => onEdit(f)} data-testid="cf-edit" aria-label=${t('cf.editOf', { name: f.name })}>
                  <${Icon} name="edit" size=${13} /><span>${t('common.edit')}</span>
                </button>
                <button type="button" class="btn btn-danger-ghost btn-sm" onClick=${() => onDelete(f)} data-testid="cf-delete" aria-label=${t('cf.deleteOf', { name: f.name })}>
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

export function CustomTablePage() {
  const [fields, setFields] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [form, setForm] = useState(null); // { field: null (new) | field, key }
  const [deleting, setDeleting] = useState(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState('');
  const formKey = useRef(0);

  async function load() {
    setLoading(true);
    setError('');
    try {
      const list = await api.customFields();
      setFields(Array.isArray(list) ? list : []);
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setLoading(false);
  }
  useEffect(() => {
    load();
  }, []);

  function openForm(field) {
    formKey.current += 1;
    setNotice('');
    setForm({ field, key: formKey.current });
  }

  function saved(field) {
    const editing = Boolean(form && form.field);
    setForm(null);
    setNotice(t(editing ? 'cf.updated' : 'cf.created', { name: field.name }));
    load();
  }

  async function confirmDelete() {
    const field = deleting;
    if (!field) return;
    setDeleteBusy(true);
    setDeleteError('');
    try {
      await api.deleteCustomField(field.id);
      setDeleting(null);
      setNotice(t('cf.deleted', { name: field.name }));
      load();
    } catch (err) {
      if (!isAuthRedirect(err)) setDeleteError(err.message);
    }
    setDeleteBusy(false);
  }

  const actions = html`
    <button type="button" class="btn btn-default" onClick=${load} disabled=${loading} data-testid="cf-refresh">
      <${Icon} name="refresh" size=${15} /><span>${t('common.refresh')}</span>
    </button>
    <button type="button" class="btn btn-primary" onClick=${() => openForm(null)} data-testid="cf-create">
      <${Icon} name="plus" size=${15} /><span>${t('cf.create')}</span>
    </button>
  `;

  return html`<div class="page" data-testid="custom-table-page">
    <${PageHeader} title=${t('nav.customTable')} eyebrow=${t('nav.advanced')} description=${t('cf.desc')} actions=${actions} />
    <${Alert} kind="error" testid="cf-error">${error}<//>
    <${Alert} kind="success" testid="cf-notice">${notice}<//>
    <${Card} class="card-flush" testid="cf-card">
      ${fields === null
        ? html`<div class="card-pad">${loading ? html`<${Spinner} />` : null}</div>`
        : html`<${FieldTable} fields=${fields} onEdit=${openForm} onDelete=${(f) => {
            setNotice('');
            setDeleteError('');
            setDeleting(f);
          }} />`}
    <//>
    <${Modal} open=${Boolean(form)} onClose=${() => setForm(null)} labelledBy="cf-form-title" testid="cf-dialog" wide=${true}>
      ${form && html`<${CustomFieldForm} key=${form.key} field=${form.field} onSaved=${saved} onCancel=${() => setForm(null)} />`}
    <//>
    <${ConfirmDialog}
      open=${Boolean(deleting)}
      testid="cf-delete-confirm"
      title=${t('cf.delete.title')}
      message=${deleting && t('cf.delete.message', { name: deleting.name })}
      confirmLabel=${t('common.delete')}
      busy=${deleteBusy}
      error=${deleteError}
      onConfirm=${confirmDelete}
      onCancel=${() => setDeleting(null)}
    />
  </div>`;
}
