// The JSON API client (same origin, /api/v1).
//
// - Every request carries Accept-Language (zh-CN or en) from i18n.js; the server
//   localizes `error.message`, which the UI shows as is.
// - Errors are thrown as ApiError { status, code, message, field }. A transport failure
//   is status 0, code 'network', with a client-side message.
// - 401 on any call (except the login itself and the logout) calls the
//   `unauthorized` handler, which sends the user to the login page; 403 with code
//   `password_change_required` calls `passwordChangeRequired`, which shows the
//   forced change form. The error is still thrown to the caller.
// - The session cookie is HttpOnly; the browser sends it (credentials: same-origin).
// - The live stream (GET /api/v1/events, server-sent events) is opened by live.js;
//   when the server refuses it, `verifySession` asks GET /session so that the same
//   handlers route to the login page or the forced change.

import { langTag, t } from './i18n.js';

const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    /** The input the refusal is about (`error.field`), when the server names one. */
    this.field = field;
  }
}

let handlers = {
  unauthorized() {},
  passwordChangeRequired() {},
};

export function setAuthHandlers(h) {
  handlers = { ...handlers, ...h };
}

export async function request(method, path, { body, authRedirect = true } = {}) {
  const headers = {
    Accept: 'application/json',
    'Accept-Language': langTag(),
  };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }

  let data = null;
  let text = '';
  try {
    text = await res.text();
  } catch {
    // body lost: treated as empty
  }
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;

  const e = data && typeof data === 'object' ? data.error : null;
  const err = new ApiError(
    res.status,
    (e && e.code) || `http_${res.status}`,
    (e && e.message) || t('error.http', { status: res.status }),
    (e && typeof e.field === 'string' && e.field) || null,
  );
  if (authRedirect) {
    if (res.status === 401) handlers.unauthorized(err);
    else if (res.status === 403 && err.code === 'password_change_required') handlers.passwordChangeRequired(err);
  }
  throw err;
}

/** True for errors already handled by a redirect (login page or forced change). */
export function isAuthRedirect(err) {
  return err instanceof ApiError && (err.status === 401 || (err.status === 403 && err.code === 'password_change_required'));
}

/**
 * Asks GET /session whether the session is still usable, for callers that cannot see an
 * HTTP status themselves (EventSource). 401 → login page, must_change_password → the
 * forced change (through the handlers above); both answer false. True when the session
 * is fine or the device could not be asked (network: the caller should retry).
 */
export async function verifySession() {
  try {
    const s = await request('GET', '/session');
    if (s && s.must_change_password) {
      handlers.passwordChangeRequired(new ApiError(403, 'password_change_required', ''));
      return false;
    }
    return true;
  } catch (err) {
    return !isAuthRedirect(err);
  }
}

