// 管理员 → 固件升级 (#/system/upgrade): field upgrades through RAUC.
//
// GET /firmware paints the slots (the booted one highlighted) and this device's compatible.
// A .raucb chosen or dropped is sent raw (POST /firmware/bundle, XMLHttpRequest for the
// upload progress bar); the daemon verifies and inspects it, and its answer (version,
// compatible, size) is shown to confirm with 安装到备用分区 → POST /firmware/install (202).
// Then GET /firmware every 500 ms shows RAUC's percent and step until reboot_required or
// failed. Refusals (413/422/409/503) show the server's message and nothing else happens.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAuthRedirect, uploadBundle } from '../api.js';
import { t } from '../i18n.js';
import { formatBytes } from '../format.js';
import { Icon } from '../components/icons.js';
import { Alert, Card, PageHeader, Spinner } from '../components/ui.js';

const POLL_MS = 500;
const RUNNING = ['verifying', 'installing'];

function ProgressBar({ percent, testid, label }) {
  const p = Math.max(0, Math.min(100, Math.round(percent || 0)));
  return html`<div class="fw-progress" data-testid=${testid} data-percent=${p}>
    <progress class="fw-progress-bar" max="100" value=${p} aria-label=${label}></progress>
    <span class="fw-progress-pct" data-testid=${`${testid}-percent`}>${p}%</span>
  </div>`;
}

