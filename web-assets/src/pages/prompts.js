// 高级设置 → 语音管理 (#/advanced/prompts, manual §9.1).
//
// 9.1.1 上传: choose or drop an mp3/wav, give it a name, 上传 (XMLHttpRequest for the progress
// bar). The daemon decodes it completely, converts it to 8 kHz mono WAV and lists it; a
// refusal (not audio, truncated or corrupt, empty, too long, too large, name taken) shows the
// server's message and nothing is saved. The list shows 文件名, 格式 (as uploaded), 大小,
// 时长, 播放 and 删除 (refused with the reason when the call flow plays the prompt).
// 9.1.2 录音: 开始 / 停止 the microphone (Web Audio, resampled to 8 kHz and encoded as WAV in
// the browser, wav.js), 播放/暂停, a name, 上传 (source=browser).
// 9.1.3 TTS: text → 开始转换 (POST /tts, espeak-ng Mandarin on the box), 播放/暂停, 下载, a
// name, 上传 (source=tts).

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { isAuthRedirect, promptsApi, uploadPrompt } from '../api.js';
import { t } from '../i18n.js';
import { formatBytes } from '../format.js';
import { Icon } from '../components/icons.js';
import { ConfirmDialog } from '../components/dialog.js';
import { Alert, Card, Field, PageHeader, Spinner } from '../components/ui.js';
import { startRecording } from '../wav.js';

const FORMAT_KEYS = { mp3: 'prompts.format.mp3', wav: 'prompts.format.wav', browser: 'prompts.format.browser', tts: 'prompts.format.tts' };

function formatSeconds(ms) {
  return t('prompts.seconds', { n: (Math.round((ms || 0) / 100) / 10).toFixed(1) });
}

/** The name a file suggests: its name without the extension. */
function stemOf(fileName) {
  return (fileName || '').replace(/\.[^.]*$/, '');
}

function Progress({ percent, testid }) {
  const p = Math.max(0, Math.min(100, Math.round(percent || 0)));
  return html`<div class="fw-progress" data-testid=${testid} data-percent=${p}>
    <progress class="fw-progress-bar" max="100" value=${p} aria-label=${t('prompts.progress')}></progress>
    <span class="fw-progress-pct">${p}%</span>
  </div>`;
}

/** One audio element for the page: playing something stops what played before. */
function usePlayer() {
  const audio = useRef(null);
  const [playing, setPlaying] = useState(null); // the key of what plays
  useEffect(() => {
    const a = new Audio();
    a.preload = 'none';
    const ended = () => setPlaying(null);
    a.addEventListener('ended', ended);
    a.addEventListener('pause', ended);
    a.addEventListener('error', ended);
    audio.current = a;
    return () => {
      a.pause();
      a.removeAttribute('src');
    };
  }, []);
  return {
    playing,
    toggle(key, url) {
      const a = audio.current;
      if (!a) return;
      if (playing === key) {
        a.pause();
        return;
      }
      if (a.getAttribute('src') !== url) a.src = url;
      a.currentTime = 0;
      a.play()
        .then(() => setPlaying(key))
        .catch(() => setPlaying(null));
    },
    stop() {
      if (audio.current) audio.current.pause();
    },
  };
}

/** Shared by the three cards: a name, 上传, the progress bar and the answer. */
function UploadControls({ idPrefix, name, setName, maxName, disabled, onUpload, upload, error, errorField, done }) {
  return html`<div class="prompts-upload">
    <${Field}
      id=${`${idPrefix}-name`}
      label=${t('prompts.name')}
      value=${name}
      onInput=${setName}
      maxLength=${maxName}
      required
      hint=${t('prompts.nameHint')}
      error=${errorField === 'name' ? error : ''}
    />
    <div class="prompts-actions">
      <button
        type="button"
        class="btn btn-primary"
        data-testid=${`${idPrefix}-upload`}
        disabled=${disabled || !!upload}
        onClick=${onUpload}
      >
        <${Icon} name="upload" size=${16} /> ${t('prompts.upload')}
      </button>
    </div>
    ${upload && html`<${Progress} percent=${upload.percent} testid=${`${idPrefix}-progress`} />`}
    ${upload && upload.percent >= 100 && html`<p class="fw-muted" data-testid=${`${idPrefix}-checking`}>${t('prompts.checking')}</p>`}
    <${Alert} kind="error" testid=${`${idPrefix}-error`}>${errorField === 'name' ? '' : error}<//>
    <${Alert} kind="success" testid=${`${idPrefix}-ok`}>${done}<//>
  </div>`;
}

