// 邮件通知 (manual §9.2): when the system disk or a USB disk has less free space than the
// threshold, a mail goes to the recipients (once per crossing, and once when it recovers).
// The form: 开启, SMTP 服务器, 端口, 加密方式, 用户名, 密码 (write-only: the server only says
// whether one is set; left empty it is kept), 发件人, 收件人 (one per line, or separated by
// commas), 剩余空间阈值 (% or MB). 测试 sends a test mail with the form as it is (saved or
// not) and shows the SMTP server's answer, or why it failed.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { Icon } from '../components/icons.js';
import { Alert, Card, FieldShell, PageHeader, Spinner, describedBy } from '../components/ui.js';

const SECURITY = ['starttls', 'tls', 'none'];
const DEFAULT_PORTS = { starttls: 587, tls: 465, none: 25 };

const IDS = {
  enabled: 'mail-enabled',
  host: 'mail-host',
  port: 'mail-port',
  security: 'mail-security',
  username: 'mail-username',
  password: 'mail-password',
  sender: 'mail-sender',
  recipients: 'mail-recipients',
  threshold: 'mail-threshold',
};

function fromServer(s) {
  return {
    enabled: Boolean(s.enabled),
    host: s.host || '',
    port: String(s.port || DEFAULT_PORTS.starttls),
    security: SECURITY.includes(s.security) ? s.security : 'starttls',
    username: s.username || '',
    password: '',
    sender: s.sender || '',
    recipients: (s.recipients || []).join('\n'),
    thresholdValue: String((s.threshold && s.threshold.value) || 10),
    thresholdUnit: (s.threshold && s.threshold.unit) || 'percent',
  };
}

