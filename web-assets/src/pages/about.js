// 管理员 → 系统说明: what GET /api/v1/about reports, nothing more.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { Icon } from '../components/icons.js';
import { Alert, PageHeader, Spinner } from '../components/ui.js';

/** '2026-11-28 23:21:20 (UTC+08:00)' in the browser's time zone; the raw value if unparsable. */
function formatTime(rfc3339) {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  const p2 = (n) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = `UTC${off >= 0 ? '+' : '-'}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} (${zone})`
  );
}

/** 'AB:CD:…' with line-break opportunities after the colons only (never inside a byte). */
function breakAtColons(text) {
  const parts = String(text || '').split(':');
  return parts.map((p, i) => (i < parts.length - 1 ? [p, ':', html`<wbr />`] : p));
}

function CopyButton({ text }) {
  const [copied, setCopied] = useState(false);
  if (!navigator.clipboard) return null;
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // clipboard refused: nothing to report, the text is selectable
    }
  }
  return html`<button type="button" class="btn btn-ghost btn-sm" onClick=${copy} data-testid="copy-fingerprint">
    <${Icon} name="copy" size=${14} />
    <span>${copied ? t('common.copied') : t('common.copy')}</span>
  </button>`;
}

export function AboutPage() {
  const [info, setInfo] = useState(null);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(true);

  async function load() {
    setLoading(true);
    setError('');
    try {
      setInfo(await api.about());
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setLoading(false);
  }
  useEffect(() => {
    load();
  }, []);

  const refresh = html`<button type="button" class="btn btn-default" onClick=${load} disabled=${loading} data-testid="about-refresh">
    <${Icon} name="refresh" size=${16} />
    <span>${t('common.refresh')}</span>
  </button>`;

  return html`<div class="page page-narrow" data-testid="about-page">
    <${PageHeader} title=${t('page.about')} eyebrow=${t('menu.admin')} description=${t('about.desc')} actions=${refresh} />
    <${Alert} kind="error" testid="about-error">${error}<//>
    ${loading && !info && html`<${Spinner} />`}
    ${info &&
    html`<section class="card">
      <dl class="kv" data-testid="about-list">
        <div class="kv-row"><dt>${t('about.product')}</dt><dd data-testid="about-product">${info.product}</dd></div>
        <div class="kv-row"><dt>${t('about.version')}</dt><dd data-testid="about-version" class="mono">${info.version}</dd></div>
        <div class="kv-row"><dt>${t('about.hostname')}</dt><dd data-testid="about-hostname" class="mono">${info.hostname}</dd></div>
        <div class="kv-row">
          <dt>${t('about.fingerprint')}</dt>
          <dd>
            <div class="fingerprint">
              <code class="mono" data-testid="about-fingerprint">${breakAtColons(info.tls_fingerprint_sha256)}</code>
              <${CopyButton} text=${info.tls_fingerprint_sha256} />
            </div>
            <p class="field-hint">${t('about.fingerprintHint')}</p>
          </dd>
        </div>
        <div class="kv-row">
          <dt>${t('about.startedAt')}</dt>
          <dd data-testid="about-started"><time datetime=${info.started_at}>${formatTime(info.started_at)}</time></dd>
        </div>
      </dl>
    </section>`}
  </div>`;
}