export const api = {
  /** → { must_change_password, role: 'admin' | 'agent' | 'leader' } ; 401 bad login, 429 locked out */
  login: (username, password) =>
    request('POST', '/session', { body: { username, password }, authRedirect: false }),
  /** → { username, role, must_change_password } or 401 */
  session: () => request('GET', '/session'),
  logout: () => request('DELETE', '/session', { authRedirect: false }),
  changePassword: (oldPassword, newPassword) =>
    request('POST', '/account/password', { body: { old_password: oldPassword, new_password: newPassword } }),
  /** → { platform_enabled } */
  accountSettings: () => request('GET', '/account/settings'),
  saveAccountSettings: (settings) => request('PUT', '/account/settings', { body: settings }),
  /** → { product, version, hostname, tls_fingerprint_sha256, started_at } */
  about: () => request('GET', '/about'),
  /** → { counts, trend[24], queues, agents, callers, pbx } (manual §3) */
  dashboard: () => request('GET', '/dashboard'),
  /** → { hostname, version, system_uptime_seconds, console_uptime_seconds, memory, disk, usb[] } */
  system: () => request('GET', '/system'),
  /**
   * An Asterisk CLI command → { output: [lines], ok }. 409 `confirmation_required` for a
   * command that stops or restarts Asterisk (resend with confirmed = true), 400
   * `empty_command`, 503 `pbx_unavailable`.
   */
  consoleCommand: (command, confirmed = false) =>
    request('POST', '/console/command', { body: { command, confirmed } }),

  // 坐席管理 (manual §4). Refusals (400/409) name the field in `error.field`:
  // name, job_number, extension, password or extension_type.
  /** → [{ id, name, job_number, leader, extension, extension_type, queues: ['222'] }] */
  agents: () => request('GET', '/agents'),
  /** { name, job_number, leader, extension, password, extension_type } → 201 agent */
  createAgent: (agent) => request('POST', '/agents', { body: agent }),
  /** Same body; without `password` the password is kept. → agent */
  updateAgent: (id, agent) => request('PUT', `/agents/${encodeURIComponent(id)}`, { body: agent }),
  deleteAgent: (id) => request('DELETE', `/agents/${encodeURIComponent(id)}`),
  /** → { password } (the reveal is written to the audit trail) */
  agentPassword: (id) => request('GET', `/agents/${encodeURIComponent(id)}/password`),
  /** The PBX's extensions → [{ extension, interface, technology, agent: name | null }] */
  pbxExtensions: () => request('GET', '/pbx/extensions'),

  // 队列管理 (manual §5).
  /** → { strategies: [...], queues: [{ queue, name, strategy, pending, members: [{ agent_id, name, job_number, extension }] }] } */
  queues: () => request('GET', '/queues'),
  /** { name?, strategy? } → queue */
  updateQueue: (queue, change) => request('PUT', `/queues/${encodeURIComponent(queue)}`, { body: change }),
  /** → queue ; 409 already_member */
  addQueueMember: (queue, agentId) =>
    request('POST', `/queues/${encodeURIComponent(queue)}/members`, { body: { agent_id: agentId } }),
  /** → queue */
  removeQueueMember: (queue, agentId) =>
    request('DELETE', `/queues/${encodeURIComponent(queue)}/members/${encodeURIComponent(agentId)}`),

  // 操作日志 (manual §8) and the audit trail: newest first, `q` over every column,
  // per_page ∈ 10, 25, 50, 100. → { total, page, per_page, rows }
  oplog: (params) => request('GET', `/oplog?${pageQuery(params)}`),
  audit: (params) => request('GET', `/audit?${pageQuery(params)}`),

  // The signed-in agent's own page (role agent or leader).
  /** → { agent: { id, name, job_number, extension, leader }, status, paused, pause_reason, queues, pause_reasons, pbx_connected, screen_pop: { url, uniqueid, direction } | null } */
  me: () => request('GET', '/me'),
  /** `reason` '' = none chosen (logged as 未知). → me ; 503 pbx_unavailable */
  pause: (reason) => request('POST', '/me/pause', { body: { reason } }),
  unpause: () => request('POST', '/me/unpause'),

  // 客户留言 (manual §7): the queue mailboxes' messages (admin).
  /**
   * { search, sort: number|name|queue|date|duration, dir: asc|desc, page, perPage } →
   * { total, unfiltered, page, per_page, rows: [{ id, number, name, queue, date, duration,
   *   urgent, folder, size, content_type, browser_playable, … }] }
   */
  voicemail: ({ search = '', sort = 'date', dir = 'desc', page = 1, perPage = 10 } = {}) =>
    request(
      'GET',
      `/voicemail?${new URLSearchParams({ search, sort, dir, page: String(page), per_page: String(perPage) })}`,
    ),
  /** → 204 ; 404 voicemail_not_found, 503 voicemail_busy */
  deleteVoicemail: (id) => request('DELETE', `/voicemail/${encodeURIComponent(id)}`),

  // 录音列表 (manual §6): any session; the server scopes the rows (admin all, leaders by
  // the manual's rules, agents their own). → { items, total, page, per_page, queues,
  // agents, can_delete, can_annotate, can_download }
  recordings: (filters = {}) => request('GET', `/recordings?${recordingsQuery(filters)}`),
  /** → { file_was_missing } */
  deleteRecording: (id) => request('DELETE', `/recordings/${encodeURIComponent(id)}`),
  /** '' clears the note; ≤ 500 characters. → the updated item */
  annotateRecording: (id, note) => request('PUT', `/recordings/${encodeURIComponent(id)}/note`, { body: { note } }),
  // 其他设置 (manual §9.2): the call-flow document, saved as a whole. Refusals (400) name
  // the field: start_prompt, end_prompt, survey_prompt, screen_pop_inbound,
  // screen_pop_outbound, or `play` (the 10 s rule, with every figure in the message).
  /** → { settings, pending, figures, job_number_say_ms, prompts: [{ name, duration_ms }], placeholders } */
  callFlow: () => request('GET', '/settings/call-flow'),
  saveCallFlow: (settings) => request('PUT', '/settings/call-flow', { body: settings }),
  /** Days YYYY-MM-DD, both included → { from, to, agents: [{ agent_name, job_number, count, average, distribution[5] }], total } */
  surveyReport: (from, to) =>
    request('GET', `/reports/survey?${new URLSearchParams({ from: from || '', to: to || '' })}`),

  // 固件升级 (admin menu, system section): RAUC over the daemon.
  /** → { available, unavailable_reason, compatible, boot_slot, slots[], progress, uploaded } */
  firmware: () => request('GET', '/firmware'),
  /** Install the uploaded bundle into the inactive slot → 202 bundle info; 404 no_bundle, 409 busy */
  installFirmware: () => request('POST', '/firmware/install'),

  // 自定义表 (manual §9.3). Refusals name `error.field`: name, kind, options, priority, remark.
  /** → [{ id, name, kind, options: [..], priority, remark, visible }] by priority */
  customFields: () => request('GET', '/custom-fields'),
  /** { name, kind, options, priority, remark, visible } → 201 attribute ; 409 name_taken */
  createCustomField: (field) => request('POST', '/custom-fields', { body: field }),
  updateCustomField: (id, field) => request('PUT', `/custom-fields/${encodeURIComponent(id)}`, { body: field }),
  deleteCustomField: (id) => request('DELETE', `/custom-fields/${encodeURIComponent(id)}`),

  // 删除数据 (manual §9.2).
  /** → { customers, oplog, outbound_plans, service_records } row counts */
  dataCounts: () => request('GET', '/data-deletion'),
  /** → { deleted } ; 409 count_changed when `count` is no longer the number of rows */
  deleteData: (kind, count) =>
    request('DELETE', `/data-deletion/${encodeURIComponent(kind)}?confirmed_count=${encodeURIComponent(count)}`),

  // 邮件通知 (manual §9.2). The password is write-only (`password_set` tells if there is one).
  /** → { enabled, host, port, security, username, password_set, sender, recipients, threshold: { unit, value } } */
  mailSettings: () => request('GET', '/mail-settings'),
  /** Same shape with `password` (left out: kept) → settings ; 400 names `error.field` */
  saveMailSettings: (settings) => request('PUT', '/mail-settings', { body: settings }),
  /** The form as it is → the SMTP server's answer { code, message: [lines] } ; 502 with why not */
  testMail: (settings) => request('POST', '/mail-settings/test', { body: settings }),

  // PBX手册 (manual §12).
  /**
   * Whether the PBX's manual is installed: HEAD (the file itself is not fetched) → true;
   * when it is not, GET for the server's message, thrown as ApiError (404 pbx_manual_missing).
   */
  async pbxManual() {
    let res;
    try {
      res = await fetch(BASE + PBX_MANUAL, {
        method: 'HEAD',
        headers: { 'Accept-Language': langTag() },
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'error',
      });
    } catch {
      throw new ApiError(0, 'network', t('error.network'));
    }
    if (res.ok) return true;
    await request('GET', PBX_MANUAL);
    return true; // installed between the two requests
  },
};