/** Runs an upload with progress and the refusal handling the three cards share. */
function useUpload(onSaved) {
  const [upload, setUpload] = useState(null);
  const [error, setError] = useState('');
  const [errorField, setErrorField] = useState(null);
  const [done, setDone] = useState('');
  async function run(args) {
    setError('');
    setErrorField(null);
    setDone('');
    if (!args.name.trim()) {
      setError(t('prompts.nameRequired'));
      setErrorField('name');
      return false;
    }
    setUpload({ percent: 0 });
    try {
      const saved = await uploadPrompt(args, {
        onProgress: (sent, total) => setUpload({ percent: total ? (sent * 100) / total : 0 }),
      });
      setDone(t('prompts.saved', { name: saved.display_name, file: saved.file_name }));
      onSaved(saved);
      return true;
    } catch (err) {
      if (!isAuthRedirect(err)) {
        setError(err.message);
        setErrorField(err.field);
      }
      return false;
    } finally {
      setUpload(null);
    }
  }
  function fail(message) {
    setDone('');
    setErrorField(null);
    setError(message);
  }
  return { upload, error, errorField, done, run, fail, clear: () => setDone('') };
}

function FileUpload({ limits, onSaved }) {
  const [file, setFile] = useState(null);
  const [name, setName] = useState('');
  const [over, setOver] = useState(false);
  const up = useUpload((saved) => {
    setFile(null);
    setName('');
    onSaved(saved);
  });
  function pick(files) {
    const f = files && files[0];
    if (!f) return;
    setFile(f);
    setName(stemOf(f.name).slice(0, limits.max_name_chars));
    up.clear();
  }
  return html`<${Card} title=${t('prompts.uploadTitle')} description=${t('prompts.uploadDesc', { seconds: limits.max_upload_seconds, mb: limits.max_upload_mb })} testid="prompts-upload-card" class="prompts-wide">
    <div
      class=${`fw-drop${over ? ' fw-drop-over' : ''}`}
      data-testid="prompts-drop"
      onDragOver=${(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave=${() => setOver(false)}
      onDrop=${(e) => {
        e.preventDefault();
        setOver(false);
        pick(e.dataTransfer && e.dataTransfer.files);
      }}
    >
      <${Icon} name="upload" size=${28} class="fw-drop-icon" />
      <p class="fw-drop-text">${t('prompts.dropHint')}</p>
      <div class="fw-drop-actions">
        <label class="btn btn-default" for="prompts-file">${t('prompts.choose')}</label>
        <span class="fw-drop-or">${t('prompts.drop')}</span>
      </div>
      <input
        id="prompts-file"
        data-testid="prompts-file"
        class="sr-only"
        type="file"
        accept=".mp3,.wav,audio/mpeg,audio/wav"
        onChange=${(e) => {
          pick(e.currentTarget.files);
          e.currentTarget.value = '';
        }}
      />
      ${file &&
      html`<p class="prompts-chosen" data-testid="prompts-chosen">
        ${t('prompts.chosen', { name: file.name, size: formatBytes(file.size) })}
      </p>`}
    </div>
    <${UploadControls}
      idPrefix="prompts"
      name=${name}
      setName=${setName}
      maxName=${limits.max_name_chars}
      disabled=${!file}
      upload=${up.upload}
      error=${up.error}
      errorField=${up.errorField}
      done=${up.done}
      onUpload=${() => {
        // Refused here at once rather than after sending megabytes (the server checks too).
        if (file.size > limits.max_upload_mb * 1024 * 1024) up.fail(t('prompts.tooLarge', { mb: limits.max_upload_mb }));
        else up.run({ name, blob: file, fileName: file.name, source: 'file' });
      }}
    />
  <//>`;
}

