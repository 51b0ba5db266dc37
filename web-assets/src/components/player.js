// The pop-up player of 客户留言 and 录音列表 (manual §7 fig. 7.2: 播放 opens a window that
// plays, with volume): a modal dialog around the browser's own <audio controls>, which
// plays, pauses, seeks (the server answers HTTP Range requests) and sets the volume.
//
// When the browser cannot play the file, the dialog says why: it asks the server for the
// first byte of the same address, and a refusal (404 after the file vanished, …) is shown
// as the server's message in the UI's language; a file that is there but that the browser
// cannot decode gets a sentence of ours. 下载 stays offered either way.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { langTag, t } from '../i18n.js';
import { Modal } from './dialog.js';
import { Icon } from './icons.js';
import { Alert } from './ui.js';

/** Why `src` did not play: the server's message when it refuses, else ours. */
async function explainFailure(src) {
  try {
    const res = await fetch(src, {
      headers: { Range: 'bytes=0-0', Accept: 'application/json', 'Accept-Language': langTag() },
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (!res.ok) {
      const data = await res.json().catch(() => null);
      const message = data && data.error && data.error.message;
      return message || t('error.http', { status: res.status });
    }
  } catch {
    return t('error.network');
  }
  return t('player.undecodable');
}

/**
 * `item` = { title, facts: [[label, value]…], src, downloadUrl } or null (closed).
 * `testid` prefixes the test ids (`<testid>-audio`, `-error`, `-download`, `-close`).
 */
export function PlayerDialog({ item, onClose, testid = 'player' }) {
  const [error, setError] = useState('');
  const audioRef = useRef(null);
  const titleId = `${testid}-title`;

  useEffect(() => {
    setError('');
  }, [item && item.src]);

  // Stop the sound when the dialog closes (the <audio> is removed with the children, but a
  // closing animation must not keep playing).
  function close() {
    const a = audioRef.current;
    if (a) a.pause();
    onClose();
  }

  async function onAudioError() {
    if (!item) return;
    const src = item.src;
    const why = await explainFailure(src);
    if (item && item.src === src) setError(why);
  }

  return html`<${Modal} open=${Boolean(item)} onClose=${close} labelledBy=${titleId} testid=${testid} wide=${true}>
    ${item &&
    html`<div class="dialog-body player">
      <div class="dialog-head">
        <span class="dialog-icon dialog-icon-info"><${Icon} name="play" size=${20} /></span>
        <h2 class="dialog-title" id=${titleId}>${item.title}</h2>
      </div>
      ${item.facts &&
      item.facts.length > 0 &&
      html`<dl class="player-facts">
        ${item.facts.map(
          ([label, value]) => html`<div key=${label}><dt>${label}</dt><dd>${value || html`<span class="muted">–</span>`}</dd></div>`,
        )}
      </dl>`}
      <audio
        class="player-audio"
        ref=${audioRef}
        controls
        autoplay
        preload="auto"
        src=${item.src}
        data-testid=${`${testid}-audio`}
        onError=${onAudioError}
      ></audio>
      <p class="player-hint muted">${t('player.hint')}</p>
      <${Alert} kind="error" testid=${`${testid}-error`}>${error}<//>
      <div class="dialog-actions">
        ${item.downloadUrl &&
        html`<a class="btn btn-default" href=${item.downloadUrl} download data-testid=${`${testid}-download`}>
          <${Icon} name="download" size=${15} /><span>${t('media.download')}</span>
        </a>`}
        <button type="button" class="btn btn-primary" autofocus onClick=${close} data-testid=${`${testid}-close`}>
          ${t('common.close')}
        </button>
      </div>
    </div>`}
  <//>`;
}
