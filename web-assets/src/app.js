// The application shell: who is logged in, and which screen to show.
//
// Auth states:
//   checking     – GET /api/v1/session in flight (first load)
//   anon         – login page (#/login)
//   must_change  – forced password change (#/change-password), nothing else reachable
//   ready        – the console frame with the page of the current route; for an agent
//                  (role `agent` or `leader`) the agent frame with its own page, #/agent,
//                  and nothing else (the server refuses agents the admin API with 403)
//
// Any API answer 401 moves to `anon`; 403 `password_change_required` moves to
// `must_change` (handlers installed into api.js). A deep link opened while logged
// out (or when the session ends) is remembered and opened after the next login.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, setAuthHandlers } from './api.js';
import { t, useLang } from './i18n.js';
import { currentPath, navigate, useRoute } from './router.js';
import { NAV_PAGES, isAppPath } from './nav.js';
import { AgentFrame, Frame } from './components/frame.js';
import { Alert, Spinner } from './components/ui.js';
import { LoginPage } from './pages/login.js';
import { ForcedPasswordPage } from './pages/forced-password.js';
import { NotAvailablePage, NotFoundPage } from './pages/placeholder.js';
import { SettingsPage } from './pages/settings.js';
import { AboutPage } from './pages/about.js';
import { DashboardPage } from './pages/dashboard.js';
import { ConsolePage, resetConsoleSession } from './pages/console.js';
import { AgentsPage } from './pages/agents.js';
import { QueuesPage } from './pages/queues.js';
import { OplogPage } from './pages/oplog.js';
import { AgentHomePage } from './pages/agent-home.js';
import { FirmwarePage } from './pages/firmware.js';
import { AdminManualPage, PbxManualPage } from './pages/manuals.js';
import { CustomTablePage } from './pages/custom-table.js';
import { MailPage } from './pages/mail.js';
import { DataDeletionPage } from './pages/data-deletion.js';
import { RecordingsPage } from './pages/recordings.js';
import { VoicemailPage } from './pages/voicemail.js';
import { CallFlowPage } from './pages/call-flow.js';
import { PromptsPage } from './pages/prompts.js';

const HOME = '/dashboard';
const AGENT_HOME = '/agent';
/** Routes that only make sense while logged out or before the password change. */
const AUTH_PATHS = ['/', '/login', '/change-password'];

/** The page for `path` and its title (for the frame and document.title). */
function resolvePage(path) {
  if (path === '/settings') return { title: t('page.settings'), view: html`<${SettingsPage} />` };
  if (path === '/about') return { title: t('page.about'), view: html`<${AboutPage} />` };
  if (path === '/system/upgrade') return { title: t('page.upgrade'), view: html`<${FirmwarePage} />` };
  if (path === '/manual/admin') return { title: t('nav.manualAdmin'), view: html`<${AdminManualPage} />` };
  if (path === '/manual/pbx') return { title: t('nav.manualPbx'), view: html`<${PbxManualPage} />` };
  if (path === '/console') return { title: t('page.console'), view: html`<${ConsolePage} />` };
  if (path === '/dashboard') return { title: t('nav.dashboard'), view: html`<${DashboardPage} />` };
  if (path === '/agents') return { title: t('nav.agents'), view: html`<${AgentsPage} />` };
  if (path === '/queues') return { title: t('nav.queues'), view: html`<${QueuesPage} />` };
  if (path === '/oplog') return { title: t('nav.oplog'), view: html`<${OplogPage} />` };
  if (path === '/advanced/custom-table') return { title: t('nav.customTable'), view: html`<${CustomTablePage} />` };
  if (path === '/advanced/mail') return { title: t('nav.mail'), view: html`<${MailPage} />` };
  if (path === '/advanced/data-deletion') return { title: t('nav.dataDeletion'), view: html`<${DataDeletionPage} />` };
  if (path === '/recordings') return { title: t('nav.recordings'), view: html`<${RecordingsPage} />` };
  if (path === '/voicemail') return { title: t('nav.voicemail'), view: html`<${VoicemailPage} />` };
  if (path === '/advanced/settings') return { title: t('nav.settings'), view: html`<${CallFlowPage} />` };
  if (path === '/advanced/prompts') return { title: t('nav.prompts'), view: html`<${PromptsPage} />` };
  const nav = NAV_PAGES.get(path);
  if (nav) {
    const title = t(`nav.${nav.key}`);
    const eyebrow = nav.parent ? t(`nav.${nav.parent}`) : undefined;
    return { title, view: html`<${NotAvailablePage} key=${path} title=${title} eyebrow=${eyebrow} />` };
  }
  return { title: t('page.notFound'), view: html`<${NotFoundPage} />` };
}

/** Agents and leaders have their own page; everyone else is an administrator. */
export function isAgentRole(role) {
  return role === 'agent' || role === 'leader';
}