function PromptTable({ prompts, player, onDelete }) {
  if (!prompts.length) {
    return html`<p class="prompts-empty" data-testid="prompts-empty">${t('prompts.empty')}</p>`;
  }
  return html`<div class="table-wrap">
    <table class="table" data-testid="prompts-table">
      <thead>
        <tr>
          <th scope="col">${t('prompts.col.name')}</th>
          <th scope="col">${t('prompts.col.format')}</th>
          <th scope="col">${t('prompts.col.size')}</th>
          <th scope="col">${t('prompts.col.duration')}</th>
          <th scope="col">${t('prompts.col.actions')}</th>
        </tr>
      </thead>
      <tbody>
        ${prompts.map((p) => {
          const playing = player.playing === `prompt:${p.name}`;
          return html`<tr key=${p.name} data-testid="prompt-row" data-name=${p.name}>
            <td>
              <span class="prompts-display" data-testid="prompt-display">${p.display_name}</span>
              <span class="prompts-file mono" data-testid="prompt-file">${p.file_name}</span>
            </td>
            <td data-testid="prompt-format" data-format=${p.source_format}>${t(FORMAT_KEYS[p.source_format] || 'prompts.format.wav')}</td>
            <td data-testid="prompt-size">${formatBytes(p.size_bytes)}</td>
            <td data-testid="prompt-duration">${formatSeconds(p.duration_ms)}</td>
            <td class="prompts-row-actions">
              <button
                type="button"
                class="btn btn-default btn-sm"
                data-testid="prompt-play"
                aria-pressed=${playing}
                onClick=${() => player.toggle(`prompt:${p.name}`, promptsApi.audioUrl(p.name))}
              >
                <${Icon} name=${playing ? 'pause' : 'play'} size=${14} /> ${playing ? t('prompts.pause') : t('prompts.play')}
              </button>
              <a class="btn btn-default btn-sm" href=${promptsApi.audioUrl(p.name, true)} data-testid="prompt-download">
                <${Icon} name="download" size=${14} /> ${t('prompts.download')}
              </a>
              <button type="button" class="btn btn-danger btn-sm" data-testid="prompt-delete" onClick=${() => onDelete(p)}>
                <${Icon} name="trash" size=${14} /> ${t('prompts.delete')}
              </button>
            </td>
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}