/** The PBX's manual, shown inline; `PBX_MANUAL_DOWNLOAD` as an attachment. */
const PBX_MANUAL = '/manuals/pbx';
export const PBX_MANUAL_URL = BASE + PBX_MANUAL;
export const PBX_MANUAL_DOWNLOAD_URL = `${BASE}${PBX_MANUAL}?download=1`;

/**
 * POSTs `body` with XMLHttpRequest, which unlike fetch reports upload progress:
 * `onProgress(sent, total)` (`size` when the browser cannot tell the total). Resolves with
 * the JSON answer (2xx); rejects with ApiError carrying the server's localized message and
 * field, after the same 401 / forced-change handling as `request`. `signal` cancels.
 */
function uploadWithProgress(path, body, { contentType, size, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${BASE}${path}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Accept-Language', langTag());
    if (contentType) xhr.setRequestHeader('Content-Type', contentType);
    xhr.responseType = 'text';
    if (onProgress) {
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : size);
    }
    xhr.onerror = () => reject(new ApiError(0, 'network', t('error.network')));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', t('error.network')));
    xhr.onload = () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(data);
        return;
      }
      const e = data && typeof data === 'object' ? data.error : null;
      const err = new ApiError(
        xhr.status,
        (e && e.code) || `http_${xhr.status}`,
        (e && e.message) || t('error.http', { status: xhr.status }),
        (e && typeof e.field === 'string' && e.field) || null,
      );
      if (xhr.status === 401) handlers.unauthorized(err);
      else if (xhr.status === 403 && err.code === 'password_change_required') handlers.passwordChangeRequired(err);
      reject(err);
    };
    if (signal) signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/**
 * Uploads a firmware bundle (the raw file as the body) with upload progress. Resolves with
 * the bundle info (200); rejects with the server's refusal (413, 422, 409, 503…).
 */