/** Where to go after logging in: the remembered page if it is one this role may see. */
function landingFor(role, remembered) {
  if (isAgentRole(role)) return AGENT_HOME;
  return remembered && remembered !== AGENT_HOME ? remembered : HOME;
}

export function App() {
  useLang(); // re-render everything on a language switch
  const path = useRoute();
  const [auth, setAuth] = useState({ state: 'checking', user: null, notice: null });
  const [bootError, setBootError] = useState(null);
  const returnTo = useRef(null);

  function rememberRoute() {
    const p = currentPath();
    if (isAppPath(p)) returnTo.current = p;
  }

  async function checkSession() {
    setBootError(null);
    try {
      const s = await api.session();
      setAuth({ state: s && s.must_change_password ? 'must_change' : 'ready', user: s, notice: null });
    } catch (err) {
      if (err.status === 401) setAuth({ state: 'anon', user: null, notice: null });
      else if (!(err.status === 403 && err.code === 'password_change_required')) setBootError(err);
    }
  }

  useEffect(() => {
    setAuthHandlers({
      unauthorized: () =>
        setAuth((prev) => {
          if (prev.state === 'anon') return prev;
          rememberRoute();
          const expired = prev.state === 'ready' || prev.state === 'must_change';
          return { state: 'anon', user: null, notice: expired ? 'expired' : null };
        }),
      passwordChangeRequired: () =>
        setAuth((prev) => (prev.state === 'must_change' ? prev : { state: 'must_change', user: prev.user, notice: null })),
    });
    rememberRoute();
    checkSession();
  }, []);

  const role = auth.user && auth.user.role;
  const agent = isAgentRole(role);

  // Keep the address bar in line with the auth state (and an agent on its own page, an
  // administrator off it).
  useEffect(() => {
    if (auth.state === 'anon' && path !== '/login') navigate('/login', { replace: true });
    else if (auth.state === 'must_change' && path !== '/change-password') navigate('/change-password', { replace: true });
    else if (auth.state === 'ready' && AUTH_PATHS.includes(path)) {
      const to = landingFor(role, returnTo.current);
      returnTo.current = null;
      navigate(to, { replace: true });
    } else if (auth.state === 'ready' && agent && path !== AGENT_HOME) navigate(AGENT_HOME, { replace: true });
    else if (auth.state === 'ready' && !agent && path === AGENT_HOME) navigate(HOME, { replace: true });
  }, [auth.state, path, role]);

  function onLoggedIn({ username, mustChange, role: newRole }) {
    const user = { username, role: newRole || 'admin' };
    if (mustChange) {
      setAuth({ state: 'must_change', user, notice: null });
    } else {
      setAuth({ state: 'ready', user, notice: null });
      navigate(landingFor(user.role, returnTo.current), { replace: true });
      returnTo.current = null;
    }
  }

  function onPasswordChanged() {
    setAuth((prev) => ({ state: 'ready', user: prev.user, notice: null }));
    navigate(landingFor(auth.user && auth.user.role, returnTo.current), { replace: true });
    returnTo.current = null;
  }

  /** The agent page tells who is signed in (name, job number) for the top bar. */
  function onAgentIdentity(a) {
    setAuth((prev) =>
      prev.state === 'ready' && prev.user && prev.user.name !== a.name ? { ...prev, user: { ...prev.user, name: a.name } } : prev,
    );
  }

  async function logout() {
    returnTo.current = null;
    resetConsoleSession();
    try {
      await api.logout();
    } catch {
      // the session is forgotten on this side either way
    }
    setAuth({ state: 'anon', user: null, notice: null });
    navigate('/login', { replace: true });
  }

  if (bootError) {
    return html`<div class="boot">
      <${Alert} kind="error" testid="boot-error">${t('error.boot')} ${bootError.message}<//>
      <button type="button" class="btn btn-primary" onClick=${checkSession}>${t('common.retry')}</button>
    </div>`;
  }
  if (auth.state === 'checking') return html`<div class="boot"><${Spinner} /></div>`;
  if (auth.state === 'anon') {
    return html`<${LoginPage} notice=${auth.notice === 'expired' ? t('login.expired') : null} onLoggedIn=${onLoggedIn} />`;
  }
  if (auth.state === 'must_change') {
    return html`<${ForcedPasswordPage} onChanged=${onPasswordChanged} onLogout=${logout} />`;
  }

  if (agent) {
    return html`<${AgentFrame} title=${t('me.title')} user=${auth.user} onLogout=${logout}>
      <${AgentHomePage} onIdentity=${onAgentIdentity} />
    <//>`;
  }

  const page = resolvePage(AUTH_PATHS.includes(path) || path === AGENT_HOME ? HOME : path);
  return html`<${Frame} path=${path} title=${page.title} user=${auth.user} onLogout=${logout}>${page.view}<//>`;
}
