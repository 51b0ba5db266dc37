// The forced password change: after logging in with a password that must be
// changed (admin/admin), this is the only screen until the change succeeds.

import { html } from 'htm/preact';
import { useEffect } from 'preact/hooks';
import { t } from '../i18n.js';
import { Logo } from '../components/icons.js';
import { PasswordForm } from '../components/password-form.js';
import { Alert, LangSwitch } from '../components/ui.js';

export function ForcedPasswordPage({ onChanged, onLogout }) {
  useEffect(() => {
    document.title = `${t('pw.forced.title')} · ${t('app.name')}`;
  });

  return html`<div class="auth-screen" data-testid="forced-password-change">
    <div class="auth-top">
      <${LangSwitch} tone="dark" />
    </div>
    <main class="auth-main">
      <div class="auth-card auth-card-wide">
        <div class="auth-brand">
          <${Logo} size=${40} />
          <div>
            <div class="auth-product">${t('app.name')}</div>
            <div class="auth-sub">${t('app.console')}</div>
          </div>
        </div>
        <h1 class="auth-title" data-testid="page-title">${t('pw.forced.title')}</h1>
        <${Alert} kind="info" testid="forced-notice">${t('pw.forced.notice')}<//>
        <${PasswordForm} submitLabel=${t('pw.forced.submit')} onChanged=${onChanged} block=${true} />
        <div class="auth-foot">
          <button type="button" class="link-btn" data-testid="forced-logout" onClick=${onLogout}>${t('pw.logout')}</button>
        </div>
      </div>
    </main>
  </div>`;
}
