// The frame every page of the console lives in: top bar (product name, language
// switch, the 管理员 menu of manual §2) and the left navigation (manual §3–§12).
// Agents (role agent / leader) get `AgentFrame` instead: the top bar with their name and
// 退出, no navigation.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { NAV, pbxUrl } from '../nav.js';
import { Icon, Logo } from './icons.js';
import { LangSwitch } from './ui.js';

function AdminMenu({ user, onLogout }) {
  const [open, setOpen] = useState(false);
  const ref = useRef(null);

  useEffect(() => {
    if (!open) return undefined;
    const onDown = (e) => {
      if (ref.current && !ref.current.contains(e.target)) setOpen(false);
    };
    const onKey = (e) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const close = () => setOpen(false);

  return html`<div class="menu" ref=${ref}>
    <button
      type="button"
      class="topbar-btn"
      id="admin-menu"
      data-testid="admin-menu"
      aria-controls="admin-menu-pop"
      aria-expanded=${open ? 'true' : 'false'}
      onClick=${() => setOpen(!open)}
    >
      <span class="avatar"><${Icon} name="user" size=${15} /></span>
      <span class="topbar-btn-label">${t('menu.admin')}</span>
      <${Icon} name="chevronDown" size=${14} class="caret" />
    </button>
    ${open &&
    html`<div class="menu-pop" id="admin-menu-pop" data-testid="admin-menu-pop">
      ${user &&
      user.username &&
      html`<div class="menu-head">
        <div class="menu-head-label">${t('menu.account')}</div>
        <div class="menu-head-user" data-testid="menu-username">${user.username}</div>
      </div>`}
      <a class="menu-item" href="#/settings" data-testid="menu-settings" onClick=${close}>
        <${Icon} name="settings" /><span>${t('menu.settings')}</span>
      </a>
      <a class="menu-item" href="#/about" data-testid="menu-about" onClick=${close}>
        <${Icon} name="info" /><span>${t('menu.about')}</span>
      </a>
      <a class="menu-item" href="#/system/upgrade" data-testid="menu-upgrade" onClick=${close}>
        <${Icon} name="upload" /><span>${t('menu.upgrade')}</span>
      </a>
      <div class="menu-sep"></div>
      <button
        type="button"
        class="menu-item"
        data-testid="menu-logout"
        onClick=${() => {
          close();
          onLogout();
        }}
      >
        <${Icon} name="logout" /><span>${t('menu.logout')}</span>
      </button>
    </div>`}
  </div>`;
}

function NavLink({ item, path, sub = false, onNavigate }) {
  const active = item.path === path;
  return html`<li>
    <a
      class=${`nav-link${sub ? ' nav-sub-link' : ''}${active ? ' active' : ''}`}
      href=${'#' + item.path}
      aria-current=${active ? 'page' : undefined}
      data-testid=${`nav-${item.key}`}
      onClick=${onNavigate}
    >
      ${!sub && html`<${Icon} name=${item.icon} size=${17} />`}
      <span class="nav-label">${t(`nav.${item.key}`)}</span>
    </a>
  </li>`;
}

function NavGroup({ item, path, onNavigate }) {
  const hasActive = item.children.some((c) => c.path === path);
  const [open, setOpen] = useState(true);
  const expanded = open || hasActive;
  return html`<li class=${`nav-group${expanded ? ' open' : ''}${hasActive ? ' has-active' : ''}`}>
    <button
      type="button"
      class="nav-link nav-group-head"
      aria-expanded=${expanded ? 'true' : 'false'}
      data-testid=${`nav-${item.key}`}
      onClick=${() => setOpen(!expanded)}
    >
      <${Icon} name=${item.icon} size=${17} />
      <span class="nav-label">${t(`nav.${item.key}`)}</span>
      <${Icon} name="chevronDown" size=${14} class="caret" />
    </button>
    ${expanded &&
    html`<ul class="nav-sub">
      ${item.children.map((c) => html`<${NavLink} key=${c.key} item=${c} path=${path} sub=${true} onNavigate=${onNavigate} />`)}
    </ul>`}
  </li>`;
}

function Sidebar({ path, onNavigate }) {
  return html`<nav class="sidebar" id="sidebar" aria-label=${t('nav.label')} data-testid="sidebar">
    <ul class="nav">
      ${NAV.map((item) => {
        if (item.children) return html`<${NavGroup} key=${item.key} item=${item} path=${path} onNavigate=${onNavigate} />`;
        if (item.external)
          return html`<li key=${item.key}>
            <a
              class="nav-link"
              href=${pbxUrl()}
              target="_blank"
              rel="noopener noreferrer"
              title=${t('nav.pbxHint')}
              data-testid=${`nav-${item.key}`}
              onClick=${onNavigate}
            >
              <${Icon} name=${item.icon} size=${17} />
              <span class="nav-label">${t(`nav.${item.key}`)}</span>
              <${Icon} name="external" size=${13} class="nav-ext" />
            </a>
          </li>`;
        return html`<${NavLink} key=${item.key} item=${item} path=${path} onNavigate=${onNavigate} />`;
      })}
    </ul>
  </nav>`;
}

export function Frame({ path, title, user, onLogout, children }) {
  const [navOpen, setNavOpen] = useState(false);

  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`;
  });
  // A new page: close the drawer (narrow screens) and start at the top.
  useEffect(() => {
    setNavOpen(false);
    const main = document.getElementById('main');
    if (main) main.scrollTop = 0;
  }, [path]);

  return html`<div class=${navOpen ? 'frame nav-open' : 'frame'} data-testid="frame">
    <a class="skip-link" href="#main" onClick=${(e) => {
      e.preventDefault();
      const m = document.getElementById('main');
      if (m) m.focus();
    }}>${t('app.skip')}</a>
    <header class="topbar">
      <button
        type="button"
        class="topbar-icon-btn nav-toggle"
        aria-controls="sidebar"
        aria-expanded=${navOpen ? 'true' : 'false'}
        aria-label=${t('menu.toggleNav')}
        data-testid="nav-toggle"
        onClick=${() => setNavOpen(!navOpen)}
      ><${Icon} name="menu" size=${20} /></button>
      <a class="brand" href="#/dashboard" data-testid="brand">
        <${Logo} size=${26} />
        <span class="brand-name">${t('app.name')}</span>
      </a>
      <div class="topbar-spacer"></div>
      <${LangSwitch} tone="dark" />
      <span class="topbar-sep" aria-hidden="true"></span>
      <${AdminMenu} user=${user} onLogout=${onLogout} />
    </header>
    <div class="frame-body">
      <${Sidebar} path=${path} onNavigate=${() => setNavOpen(false)} />
      <div class="backdrop" onClick=${() => setNavOpen(false)}></div>
      <main class="content" id="main" tabindex="-1">${children}</main>
    </div>
  </div>`;
}

/** The agent's frame: top bar with who is signed in and 退出; no admin navigation. */
export function AgentFrame({ title, user, onLogout, children }) {
  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`;
  });
  const who = user && (user.name || user.username);
  return html`<div class="frame frame-agent" data-testid="agent-frame">
    <a class="skip-link" href="#main" onClick=${(e) => {
      e.preventDefault();
      const m = document.getElementById('main');
      if (m) m.focus();
    }}>${t('app.skip')}</a>
    <header class="topbar">
      <a class="brand" href="#/agent" data-testid="brand">
        <${Logo} size=${26} />
        <span class="brand-name">${t('app.name')}</span>
      </a>
      <div class="topbar-spacer"></div>
      <${LangSwitch} tone="dark" />
      <span class="topbar-sep" aria-hidden="true"></span>
      ${who &&
      html`<span class="topbar-user" data-testid="agent-user">
        <span class="avatar"><${Icon} name="user" size=${15} /></span>
        <span class="topbar-btn-label">${who}</span>
      </span>`}
      <button
        type="button"
        class="topbar-btn"
        data-testid="agent-logout"
        id="agent-logout"
        aria-label=${t('me.logout')}
        onClick=${onLogout}
      >
        <${Icon} name="logout" size=${16} />
        <span class="topbar-btn-label">${t('me.logout')}</span>
      </button>
    </header>
    <div class="frame-body">
      <main class="content" id="main" tabindex="-1">${children}</main>
    </div>
  </div>`;
}
