// Login (manual §1, fig. 1.2): user name, password, 登录. Errors (bad login 401,
// lock-out 429) are the server's messages, shown as they come. Agents log in here too,
// with their job number or extension and the extension's password; the answer's `role`
// (admin, agent, leader) decides which frame opens.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { Logo } from '../components/icons.js';
import { Alert, Field, LangSwitch } from '../components/ui.js';

export function LoginPage({ notice, onLoggedIn }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const userRef = useRef(null);
  const passRef = useRef(null);

  useEffect(() => {
    document.title = `${t('login.title')} · ${t('app.name')}`;
  });
  useEffect(() => {
    if (userRef.current) userRef.current.focus();
  }, []);

  async function submit(e) {
    e.preventDefault();
    if (busy) return;
    const u = username.trim();
    if (!u || !password) {
      setError(t('login.required'));
      return;
    }
    setError('');
    setBusy(true);
    try {
      const res = await api.login(u, password);
      onLoggedIn({ username: u, mustChange: Boolean(res && res.must_change_password), role: res && res.role });
    } catch (err) {
      setBusy(false);
      setPassword('');
      setError(err.message);
      if (passRef.current) passRef.current.focus();
    }
  }

  return html`<div class="auth-screen" data-testid="login-page">
    <div class="auth-top">
      <${LangSwitch} tone="dark" />
    </div>
    <main class="auth-main">
      <div class="auth-card">
        <div class="auth-brand">
          <${Logo} size=${40} />
          <div>
            <div class="auth-product" data-testid="product-name">${t('app.name')}</div>
            <div class="auth-sub">${t('app.console')}</div>
          </div>
        </div>
        <h1 class="auth-title">${t('login.title')}</h1>
        <p class="auth-lead">${t('login.subtitle')}</p>
        <form class="form" onSubmit=${submit} noValidate>
          ${notice && !error && html`<${Alert} kind="info" testid="login-notice">${notice}<//>`}
          <${Alert} kind="error" testid="login-error">${error}<//>
          <${Field}
            id="login-username"
            label=${t('login.username')}
            icon="user"
            autocomplete="username"
            value=${username}
            onInput=${setUsername}
            inputRef=${userRef}
          />
          <${Field}
            id="login-password"
            label=${t('login.password')}
            icon="lock"
            type="password"
            autocomplete="current-password"
            value=${password}
            onInput=${setPassword}
            inputRef=${passRef}
          />
          <button
            type="submit"
            id="login-submit"
            data-testid="login-submit"
            class="btn btn-primary btn-block btn-lg"
            disabled=${busy}
          >${busy ? t('login.submitting') : t('login.submit')}</button>
        </form>
      </div>
    </main>
  </div>`;
}
