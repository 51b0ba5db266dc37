// 管理员手册 (#/manual/admin, manual §11) and PBX手册 (#/manual/pbx, manual §12).
//
// 管理员手册: our own static HTML (dist/manual/admin-manual.<zh|en>.html, written in
// src/manual/, self-contained for download and printing). It cannot be framed (the CSP has
// frame-ancestors 'none'), so the page fetches the document of the current language and
// puts its <body> into a container; 下载 is a link with `download` to the same file.
//
// PBX手册: the PBX's own manual when installed (GET /api/v1/manuals/pbx, PDF or HTML):
// 查看 opens it in a new tab, 下载 adds ?download=1. When it is not installed (404
// pbx_manual_missing) the server's message and a link to the PBX UI on port 9999.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { PBX_MANUAL_DOWNLOAD_URL, PBX_MANUAL_URL, adminManualUrl, api, fetchAdminManual, isAuthRedirect } from '../api.js';
import { getLang, t } from '../i18n.js';
import { pbxUrl } from '../nav.js';
import { Icon } from '../components/icons.js';
import { Alert, PageHeader, Spinner } from '../components/ui.js';

/**
 * The <body> of a manual document, as nodes of this document. It is our own static file,
 * but scripts, inline styles and event attributes are dropped all the same (the CSP would
 * refuse them anyway).
 */
function manualNodes(text) {
  const doc = new DOMParser().parseFromString(text, 'text/html');
  for (const el of doc.body.querySelectorAll('script, style, link, iframe, object, embed')) el.remove();
  for (const el of doc.body.querySelectorAll('*')) {
    for (const a of [...el.attributes]) {
      if (/^on/i.test(a.name) || a.name === 'style') el.removeAttribute(a.name);
    }
  }
  return [...doc.body.childNodes].map((n) => document.importNode(n, true));
}

export function AdminManualPage() {
  const lang = getLang();
  const [state, setState] = useState({ loading: true, error: '', lang: null });
  const box = useRef(null);

  useEffect(() => {
    let stale = false;
    setState((s) => ({ ...s, loading: true, error: '' }));
    fetchAdminManual(lang)
      .then((text) => {
        if (stale || !box.current) return;
        box.current.replaceChildren(...manualNodes(text));
        setState({ loading: false, error: '', lang });
      })
      .catch((err) => {
        if (!stale) setState({ loading: false, error: err.message, lang: null });
      });
    return () => {
      stale = true;
    };
  }, [lang]);

  const url = adminManualUrl(lang);
  const download = html`<a
    class="btn btn-default"
    href=${url}
    download=${url.split('/').pop()}
    data-testid="manual-download"
  >
    <${Icon} name="download" size=${16} />
    <span>${t('manual.download')}</span>
  </a>`;

  return html`<div class="page page-narrow" data-testid="manual-admin-page">
    <${PageHeader} title=${t('nav.manualAdmin')} description=${t('manual.desc')} actions=${download} />
    <${Alert} kind="error" testid="manual-error">${state.error}<//>
    ${state.loading && html`<${Spinner} />`}
    <article
      class="card manual-doc"
      ref=${box}
      lang=${lang === 'en' ? 'en' : 'zh-CN'}
      data-testid="manual-content"
      data-lang=${state.lang || ''}
    ></article>
  </div>`;
}

export function PbxManualPage() {
  const [state, setState] = useState({ loading: true, present: false, error: '', missing: false });

  async function load() {
    setState({ loading: true, present: false, error: '', missing: false });
    try {
      await api.pbxManual();
      setState({ loading: false, present: true, error: '', missing: false });
    } catch (err) {
      if (isAuthRedirect(err)) return;
      setState({ loading: false, present: false, error: err.message, missing: err.code === 'pbx_manual_missing' });
    }
  }
  useEffect(() => {
    load();
  }, []);

  const pbx = html`<a class="btn btn-default" href=${pbxUrl()} target="_blank" rel="noopener noreferrer" data-testid="pbx-manual-pbx-link">
    <${Icon} name="external" size=${16} />
    <span>${t('manual.pbxOpen')}</span>
  </a>`;

  return html`<div class="page page-narrow" data-testid="manual-pbx-page">
    <${PageHeader} title=${t('nav.manualPbx')} description=${t('manual.pbxDesc')} />
    ${state.loading && html`<${Spinner} />`}
    ${state.present &&
    html`<section class="card" data-testid="pbx-manual-present">
      <div class="card-body manual-actions">
        <p>${t('manual.pbxPresent')}</p>
        <div class="manual-buttons">
          <a class="btn btn-primary" href=${PBX_MANUAL_URL} target="_blank" rel="noopener" data-testid="pbx-manual-view">
            <${Icon} name="book" size=${16} />
            <span>${t('manual.view')}</span>
          </a>
          <a class="btn btn-default" href=${PBX_MANUAL_DOWNLOAD_URL} download data-testid="pbx-manual-download">
            <${Icon} name="download" size=${16} />
            <span>${t('manual.download')}</span>
          </a>
        </div>
      </div>
    </section>`}
    ${!state.loading &&
    !state.present &&
    html`<section class="card" data-testid=${state.missing ? 'pbx-manual-missing' : 'pbx-manual-error'}>
      <div class="card-body manual-actions">
        <${Alert} kind=${state.missing ? 'info' : 'error'} testid="pbx-manual-message">${state.error}<//>
        <div class="manual-buttons">
          ${pbx}
          <button type="button" class="btn btn-default" onClick=${load} data-testid="pbx-manual-refresh">
            <${Icon} name="refresh" size=${16} />
            <span>${t('common.refresh')}</span>
          </button>
        </div>
      </div>
    </section>`}
  </div>`;
}