function MailForm({ initial, passwordSet, onSaved }) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(null); // 'save' | 'test'
  const [saved, setSaved] = useState('');
  const [testResult, setTestResult] = useState(null); // { ok, text }
  const formRef = useRef(null);

  function set(key, value) {
    setValues((v) => {
      const next = { ...v, [key]: value };
      // Switching security moves a default port along with it.
      if (key === 'security' && String(DEFAULT_PORTS[v.security]) === v.port) next.port = String(DEFAULT_PORTS[value]);
      return next;
    });
    const errorKey = key.startsWith('threshold') ? 'threshold' : key;
    if (errors[errorKey]) setErrors((e) => ({ ...e, [errorKey]: '' }));
    setSaved('');
  }

  function body() {
    const b = {
      enabled: values.enabled,
      host: values.host.trim(),
      port: Number(values.port),
      security: values.security,
      username: values.username.trim(),
      sender: values.sender.trim(),
      recipients: values.recipients
        .split(/[\n,，;；]/)
        .map((r) => r.trim())
        .filter(Boolean),
      threshold: { unit: values.thresholdUnit, value: Number(values.thresholdValue) },
    };
    if (values.password !== '') b.password = values.password;
    return b;
  }

  function localCheck() {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { port: t('mail.portNumber') };
    const v = Number(values.thresholdValue);
    if (!Number.isInteger(v) || v < 1) return { threshold: t('mail.thresholdNumber') };
    return null;
  }

  function showRefusal(err) {
    if (err.field && IDS[err.field]) {
      setErrors({ [err.field]: err.message });
      requestAnimationFrame(() => {
        const el = formRef.current && formRef.current.querySelector(`#${IDS[err.field]}`);
        if (el) el.focus();
      });
    } else {
      setFormError(err.message);
    }
  }

  async function save(e) {
    e.preventDefault();
    if (busy) return;
    setFormError('');
    setTestResult(null);
    const local = localCheck();
    if (local) return setErrors(local);
    setErrors({});
    setBusy('save');
    try {
      const s = await api.saveMailSettings(body());
      setValues((v) => ({ ...v, password: '' }));
      setSaved(t('mail.saved'));
      onSaved(s);
    } catch (err) {
      if (!isAuthRedirect(err)) showRefusal(err);
    }
    setBusy(null);
  }

  async function test() {
    if (busy) return;
    setFormError('');
    setTestResult(null);
    setSaved('');
    const local = localCheck();
    if (local) return setErrors(local);
    setErrors({});
    setBusy('test');
    try {
      const answer = await api.testMail(body());
      const said = [answer.code, ...(answer.message || [])].join(' ');
      setTestResult({ ok: true, text: t('mail.testOk', { answer: said }) });
    } catch (err) {
      if (isAuthRedirect(err)) return;
      if (err.status === 400) showRefusal(err);
      else setTestResult({ ok: false, text: err.message });
    }
    setBusy(null);
  }

  const passwordHint = passwordSet ? t('mail.passwordKeep') : undefined;
  const field = (key, label, input, { required, hint } = {}) =>
    html`<${FieldShell} id=${IDS[key]} label=${label} required=${required} hint=${hint} error=${errors[key]}>${input}<//>`;
  const textInput = (key, { type = 'text', autocomplete = 'off', placeholder, extra = {} } = {}) => html`<input
    id=${IDS[key]}
    data-testid=${IDS[key]}
    class="input"
    type=${type}
    autocomplete=${autocomplete}
    spellcheck=${false}
    placeholder=${placeholder}
    value=${values[key]}
    aria-invalid=${errors[key] ? 'true' : undefined}
    aria-describedby=${describedBy(IDS[key], key === 'password' ? passwordHint : null, errors[key])}
    onInput=${(e) => set(key, e.currentTarget.value)}
    ...${extra}
  />`;

  return html`<form class="mail-form" ref=${formRef} onSubmit=${save} noValidate data-testid="mail-form">
    <${Alert} kind="error" testid="mail-form-error">${formError}<//>
    <div class="field">
      <label class="check" for=${IDS.enabled}>
        <input
          id=${IDS.enabled}
          data-testid=${IDS.enabled}
          type="checkbox"
          checked=${values.enabled}
          onChange=${(e) => set('enabled', e.currentTarget.checked)}
        />
        <span>${t('mail.enabled')}</span>
      </label>
    </div>
    <div class="form-grid">
      ${field('host', t('mail.host'), textInput('host', { placeholder: 'smtp.example.com' }), { required: true })}
      <div class="form-grid">
        ${field('port', t('mail.port'), textInput('port', { type: 'number', extra: { min: 1, max: 65535 } }), { required: true })}
        ${field(
          'security',
          t('mail.security'),
          html`<select
            id=${IDS.security}
            data-testid=${IDS.security}
            class="input select"
            value=${values.security}
            onChange=${(e) => set('security', e.currentTarget.value)}
          >
            ${SECURITY.map((s) => html`<option key=${s} value=${s}>${t(`mail.security.${s}`)}</option>`)}
          </select>`,
        )}
      </div>
      ${field('username', t('mail.username'), textInput('username', { autocomplete: 'username' }))}
      ${field(
        'password',
        t('mail.password'),
        textInput('password', {
          type: 'password',
          autocomplete: 'new-password',
          placeholder: passwordSet ? t('mail.passwordUnchanged') : '',
        }),
        { hint: passwordHint },
      )}
      ${field('sender', t('mail.sender'), textInput('sender', { placeholder: 'callcenter@example.com' }), { required: true })}
      ${field(
        'threshold',
        t('mail.threshold'),
        html`<div class="input-row">
          <input
            id=${IDS.threshold}
            data-testid=${IDS.threshold}
            class="input mono-input"
            type="number"
            min="1"
            value=${values.thresholdValue}
            aria-invalid=${errors.threshold ? 'true' : undefined}
            aria-describedby=${describedBy(IDS.threshold, t('mail.thresholdHint'), errors.threshold)}
            onInput=${(e) => set('thresholdValue', e.currentTarget.value)}
          />
          <select
            class="input select unit-select"
            data-testid="mail-threshold-unit"
            aria-label=${t('mail.thresholdUnit')}
            value=${values.thresholdUnit}
            onChange=${(e) => set('thresholdUnit', e.currentTarget.value)}
          >
            <option value="percent">%</option>
            <option value="mb">MB</option>
          </select>
        </div>`,
        { required: true, hint: t('mail.thresholdHint') },
      )}
    </div>
    ${field(
      'recipients',
      t('mail.recipients'),
      html`<textarea
        id=${IDS.recipients}
        data-testid=${IDS.recipients}
        class="input textarea"
        rows="3"
        spellcheck=${false}
        placeholder="admin@example.com"
        value=${values.recipients}
        aria-invalid=${errors.recipients ? 'true' : undefined}
        aria-describedby=${describedBy(IDS.recipients, t('mail.recipientsHint'), errors.recipients)}
        onInput=${(e) => set('recipients', e.currentTarget.value)}
      ></textarea>`,
      { required: true, hint: t('mail.recipientsHint') },
    )}
    ${testResult &&
    html`<${Alert} kind=${testResult.ok ? 'success' : 'error'} testid="mail-test-result">${testResult.text}<//>`}
    ${saved && html`<p class="saved-note" role="status" data-testid="mail-saved">${saved}</p>`}
    <div class="form-actions">
      <button type="button" class="btn btn-default" onClick=${test} disabled=${Boolean(busy)} data-testid="mail-test">
        <${Icon} name="check" size=${15} /><span>${busy === 'test' ? t('mail.testing') : t('mail.test')}</span>
      </button>
      <button type="submit" class="btn btn-primary" disabled=${Boolean(busy)} data-testid="mail-save">
        ${busy === 'save' ? t('common.saving') : t('common.save')}
      </button>
    </div>
  </form>`;
}

export function MailPage() {
  const [settings, setSettings] = useState(null);
  const [error, setError] = useState('');
  const [version, setVersion] = useState(0);

  async function load() {
    setError('');
    try {
      setSettings(await api.mailSettings());
      setVersion((v) => v + 1);
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
  }
  useEffect(() => {
    load();
  }, []);

  return html`<div class="page page-narrow" data-testid="mail-page">
    <${PageHeader} title=${t('nav.mail')} eyebrow=${t('nav.advanced')} description=${t('mail.desc')} />
    <${Alert} kind="error" testid="mail-error">${error}<//>
    <${Card} testid="mail-card">
      ${settings
        ? html`<${MailForm}
            key=${version}
            initial=${fromServer(settings)}
            passwordSet=${Boolean(settings.password_set)}
            onSaved=${(s) => setSettings(s)}
          />`
        : !error && html`<${Spinner} />`}
    <//>
  </div>`;
}
