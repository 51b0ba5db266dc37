// The JSON API client (same origin, /api/v1).
//
// - Every request carries Accept-Language (zh-CN or en) from i18n.js; the server
//   localizes `error.message`, which the UI shows as is.
// - Errors are thrown as ApiError { status, code, message }. A transport failure
//   is status 0, code 'network', with a client-side message.
// - 401 on any call (except the login itself and the logout) calls the
//   `unauthorized` handler, which sends the user to the login page; 403 with code
//   `password_change_required` calls `passwordChangeRequired`, which shows the
//   forced change form. The error is still thrown to the caller.
// - The session cookie is HttpOnly; the browser sends it (credentials: same-origin).

import { langTag, t } from './i18n.js';

const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
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

export const api = {
  /** → { must_change_password } ; 401 bad login, 429 locked out */
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
};