function Recorder({ limits, player, onSaved }) {
  // state: idle | starting | recording | converting | recorded
  const [state, setState] = useState('idle');
  const [error, setError] = useState('');
  const [result, setResult] = useState(null); // { blob, url, seconds }
  const [elapsed, setElapsed] = useState(0);
  const [name, setName] = useState('');
  const recorder = useRef(null);
  const up = useUpload((saved) => {
    setName('');
    onSaved(saved);
  });

  useEffect(() => () => {
    if (recorder.current) recorder.current.cancel();
  }, []);
  useEffect(() => () => result && URL.revokeObjectURL(result.url), [result]);
  useEffect(() => {
    if (state !== 'recording') return undefined;
    const started = Date.now();
    const timer = setInterval(() => setElapsed((Date.now() - started) / 1000), 200);
    return () => clearInterval(timer);
  }, [state]);

  async function start() {
    setError('');
    up.clear();
    player.stop();
    setState('starting');
    try {
      recorder.current = await startRecording();
      setElapsed(0);
      setState('recording');
    } catch (err) {
      setError(t('prompts.rec.micError', { reason: (err && err.message) || String(err) }));
      setState(result ? 'recorded' : 'idle');
    }
  }

  async function stop() {
    const r = recorder.current;
    recorder.current = null;
    if (!r) return;
    setState('converting');
    try {
      const { blob, seconds } = await r.stop();
      setResult({ blob, seconds, url: URL.createObjectURL(blob) });
      setState('recorded');
    } catch (err) {
      setError(t('prompts.rec.convertError', { reason: (err && err.message) || String(err) }));
      setState('idle');
    }
  }

  const playing = player.playing === 'recording';
  return html`<${Card} title=${t('prompts.rec.title')} description=${t('prompts.rec.desc')} testid="prompts-recorder">
    <div class="prompts-actions">
      <button type="button" class="btn btn-primary" data-testid="rec-start" disabled=${state === 'recording' || state === 'starting' || state === 'converting'} onClick=${start}>
        ${t('prompts.rec.start')}
      </button>
      <button type="button" class="btn btn-default" data-testid="rec-stop" disabled=${state !== 'recording'} onClick=${stop}>
        ${t('prompts.rec.stop')}
      </button>
      <button
        type="button"
        class="btn btn-default"
        data-testid="rec-play"
        aria-pressed=${playing}
        disabled=${!result || state === 'recording'}
        onClick=${() => result && player.toggle('recording', result.url)}
      >
        <${Icon} name=${playing ? 'pause' : 'play'} size=${14} /> ${t('prompts.playPause')}
      </button>
      <span class="prompts-status" data-testid="rec-status" data-state=${state}>
        ${state === 'recording' && t('prompts.rec.recording', { s: elapsed.toFixed(1) })}
        ${state === 'converting' && t('prompts.rec.converting')}
        ${state === 'recorded' && result && t('prompts.rec.recorded', { s: result.seconds.toFixed(1) })}
      </span>
    </div>
    <${Alert} kind="error" testid="rec-error">${error}<//>
    <${UploadControls}
      idPrefix="rec"
      name=${name}
      setName=${setName}
      maxName=${limits.max_name_chars}
      disabled=${!result || state === 'recording'}
      upload=${up.upload}
      error=${up.error}
      errorField=${up.errorField}
      done=${up.done}
      onUpload=${() => up.run({ name, blob: result.blob, fileName: 'recording.wav', source: 'browser' })}
    />
  <//>`;
}