function SlotsTable({ slots }) {
  return html`<div class="table-wrap">
    <table class="table fw-slots" data-testid="fw-slots">
      <thead>
        <tr>
          <th scope="col">${t('fw.slot')}</th>
          <th scope="col">${t('fw.slotState')}</th>
          <th scope="col">${t('fw.bootStatus')}</th>
          <th scope="col">${t('fw.slotVersion')}</th>
        </tr>
      </thead>
      <tbody>
        ${slots.map(
          (s) => html`<tr
            key=${s.name}
            class=${s.state === 'booted' ? 'fw-slot-booted' : ''}
            data-testid="fw-slot"
            data-slot=${s.name}
            data-bootname=${s.bootname || ''}
            data-state=${s.state}
            data-boot-status=${s.boot_status || ''}
          >
            <td>
              <span class="fw-slot-name">${s.bootname || s.name}</span>
              <span class="fw-slot-sub mono">${s.name}</span>
            </td>
            <td>
              <span class=${`tag fw-state-${s.state}`}>${t(`fw.state.${s.state}`) || s.state}</span>
            </td>
            <td>
              ${s.boot_status
                ? html`<span class=${`fw-boot fw-boot-${s.boot_status}`}>${t(`fw.boot.${s.boot_status}`)}</span>`
                : t('fw.unknown')}
            </td>
            <td class="mono" data-testid="fw-slot-version">${s.bundle_version || t('fw.unknown')}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** The checked bundle, to confirm. */
function BundleInfo({ info, busy, error, onInstall, onDiscard }) {
  return html`<div class="fw-bundle" data-testid="fw-bundle">
    <${Alert} kind="success" testid="fw-checked">${t('fw.checked')}<//>
    <dl class="kv fw-kv">
      <div class="kv-row"><dt>${t('fw.version')}</dt><dd class="mono" data-testid="fw-bundle-version">${info.version}</dd></div>
      <div class="kv-row">
        <dt>${t('fw.bundleCompatible')}</dt><dd data-testid="fw-bundle-compatible">${info.compatible}</dd>
      </div>
      <div class="kv-row"><dt>${t('fw.size')}</dt><dd data-testid="fw-bundle-size">${formatBytes(info.bundle_size)}</dd></div>
      ${info.format && html`<div class="kv-row"><dt>${t('fw.format')}</dt><dd class="mono">${info.format}</dd></div>`}
    </dl>
    <${Alert} kind="error" testid="fw-install-error">${error}<//>
    <div class="fw-actions">
      <button type="button" class="btn btn-default" disabled=${busy} onClick=${onDiscard} data-testid="fw-discard">
        ${t('fw.discard')}
      </button>
      <button type="button" class="btn btn-primary" disabled=${busy} onClick=${onInstall} data-testid="fw-install">
        ${t('fw.install')}
      </button>
    </div>
  </div>`;
}

/** Choose or drop a .raucb. */
function DropZone({ onFile, disabled }) {
  const [over, setOver] = useState(false);
  const input = useRef(null);
  function pick(files) {
    const f = files && files[0];
    if (f) onFile(f);
  }
  return html`<div
    class=${`fw-drop${over ? ' fw-drop-over' : ''}${disabled ? ' fw-drop-disabled' : ''}`}
    data-testid="fw-drop"
    onDragOver=${(e) => {
      e.preventDefault();
      if (!disabled) setOver(true);
    }}
    onDragLeave=${() => setOver(false)}
    onDrop=${(e) => {
      e.preventDefault();
      setOver(false);
      if (!disabled) pick(e.dataTransfer && e.dataTransfer.files);
    }}
  >
    <${Icon} name="upload" size=${28} class="fw-drop-icon" />
    <p class="fw-drop-text">${t('fw.uploadHint')}</p>
    <div class="fw-drop-actions">
      <label class=${`btn btn-primary${disabled ? ' disabled' : ''}`} for="fw-file">${t('fw.choose')}</label>
      <span class="fw-drop-or">${t('fw.drop')}</span>
    </div>
    <input
      id="fw-file"
      data-testid="fw-file"
      class="sr-only"
      type="file"
      accept=".raucb"
      disabled=${disabled}
      ref=${input}
      onChange=${(e) => {
        pick(e.currentTarget.files);
        e.currentTarget.value = '';
      }}
    />
  </div>`;
}

export function FirmwarePage() {
  const [status, setStatus] = useState(null);
  const [loadError, setLoadError] = useState('');
  const [loading, setLoading] = useState(true);
  // upload: null | { name, sent, total, done } while sending / checking
  const [upload, setUpload] = useState(null);
  const [uploadError, setUploadError] = useState('');
  const [bundle, setBundle] = useState(null);
  const [installBusy, setInstallBusy] = useState(false);
  const [installError, setInstallError] = useState('');
  const [polling, setPolling] = useState(false);
  const abort = useRef(null);
  const alive = useRef(true);

  async function load() {
    setLoading(true);
    setLoadError('');
    try {
      const s = await api.firmware();
      if (!alive.current) return;
      setStatus(s);
      if (s.uploaded) setBundle(s.uploaded);
      if (s.progress && RUNNING.includes(s.progress.state)) setPolling(true);
    } catch (err) {
      if (!isAuthRedirect(err) && alive.current) setLoadError(err.message);
    }
    if (alive.current) setLoading(false);
  }

  useEffect(() => {
    alive.current = true;
    load();
    return () => {
      alive.current = false;
      if (abort.current) abort.current.abort();
    };
  }, []);

  // While an install runs: GET /firmware every 500 ms until it ends.
  useEffect(() => {
    if (!polling) return undefined;
    let timer = null;
    let stopped = false;
    async function tick() {
      try {
        const s = await api.firmware();
        if (stopped) return;
        setStatus(s);
        const state = s.progress && s.progress.state;
        if (!RUNNING.includes(state)) {
          setPolling(false);
          return;
        }
      } catch (err) {
        if (stopped) return;
        if (isAuthRedirect(err)) {
          setPolling(false);
          return;
        }
        // a missed poll (network blip): try again on the next tick
      }
      timer = setTimeout(tick, POLL_MS);
    }
    timer = setTimeout(tick, POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [polling]);

  async function send(file) {
    setUploadError('');
    setInstallError('');
    setBundle(null);
    const controller = new AbortController();
    abort.current = controller;
    setUpload({ name: file.name, sent: 0, total: file.size, done: false });
    try {
      const info = await uploadBundle(file, {
        signal: controller.signal,
        onProgress: (sent, total) => {
          if (alive.current) setUpload({ name: file.name, sent, total, done: total > 0 && sent >= total });
        },
      });
      if (!alive.current) return;
      setBundle(info);
    } catch (err) {
      if (!alive.current) return;
      if (err.code !== 'aborted' && !isAuthRedirect(err)) setUploadError(err.message);
    } finally {
      abort.current = null;
      if (alive.current) setUpload(null);
    }
  }

  async function install() {
    setInstallBusy(true);
    setInstallError('');
    try {
      await api.installFirmware();
      setBundle(null);
      setStatus((s) => (s ? { ...s, progress: { state: 'verifying', percent: 0, message: '', version: null }, uploaded: null } : s));
      setPolling(true);
    } catch (err) {
      if (!isAuthRedirect(err)) setInstallError(err.message);
    }
    setInstallBusy(false);
  }

  const progress = status && status.progress;
  const pstate = progress ? progress.state : 'idle';
  const running = RUNNING.includes(pstate) || polling;

  const refresh = html`<button type="button" class="btn btn-default" onClick=${load} disabled=${loading || running} data-testid="fw-refresh">
    <${Icon} name="refresh" size=${16} />
    <span>${t('common.refresh')}</span>
  </button>`;

  let body = null;
  if (status && !status.available) {
    body = html`<section class="card" data-testid="fw-unavailable">
      <div class="card-body">
        <${Alert} kind="error" testid="fw-unavailable-alert">
          <strong>${t('fw.unavailable')}</strong>
          ${status.unavailable_reason && html`<div class="fw-reason" data-testid="fw-unavailable-reason">${status.unavailable_reason}</div>`}
        <//>
      </div>
    </section>`;
  } else if (status) {
    const uploadPct = upload && upload.total > 0 ? (upload.sent / upload.total) * 100 : 0;
    body = html`
      <${Card} title=${t('fw.device')} testid="fw-device">
        <dl class="kv fw-kv">
          <div class="kv-row">
            <dt>${t('fw.compatible')}</dt><dd class="mono" data-testid="fw-compatible">${status.compatible || t('fw.unknown')}</dd>
          </div>
          <div class="kv-row">
            <dt>${t('fw.bootSlot')}</dt><dd class="mono" data-testid="fw-boot-slot">${status.boot_slot || t('fw.unknown')}</dd>
          </div>
        </dl>
        <h3 class="fw-subtitle">${t('fw.slots')}</h3>
        <${SlotsTable} slots=${status.slots || []} />
      <//>

      ${(running || pstate === 'reboot_required' || pstate === 'failed') &&
      html`<${Card} title=${t('fw.progress')} testid="fw-install-progress">
        <div class="fw-install" data-testid="fw-install-state" data-state=${pstate}>
          ${running &&
          html`<p class="fw-step">
              <strong>${pstate === 'installing' ? t('fw.installing') : t('fw.verifying')}</strong>
              ${progress && progress.version && html` <span class="mono">${progress.version}</span>`}
              <span class="fw-muted"> · ${t('fw.polling')}</span>
            </p>
            <${ProgressBar} percent=${progress ? progress.percent : 0} testid="fw-install-bar" label=${t('fw.progress')} />
            <p class="fw-message" data-testid="fw-install-message">${(progress && progress.message) || '\u00a0'}</p>`}
          ${!running &&
          pstate === 'reboot_required' &&
          html`<${ProgressBar} percent=${100} testid="fw-install-bar" label=${t('fw.progress')} />
            <${Alert} kind="success" testid="fw-reboot-required">
              <strong>${t('fw.rebootRequired')}</strong>
              ${progress.version && html`<div>${t('fw.rebootRequiredVersion', { version: progress.version })}</div>`}
            <//>`}
          ${!running &&
          pstate === 'failed' &&
          html`<${Alert} kind="error" testid="fw-install-failed">
            <strong>${t('fw.failed')}</strong>
            <div data-testid="fw-install-failed-message">${progress.message}</div>
          <//>`}
        </div>
      <//>`}

      ${!running &&
      html`<${Card} title=${t('fw.upload')} testid="fw-upload">
        ${bundle
          ? html`<${BundleInfo}
              info=${bundle}
              busy=${installBusy}
              error=${installError}
              onInstall=${install}
              onDiscard=${() => {
                setBundle(null);
                setInstallError('');
              }}
            />`
          : upload
            ? html`<div class="fw-uploading" data-testid="fw-uploading">
                <p class="fw-step">${upload.done ? t('fw.checking') : t('fw.uploading', { name: upload.name })}</p>
                <${ProgressBar} percent=${uploadPct} testid="fw-upload-bar" label=${t('fw.upload')} />
                ${upload.done
                  ? html`<${Spinner} label=${t('fw.checking')} />`
                  : html`<button
                      type="button"
                      class="btn btn-default btn-sm"
                      data-testid="fw-upload-cancel"
                      onClick=${() => abort.current && abort.current.abort()}
                    >${t('fw.uploadCancel')}</button>`}
              </div>`
            : html`<${DropZone} onFile=${send} disabled=${false} />`}
        <${Alert} kind="error" testid="fw-upload-error">${uploadError}<//>
      <//>`}
    `;
  }

  return html`<div class="page page-narrow fw-page" data-testid="firmware-page">
    <${PageHeader} title=${t('page.upgrade')} eyebrow=${t('menu.admin')} description=${t('fw.desc')} actions=${refresh} />
    <${Alert} kind="error" testid="fw-error">${loadError}<//>
    ${loading && !status && html`<${Spinner} />`}
    ${body}
  </div>`;
}