export function uploadBundle(file, { onProgress, signal } = {}) {
  return uploadWithProgress('/firmware/bundle', file, {
    contentType: 'application/octet-stream',
    size: file.size,
    onProgress,
    signal,
  });
}

// 语音管理 (manual §9.1): prompts on flash, browser recordings and TTS.

/** → { prompts: [{ name, display_name, file_name, source_format, size_bytes, duration_ms, created_at }], max_upload_seconds, max_upload_mb, max_name_chars, max_tts_chars } */
export const promptsApi = {
  list: () => request('GET', '/prompts'),
  /** 409 prompt_in_use when the call-flow settings play it. */
  remove: (name) => request('DELETE', `/prompts/${encodeURIComponent(name)}`),
  audioUrl: (name, download = false) => `${BASE}/prompts/${encodeURIComponent(name)}/audio${download ? '?download=1' : ''}`,
  /**
   * Text → the converted WAV (not saved) as { blob, durationMs }. Refusals (empty or too
   * long text, engine missing or failing) are thrown as ApiError with the server's message.
   */
  async tts(text) {
    let res;
    try {
      res = await fetch(`${BASE}/tts`, {
        method: 'POST',
        headers: { Accept: 'audio/wav, application/json', 'Accept-Language': langTag(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ text }),
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'error',
      });
    } catch {
      throw new ApiError(0, 'network', t('error.network'));
    }
    if (res.ok) {
      return { blob: await res.blob(), durationMs: Number(res.headers.get('x-duration-ms')) || 0 };
    }
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    const e = data && typeof data === 'object' ? data.error : null;
    const err = new ApiError(res.status, (e && e.code) || `http_${res.status}`, (e && e.message) || t('error.http', { status: res.status }), (e && e.field) || null);
    if (res.status === 401) handlers.unauthorized(err);
    else if (res.status === 403 && err.code === 'password_change_required') handlers.passwordChangeRequired(err);
    throw err;
  },
};

/**
 * Uploads a prompt (multipart: name, source, file) with XMLHttpRequest for the progress
 * bar: `onProgress(sent, total)`. `source` is 'file', 'browser' (a recording made on the
 * page) or 'tts'. Resolves with the saved prompt (201); rejects with ApiError carrying the
 * server's message and field (not audio, corrupt, empty, too long, too large, name taken…).
 */
