/**
 * The one place the console calls the server. Every call carries the session cookie (same
 * origin); calls that change state carry the session's CSRF token. Errors become ApiError, whose
 * message is words a person can read, never raw JSON.
 */

let csrfToken: string | null = null;

/** Set by the session once signed in; sent as X-CSRF-Token on every state-changing call. */
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

/** A Zoho-shaped error from the server, or a network failure, in words. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;
  /** When the server refused every item of a request (400 with a wrapper array): each item's error, in order. */
  readonly items: ApiError[];
  constructor(code: string, status: number, message: string, details: Record<string, unknown> = {}, items: ApiError[] = []) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
    this.items = items;
  }
}

/** What a person reads for a code whose server message is too terse to stand alone. */
const WORDS: Record<string, string> = {
  AUTHENTICATION_FAILURE: 'Your session has ended. Please sign in again.',
  INVALID_TOKEN: 'Your session has ended. Please sign in again.',
  NO_PERMISSION: 'You do not have permission to do this.',
  OAUTH_SCOPE_MISMATCH: 'You do not have permission to do this.',
  TOO_MANY_REQUESTS: 'Too many requests. Please wait a moment and try again.',
  INTERNAL_ERROR: 'The server could not complete this request. Please try again.',
  CSRF_TOKEN_INVALID: 'This page is out of date. Reload it and try again.',
  CANNOT_RESTORE_WITHOUT_PARENT: 'It cannot be restored while its parent record is still in the recycle bin. Restore the parent first.',
};

function words(code: string, message: string | undefined): string {
  if (WORDS[code]) return WORDS[code];
  if (message && message.trim()) return message.charAt(0).toUpperCase() + message.slice(1) + (/[.!?]$/.test(message) ? '' : '.');
  return 'Something went wrong. Please try again.';
}

/** Turns one Zoho-shaped error body (or an item of a wrapper array) into an ApiError. */
export function toApiError(body: unknown, status: number): ApiError {
  type Item = { code?: string; message?: string; details?: Record<string, unknown> } | null;
  let e = body as Item;
  let items: ApiError[] = [];
  if (e && typeof e === 'object' && !('code' in e)) {
    const wrapped = Object.values(e).find((v) => Array.isArray(v)) as unknown[] | undefined;
    if (wrapped && wrapped[0] && typeof wrapped[0] === 'object') {
      e = wrapped[0] as Item;
      if (wrapped.length > 1) items = wrapped.map((w) => toApiError(w, status));
    }
  }
  const code = typeof e?.code === 'string' ? e.code : status === 404 ? 'NOT_FOUND' : 'INTERNAL_ERROR';
  return new ApiError(code, status, words(code, e?.message), e?.details ?? {}, items);
}

export type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) {
      if (v.length) qs.set(k, v.join(','));
    } else qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

let onSignedOut: (() => void) | null = null;
/** Called when the server says the session is gone, so that the app shows the sign-in page. */
export function setSignedOutHandler(handler: (() => void) | null) {
  onSignedOut = handler;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError('NETWORK_ERROR', 0, 'The server cannot be reached. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok && res.status !== 207) {
    const err = toApiError(parsed, res.status);
    if (res.status === 401 && onSignedOut && !path.startsWith('/api/console/session')) onSignedOut();
    throw err;
  }
  return parsed as T;
}

/** GET a JSON resource; `undefined` for 204 (Zoho's "nothing here"). */
export const apiGet = <T>(path: string, query?: Query) => request<T | undefined>('GET', withQuery(path, query));
/** POST/PUT/PATCH/DELETE with a JSON body and the CSRF token. 207 (partly done) is returned, not thrown. */
export const apiSend = <T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, query?: Query) =>
  request<T>(method, withQuery(path, query), body);
