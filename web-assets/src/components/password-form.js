// Old / new / confirm password form, used by the forced change screen and by
// 设置 → 管理员密码修改. The client only checks that the fields are filled and that
// the confirmation matches; strength rules are the server's, and its message is shown.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { Alert, Field } from './ui.js';

export function PasswordForm({ submitLabel, onChanged, block = false }) {
  const [oldPw, setOldPw] = useState('');
  const [newPw, setNewPw] = useState('');
  const [confirmPw, setConfirmPw] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);

  async function submit(e) {
    e.preventDefault();
    if (busy) return;
    setDone(false);
    if (!oldPw || !newPw || !confirmPw) return setError(t('pw.required'));
    if (newPw !== confirmPw) return setError(t('pw.mismatch'));
    setError('');
    setBusy(true);
    try {
      await api.changePassword(oldPw, newPw);
      setOldPw('');
      setNewPw('');
      setConfirmPw('');
      setDone(true);
      setBusy(false);
      if (onChanged) onChanged();
    } catch (err) {
      setBusy(false);
      if (!isAuthRedirect(err)) setError(err.message);
    }
  }

  return html`<form class="form" onSubmit=${submit} noValidate data-testid="password-form">
    <${Alert} kind="error" testid="pw-error">${error}<//>
    <${Alert} kind="success" testid="pw-success">${done && t('pw.success')}<//>
    <${Field}
      id="pw-old"
      label=${t('pw.old')}
      type="password"
      autocomplete="current-password"
      value=${oldPw}
      onInput=${setOldPw}
    />
    <${Field}
      id="pw-new"
      label=${t('pw.new')}
      type="password"
      autocomplete="new-password"
      value=${newPw}
      onInput=${setNewPw}
      hint=${t('pw.hint')}
    />
    <${Field}
      id="pw-confirm"
      label=${t('pw.confirm')}
      type="password"
      autocomplete="new-password"
      value=${confirmPw}
      onInput=${setConfirmPw}
    />
    <div class="form-actions">
      <button
        type="submit"
        id="pw-submit"
        data-testid="pw-submit"
        class=${block ? 'btn btn-primary btn-block' : 'btn btn-primary'}
        disabled=${busy}
      >${busy ? t('pw.submitting') : submitLabel || t('pw.submit')}</button>
    </div>
  </form>`;
}
