/**
 * The dashboard talks to the same v3 API as every client, authenticated by its session cookie,
 * plus /dashboard/api for sign-in and aggregates. State-changing calls carry the session's CSRF
 * token. Errors keep the server's message so forms can show it as is.
 */
let csrfToken: string | null = null;
let onSignedOut: () => void = () => undefined;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}
export function onSessionEnded(handler: () => void): void {
  onSignedOut = handler;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** The server has no such endpoint (a feature not installed or not landed yet). */
  get unavailable(): boolean {
    return this.status === 404 && this.message.startsWith('no route for');
  }
}

export interface Envelope<T> {
  request_id: string;
  data: T;
  next_cursor?: string | null;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<Envelope<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError(0, 'network', 'the server could not be reached; check that Tributary is running');
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = (parsed as { error?: { type?: string; message?: string } } | null)?.error;
    const e = new ApiError(res.status, err?.type ?? 'error', err?.message ?? `the server answered ${res.status}`);
    if (res.status === 401 && !path.startsWith('/dashboard/api/login') && !path.startsWith('/dashboard/api/setup')) onSignedOut();
    throw e;
  }
  return parsed as Envelope<T>;
}

export const get = async <T>(path: string): Promise<T> => (await request<T>('GET', path)).data;
export const post = async <T>(path: string, body?: unknown): Promise<T> => (await request<T>('POST', path, body ?? {})).data;
export const patch = async <T>(path: string, body: unknown): Promise<T> => (await request<T>('PATCH', path, body)).data;
export const put = async <T>(path: string, body: unknown): Promise<T> => (await request<T>('PUT', path, body)).data;
export const del = async <T>(path: string): Promise<T> => (await request<T>('DELETE', path)).data;

/** Builds a query string from the defined values only. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}