function Tts({ limits, player, onSaved }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [result, setResult] = useState(null); // { blob, url, durationMs }
  const [name, setName] = useState('');
  const up = useUpload((saved) => {
    setName('');
    onSaved(saved);
  });
  useEffect(() => () => result && URL.revokeObjectURL(result.url), [result]);

  async function convert() {
    setError('');
    up.clear();
    player.stop();
    setBusy(true);
    try {
      const { blob, durationMs } = await promptsApi.tts(text);
      setResult({ blob, durationMs, url: URL.createObjectURL(blob) });
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setBusy(false);
  }

  const playing = player.playing === 'tts';
  const count = [...text].length;
  return html`<${Card} title=${t('prompts.tts.title')} description=${t('prompts.tts.desc')} testid="prompts-tts">
    <div class="field">
      <label class="field-label" for="tts-text">${t('prompts.tts.text')}</label>
      <textarea
        id="tts-text"
        data-testid="tts-text"
        class="input prompts-textarea"
        rows="3"
        value=${text}
        onInput=${(e) => setText(e.currentTarget.value)}
      ></textarea>
      <p class=${`field-hint${count > limits.max_tts_chars ? ' prompts-over' : ''}`} data-testid="tts-count">
        ${t('prompts.tts.count', { n: count, max: limits.max_tts_chars })}
      </p>
    </div>
    <div class="prompts-actions">
      <button type="button" class="btn btn-primary" data-testid="tts-convert" disabled=${busy} onClick=${convert}>
        ${busy ? t('prompts.tts.converting') : t('prompts.tts.convert')}
      </button>
      <button
        type="button"
        class="btn btn-default"
        data-testid="tts-play"
        aria-pressed=${playing}
        disabled=${!result}
        onClick=${() => result && player.toggle('tts', result.url)}
      >
        <${Icon} name=${playing ? 'pause' : 'play'} size=${14} /> ${t('prompts.playPause')}
      </button>
      ${result
        ? html`<a class="btn btn-default" data-testid="tts-download" href=${result.url} download="tts.wav">
            <${Icon} name="download" size=${14} /> ${t('prompts.download')}
          </a>`
        : html`<button type="button" class="btn btn-default" disabled data-testid="tts-download">
            <${Icon} name="download" size=${14} /> ${t('prompts.download')}
          </button>`}
      ${result && html`<span class="prompts-status" data-testid="tts-status">${t('prompts.tts.done', { s: formatSeconds(result.durationMs) })}</span>`}
    </div>
    <${Alert} kind="error" testid="tts-error">${error}<//>
    <${UploadControls}
      idPrefix="tts"
      name=${name}
      setName=${setName}
      maxName=${limits.max_name_chars}
      disabled=${!result}
      upload=${up.upload}
      error=${up.error}
      errorField=${up.errorField}
      done=${up.done}
      onUpload=${() => up.run({ name, blob: result.blob, fileName: 'tts.wav', source: 'tts' })}
    />
  <//>`;
}

export function PromptsPage() {
  const [data, setData] = useState(null);
  const [loadError, setLoadError] = useState('');
  const [deleting, setDeleting] = useState(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState('');
  const [notice, setNotice] = useState('');
  const player = usePlayer();

  async function load() {
    try {
      setData(await promptsApi.list());
      setLoadError('');
    } catch (err) {
      if (!isAuthRedirect(err)) setLoadError(err.message);
    }
  }
  useEffect(() => {
    load();
  }, []);

  async function confirmDelete() {
    setDeleteBusy(true);
    setDeleteError('');
    try {
      player.stop();
      await promptsApi.remove(deleting.name);
      setNotice(t('prompts.deleted', { name: deleting.display_name }));
      setDeleting(null);
      await load();
    } catch (err) {
      if (!isAuthRedirect(err)) setDeleteError(err.message);
    }
    setDeleteBusy(false);
  }

  const onSaved = () => {
    setNotice('');
    load();
  };

  return html`<div class="page" data-testid="prompts-page">
    <${PageHeader} title=${t('nav.prompts')} eyebrow=${t('nav.advanced')} description=${t('prompts.desc')} />
    <${Alert} kind="error" testid="prompts-load-error">${loadError}<//>
    ${!data && !loadError && html`<${Spinner} />`}
    ${data &&
    html`<div class="prompts-grid">
      <${FileUpload} limits=${data} onSaved=${onSaved} />
      <${Card} title=${t('prompts.listTitle')} testid="prompts-list" class="prompts-wide">
        <${Alert} kind="success" testid="prompts-notice">${notice}<//>
        <${PromptTable}
          prompts=${data.prompts}
          player=${player}
          onDelete=${(p) => {
            setDeleteError('');
            setDeleting(p);
          }}
        />
      <//>
      <${Recorder} limits=${data} player=${player} onSaved=${onSaved} />
      <${Tts} limits=${data} player=${player} onSaved=${onSaved} />
    </div>`}
    <${ConfirmDialog}
      open=${!!deleting}
      testid="prompt-delete-dialog"
      title=${t('prompts.deleteTitle')}
      message=${deleting ? t('prompts.deleteMessage', { name: deleting.display_name, file: deleting.file_name }) : ''}
      confirmLabel=${t('prompts.delete')}
      busy=${deleteBusy}
      error=${deleteError}
      onConfirm=${confirmDelete}
      onCancel=${() => setDeleting(null)}
    />
  </div>`;
}