export function uploadPrompt({ name, blob, fileName, source = 'file' }, { onProgress } = {}) {
  const form = new FormData();
  form.append('name', name);
  form.append('source', source);
  form.append('file', blob, fileName);
  return uploadWithProgress('/prompts', form, { size: blob.size, onProgress });
}

/**
 * The administrator manual (our own static HTML in dist/manual/, not the API) for `lang`:
 * → the HTML text. Its URL is `adminManualUrl(lang)`.
 */
export function adminManualUrl(lang) {
  return `/manual/admin-manual.${lang === 'en' ? 'en' : 'zh'}.html`;
}

export async function fetchAdminManual(lang) {
  let res;
  try {
    res = await fetch(adminManualUrl(lang), { credentials: 'same-origin', cache: 'no-cache', redirect: 'error' });
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }
  if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, t('error.http', { status: res.status }));
  return res.text();
}

/** The audio of a voicemail message: played inline (ranges) or, with `download`, as a file. */
export function voicemailAudioUrl(id, { download = false } = {}) {
  return `${BASE}/voicemail/${encodeURIComponent(id)}/audio${download ? '?download=1' : ''}`;
}

/** The audio of a recording: played inline (ranges) or, with `download`, as a file. */
export function recordingAudioUrl(id, { download = false } = {}) {
  return `${BASE}/recordings/${encodeURIComponent(id)}/audio${download ? '?download=1' : ''}`;
}

/** The most recordings one ZIP may hold (manual §6: 一次下载限制 20 条); the server refuses more too. */
export const ZIP_LIMIT = 20;

/**
 * The checked recordings as one ZIP → { blob, fileName }. Fetched (not a bare link) so that a
 * refusal (400 too_many_recordings, 404 recording_file_missing…) reaches the page as the
 * server's localized message instead of a failed browser download; at most ZIP_LIMIT
 * recordings, so the bytes held in the page stay bounded.
 */
export async function fetchRecordingsZip(ids) {
  const path = `/recordings/zip?${new URLSearchParams({ ids: ids.join(',') })}`;
  let res;
  try {
    res = await fetch(BASE + path, {
      headers: { Accept: 'application/zip, application/json', 'Accept-Language': langTag() },
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }
  if (!res.ok) {
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    const e = data && typeof data === 'object' ? data.error : null;
    const err = new ApiError(
      res.status,
      (e && e.code) || `http_${res.status}`,
      (e && e.message) || t('error.http', { status: res.status }),
    );
    if (res.status === 401) handlers.unauthorized(err);
    else if (res.status === 403 && err.code === 'password_change_required') handlers.passwordChangeRequired(err);
    throw err;
  }
  let blob;
  try {
    blob = await res.blob();
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }
  return { blob, fileName: attachmentName(res.headers.get('Content-Disposition')) || 'recordings.zip' };
}

/** The file name of a Content-Disposition header (RFC 6266 `filename*` first), or ''. */
export function attachmentName(header) {
  if (!header) return '';
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/.exec(header);
  return plain ? (plain[1] ?? plain[2] ?? '').trim() : '';
}

const RECORDING_FILTERS = ['customer', 'customer_match', 'number', 'queue', 'agent', 'from', 'to', 'call_type'];

/** The recordings query: empty filters are left out; page and per_page always sent. */
function recordingsQuery(filters) {
  const q = new URLSearchParams();
  for (const key of RECORDING_FILTERS) {
    const v = filters[key];
    if (v !== undefined && v !== null && String(v).trim() !== '') q.set(key, String(v).trim());
  }
  q.set('page', String(filters.page || 1));
  q.set('per_page', String(filters.perPage || 25));
  return q.toString();
}

function pageQuery({ q = '', page = 1, perPage = 25 } = {}) {
  return new URLSearchParams({ q, page: String(page), per_page: String(perPage) }).toString();
}
