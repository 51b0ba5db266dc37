// Small shared building blocks: alerts, form fields, status badge, language switch,
// page header, cards.

import { html } from 'htm/preact';
import { LANGS, getLang, setLang, t } from '../i18n.js';
import { Icon } from './icons.js';

const ALERT_ICON = { error: 'alert', success: 'check', info: 'info' };

export function Alert({ kind = 'info', testid, children }) {
  if (!children) return null;
  return html`<div
    class=${`alert alert-${kind}`}
    role=${kind === 'error' ? 'alert' : 'status'}
    data-testid=${testid}
  >
    <${Icon} name=${ALERT_ICON[kind]} size=${16} class="alert-icon" />
    <div class="alert-text">${children}</div>
  </div>`;
}

/**
 * The frame of one form field: label (with the red * of a required field, as in the
 * manual's forms), the control(s) given as children, a hint and the field's own error
 * (the server's message for `error.field`). The control should carry `aria-describedby`
 * from `describedBy(id, hint, error)`.
 */
export function FieldShell({ id, label, required, hint, error, children, class: cls = '' }) {
  return html`<div class=${['field', error && 'has-error', cls].filter(Boolean).join(' ')}>
    <label class="field-label" for=${id}>
      ${label}${required && html`<span class="req" aria-hidden="true">*</span>`}
    </label>
    ${children}
    ${hint && html`<p class="field-hint" id=${`${id}-hint`}>${hint}</p>`}
    ${error && html`<p class="field-error" id=${`${id}-error`} data-testid=${`${id}-error`} role="alert">${error}</p>`}
  </div>`;
}

/** The ids of a field's hint and error, for aria-describedby. */
export function describedBy(id, hint, error) {
  return [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
}

/** A labelled input. `icon` puts a glyph inside the input on the left. */
export function Field({
  id,
  label,
  type = 'text',
  value,
  onInput,
  autocomplete,
  icon,
  hint,
  inputRef,
  disabled,
  required,
  error,
  maxLength,
}) {
  return html`<${FieldShell} id=${id} label=${label} required=${required} hint=${hint} error=${error}>
    <div class=${icon ? 'input-wrap has-icon' : 'input-wrap'}>
      ${icon && html`<${Icon} name=${icon} size=${16} class="input-icon" />`}
      <input
        id=${id}
        name=${id}
        data-testid=${id}
        class="input"
        type=${type}
        value=${value}
        autocomplete=${autocomplete}
        ref=${inputRef}
        disabled=${disabled}
        maxLength=${maxLength}
        spellcheck=${false}
        aria-required=${required ? 'true' : undefined}
        aria-invalid=${error ? 'true' : undefined}
        aria-describedby=${describedBy(id, hint, error)}
        onInput=${(e) => onInput(e.currentTarget.value)}
      />
    </div>
  <//>`;
}

const STATUSES = ['idle', 'busy', 'ringing', 'on_hold', 'offline', 'unknown'];

/** An agent's device state in the six words of 监控显示 (空闲, 设备忙, 响铃, 保持, 离线, 未知). */
export function StatusBadge({ status, testid = 'agent-status' }) {
  const s = STATUSES.includes(status) ? status : 'unknown';
  return html`<span class=${`badge badge-${s}`} data-testid=${testid} data-status=${s}>
    <span class="badge-dot" aria-hidden="true"></span>${t(`status.${s}`)}
  </span>`;
}

/** 中文 / English segmented switch. `tone` is 'dark' on the top bar. */
export function LangSwitch({ tone = 'light' }) {
  const lang = getLang();
  return html`<div class=${`seg seg-${tone}`} role="group" aria-label=${t('lang.label')} data-testid="lang-switch">
    ${LANGS.map(
      (l) => html`<button
        type="button"
        class="seg-btn"
        lang=${l === 'en' ? 'en' : 'zh-CN'}
        aria-pressed=${lang === l ? 'true' : 'false'}
        data-testid=${`lang-${l}`}
        id=${`lang-${l}`}
        onClick=${() => setLang(l)}
      >${t(`lang.${l}`)}</button>`,
    )}
  </div>`;
}

export function PageHeader({ title, eyebrow, description, actions }) {
  return html`<header class="page-header">
    <div class="page-header-text">
      ${eyebrow && html`<div class="page-eyebrow">${eyebrow}</div>`}
      <h1 class="page-title" id="page-title" data-testid="page-title">${title}</h1>
      ${description && html`<p class="page-desc">${description}</p>`}
    </div>
    ${actions && html`<div class="page-actions">${actions}</div>`}
  </header>`;
}

/** A titled panel; `actions` (buttons) sit at the right of the title. */
export function Card({ title, description, actions, children, testid, class: cls = '' }) {
  return html`<section class=${'card ' + cls} data-testid=${testid}>
    ${title &&
    html`<div class=${actions ? 'card-head has-actions' : 'card-head'}>
      <div class="card-head-text">
        <h2 class="card-title">${title}</h2>
        ${description && html`<p class="card-desc">${description}</p>`}
      </div>
      ${actions && html`<div class="card-actions">${actions}</div>`}
    </div>`}
    <div class="card-body">${children}</div>
  </section>`;
}

export function Spinner({ label }) {
  return html`<div class="loading" role="status">
    <span class="spinner" aria-hidden="true"></span>
    <span>${label || t('common.loading')}</span>
  </div>`;
}
