// The session and every call to the gateway. The access token lives in memory only (ADR 0080): a
// reload restores the session from the httpOnly refresh cookie, which the page never reads.

const listeners = new Set();
let session = null; // {token, expiresAt: Date, account, sessionId}
let refreshTimer = null;
let refreshing = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    // {field: message}: forms put each message beside the input it names.
    this.fields = {};
    for (const error of this.problem.errors || []) {
      if (error.field && !this.fields[error.field]) this.fields[error.field] = error.message || error.detail || this.message;
    }
  }
}

export const currentSession = () => session;

export function onSession(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setSession(body) {
  clearTimeout(refreshTimer);
  session = body
    ? { token: body.access_token, expiresAt: new Date(body.expires_at), account: body.account, sessionId: body.session_id }
    : null;
  if (session) {
    // Refresh a minute before the token lapses (at least 10 s from now), so calls never meet a 401.
    const wait = Math.max(10_000, session.expiresAt - Date.now() - 60_000);
    refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
  }
  for (const listener of listeners) listener(session);
}

async function send(method, path, { body, query, headers = {}, token } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(url, init);
}

async function parse(response) {
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await response.json().catch(() => null) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** A new access token from the refresh cookie; one at a time, however many callers ask. */
export function refresh() {
  refreshing ??= send('POST', '/api/v1/auth/refresh')
    .then(parse)
    .then((body) => {
      setSession(body);
      return body;
    })
    .catch((error) => {
      if (error instanceof ApiError && error.status === 401) setSession(null);
      throw error;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** At start: the session the refresh cookie still holds, or none. */
export async function restore() {
  try {
    await refresh();
  } catch {
    setSession(null);
  }
  return session;
}

/** A call with the session's token; one refresh and a retry when the token was refused. */
export async function api(method, path, options = {}) {
  const first = await send(method, path, { ...options, token: session?.token });
  if (first.status === 401 && session) {
    try {
      await refresh();
    } catch {
      throw new ApiError(401, { detail: 'session ended' });
    }
    return parse(await send(method, path, { ...options, token: session?.token }));
  }
  return parse(first);
}

export const get = (path, query) => api('GET', path, { query });
export const post = (path, body, headers) => api('POST', path, { body, headers });
export const put = (path, body) => api('PUT', path, { body });

/** A file the API serves behind the token (the hours certificate), saved by the browser. */
export async function download(path, filename) {
  const response = await send('GET', path, { token: session?.token, headers: { Accept: '*/*' } });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export async function loginWithPassword(username, password) {
  setSession(await parse(await send('POST', '/api/v1/auth/login', { body: { username, password } })));
  return session;
}

export async function askForCode(phone) {
  return parse(await send('POST', '/api/v1/auth/code', { body: { phone } }));
}

export async function loginWithCode(phone, code) {
  setSession(await parse(await send('POST', '/api/v1/auth/code/verify', { body: { phone, code } })));
  return session;
}

export async function logout() {
  try {
    await send('POST', '/api/v1/auth/logout', { token: session?.token });
  } finally {
    setSession(null);
  }
}

/** The development inbox answers only in local profiles; elsewhere the login page hides its link. */
export async function devInbox(to) {
  return parse(await send('GET', '/api/v1/dev/inbox', { query: { to, limit: 20 } }));
}

/** A fresh Idempotency-Key: a retried order (a double tap, a dropped line) is stored once. */
export const idempotencyKey = () =>
  (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);
