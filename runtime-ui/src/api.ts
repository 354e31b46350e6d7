/**
 * The one way the UI talks to the server: the public REST API, with the session cookie the login set.
 * Errors come back as ApiError carrying the API's code, message (already in the user's language) and
 * details with JSON-pointer paths. A 401 on anything but the login sends the browser to the login page,
 * remembering where it was going.
 */
export interface ErrorDetail {
  path?: string;
  code?: string;
  message: string;
  rule?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly body: any = undefined,
  ) {
    super(message);
  }
}

let language = 'zh-CN';
/** Set by the language switch: every request asks for messages in it. */
export function setApiLanguage(lang: string) {
  language = lang;
}

/** Messages joined as one sentence of the UI's language: "；" in Chinese, "; " in English. */
export const joinMessages = (messages: string[]) =>
  messages.filter((m, i) => m && messages.indexOf(m) === i).join(language === 'en' ? '; ' : '；');
/** What a failed request says, for a toast or an alert: the API's message and each detail's, in the UI's language. */
export const errorText = (e: unknown) =>
  e instanceof ApiError ? joinMessages([e.message, ...e.details.map((d) => d.message)]) : String(e);

/**
 * How far the server's clock is ahead of this browser's (from each answer's Date header): "today" and
 * "last 7 days" are counted from the server's time, so a browser with a wrong clock filters the same
 * days as everyone else (in the user's own time zone, the one dates are shown in).
 */
let clockSkew = 0;
function noteServerClock(date: string | null) {
  const server = date ? Date.parse(date) : Number.NaN;
  // The header has whole seconds: only a real difference counts.
  if (!Number.isNaN(server) && Math.abs(server - Date.now()) > 2000) clockSkew = server - Date.now();
}
export const serverNow = () => new Date(Date.now() + clockSkew);

let onUnauthenticated: (() => void) | undefined;
export function setUnauthenticatedHandler(handler: () => void) {
  onUnauthenticated = handler;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Return the raw Response (CSV export). */
  raw?: boolean;
  signal?: AbortSignal;
}

export async function api<T = any>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    signal: options.signal,
    headers: {
      'accept-language': language,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  noteServerClock(res.headers.get('date'));
  if (options.raw && res.ok) return res as T;
  const text = await res.text();
  const json = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const error = json?.error ?? {};
    if (res.status === 401 && path !== '/api/auth/login') onUnauthenticated?.();
    throw new ApiError(res.status, error.code ?? 'http_error', error.message ?? res.statusText, error.details ?? [], json);
  }
  return json as T;
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const get = <T = any>(path: string, options?: RequestOptions) => api<T>('GET', path, undefined, options);
export const post = <T = any>(path: string, body?: unknown, options?: RequestOptions) => api<T>('POST', path, body ?? {}, options);

/** A query string from defined values only. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
}
