// 管理员 → 设置 (manual §2, fig. 2.2): 管理员密码修改, 连接管理平台, 控制台访问.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { Icon } from '../components/icons.js';
import { PasswordForm } from '../components/password-form.js';
import { Alert, Card, PageHeader, Spinner } from '../components/ui.js';

function PlatformSetting() {
  const [enabled, setEnabled] = useState(null); // null until loaded
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);

  async function load() {
    setError('');
    try {
      const s = await api.accountSettings();
      setEnabled(Boolean(s && s.platform_enabled));
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
  }
  useEffect(() => {
    load();
  }, []);

  async function toggle() {
    if (busy || enabled === null) return;
    const want = !enabled;
    setBusy(true);
    setSaved(false);
    setError('');
    try {
      const s = await api.saveAccountSettings({ platform_enabled: want });
      setEnabled(Boolean(s && s.platform_enabled));
      setSaved(true);
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setBusy(false);
  }

  if (enabled === null && !error) return html`<${Spinner} />`;

  return html`<div class="setting-block">
    <${Alert} kind="error" testid="platform-error">${error}<//>
    ${enabled === null
      ? html`<button type="button" class="btn btn-default" onClick=${load}>${t('common.retry')}</button>`
      : html`<div class="setting-row">
          <div class="setting-text">
            <span class="setting-label" id="platform-label">${t('settings.platform.label')}</span>
            <span class=${enabled ? 'tag tag-on' : 'tag'} data-testid="platform-state">
              ${busy ? t('settings.platform.saving') : enabled ? t('settings.platform.on') : t('settings.platform.off')}
            </span>
          </div>
          <button
            type="button"
            role="switch"
            class="switch"
            id="platform-switch"
            data-testid="platform-switch"
            aria-checked=${enabled ? 'true' : 'false'}
            aria-labelledby="platform-label"
            disabled=${busy}
            onClick=${toggle}
          ><span class="switch-knob"></span></button>
        </div>`}
    ${saved && html`<p class="saved-note" role="status" data-testid="platform-saved">${t('settings.platform.saved')}</p>`}
  </div>`;
}

export function SettingsPage() {
  return html`<div class="page page-narrow" data-testid="settings-page">
    <${PageHeader} title=${t('page.settings')} eyebrow=${t('menu.admin')} />
    <div class="stack">
      <${Card} title=${t('pw.title')} description=${t('pw.desc')} testid="card-password">
        <div class="narrow"><${PasswordForm} /></div>
      <//>
      <${Card} title=${t('settings.platform.title')} description=${t('settings.platform.desc')} testid="card-platform">
        <${PlatformSetting} />
      <//>
      <${Card} title=${t('settings.console.title')} description=${t('settings.console.desc')} testid="card-console">
        <button
          type="button"
          class="btn btn-default"
          id="console-start"
          data-testid="console-start"
          onClick=${() => navigate('/console')}
        >
          <${Icon} name="terminal" size=${16} />
          <span>${t('settings.console.start')}</span>
        </button>
      <//>
    </div>
  </div>`;
}
