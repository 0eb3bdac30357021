import { ProviderError } from '../provider.js';

/**
 * Zoom's REST API v2 and recording downloads, with timeouts, one token refresh on 401, and
 * downloads that follow redirects only to Zoom's own hosts (the file host Zoom redirects to is
 * `*.zoom.us`): an attacker-controlled `download_url` or redirect can never make Tributary call
 * an internal address.
 */

const API_TIMEOUT_MS = 30_000;
const DOWNLOAD_TIMEOUT_MS = 120_000;
const MAX_REDIRECTS = 5;
/** Largest transcript downloaded: a 24-hour meeting's VTT is a few MB. */
export const MAX_TRANSCRIPT_BYTES = 32 * 1024 * 1024;

const ZOOM_DOMAINS = ['zoom.us', 'zoom.com', 'zoomgov.com'];

export interface ZoomEndpoints {
  /** `https://zoom.us` (OAuth, downloads). */
  web: string;
  /** `https://api.zoom.us/v2`. */
  api: string;
}

/** From configuration (`urls.zoom`, the sandbox stands in through it) and a token response's `api_url`. */
export function zoomEndpoints(urls: Record<string, string>, apiUrl: string | null = null): ZoomEndpoints {
  const web = (urls.zoom ?? 'https://zoom.us').replace(/\/+$/, '');
  const configuredApi = urls.zoomApi?.replace(/\/+$/, '');
  const standard = new URL(web).hostname === 'zoom.us' ? 'https://api.zoom.us' : web;
  // Zoom names the API host of the user's data residency in the token response; trust it only if it is Zoom's.
  const fromToken = apiUrl && isZoomUrl(apiUrl, web) ? apiUrl.replace(/\/+$/, '') : null;
  return { web, api: configuredApi ?? `${fromToken ?? standard}/v2` };
}

/** True for https URLs on Zoom's domains, or any URL on the configured Zoom origin (the sandbox). */
export function isZoomUrl(raw: string, configuredWeb: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.origin === new URL(configuredWeb).origin) return true;
  if (url.protocol !== 'https:' || (url.port !== '' && url.port !== '443')) return false;
  const host = url.hostname.toLowerCase();
  return ZOOM_DOMAINS.some((d) => host === d || host.endsWith(`.${d}`));
}

/** A Zoom API error: HTTP status and Zoom's numeric `code` (124 invalid token, 3301 no recording…). */
export class ZoomCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | null,
    message: string,
  ) {
    super(`Zoom answered ${status}${code !== null ? ` (code ${code})` : ''}: ${message}`);
    this.name = 'ZoomCallError';
  }
}

/** A download that will never succeed as asked (not a Zoom host, too large): skip the file rather than retry. */
export class DownloadRefused extends Error {
  override name = 'DownloadRefused';
}

export interface ZoomUserJson {
  id: string;
  email: string;
  first_name?: string;
  last_name?: string;
  display_name?: string;
  account_id?: string;
  timezone?: string;
}

export interface RecordingFileJson {
  id?: string;
  meeting_id?: string;
  recording_start?: string;
  recording_end?: string;
  file_type?: string;
  file_extension?: string;
  file_size?: number;
  download_url?: string;
  status?: string;
  recording_type?: string;
}

export interface MeetingRecordingJson {
  uuid?: string;
  id?: number | string;
  host_id?: string;
  host_email?: string;
  topic?: string;
  start_time?: string;
  timezone?: string;
  duration?: number;
  recording_files?: RecordingFileJson[];
}

export interface RecordingsPage {
  meetings?: MeetingRecordingJson[];
  next_page_token?: string;
}

export interface ZoomClientOptions {
  endpoints: ZoomEndpoints;
  fetch: typeof fetch;
  /** Current OAuth access token, and a forced refresh after a 401. */
  accessToken(): Promise<string>;
  refresh(): Promise<string>;
}

function asProviderError(err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof ZoomCallError) {
    if (err.status === 429) return new ProviderError('throttled', err.message, 60_000);
    if (err.status === 401) return new ProviderError('reauth', `${what}: ${err.message}`);
    if (err.status === 404) return new ProviderError('not_found', err.message);
    if (err.status >= 400 && err.status < 500 && err.code === 4711) return new ProviderError('app_misconfigured', `${what}: the Zoom app lacks a scope (${err.message}); add it on the app's Scopes page`);
    return new ProviderError('transient', err.message);
  }
  const name = (err as { name?: string } | null)?.name;
  return new ProviderError('transient', `${what}: ${name === 'TimeoutError' ? 'timed out' : err instanceof Error ? err.message : String(err)}`);
}

async function errorOf(res: Response): Promise<ZoomCallError> {
  const text = await res.text().catch(() => '');
  let body: { code?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not JSON (an HTML error page of the file host): the status says enough.
  }
  return new ZoomCallError(res.status, typeof body.code === 'number' ? body.code : null, typeof body.message === 'string' ? body.message : res.statusText || 'error');
}

export class ZoomClient {
  constructor(private readonly o: ZoomClientOptions) {}

  private async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    const url = `${this.o.endpoints.api}${path}`;
    for (let attempt = 0; ; attempt++) {
      const token = attempt === 0 ? await this.o.accessToken() : await this.o.refresh();
      const timeout = AbortSignal.timeout(API_TIMEOUT_MS);
      const res = await this.o.fetch(url, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        redirect: 'error',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (res.ok) return (await res.json()) as T;
      const err = await errorOf(res);
      if (res.status === 401 && attempt === 0) continue;
      throw err;
    }
  }

  /** `GET /users/me`: who the token belongs to. */
  async me(signal?: AbortSignal): Promise<ZoomUserJson> {
    try {
      const u = await this.get<ZoomUserJson>('/users/me', signal);
      if (typeof u.id !== 'string' || typeof u.email !== 'string' || !u.email) throw new ZoomCallError(502, null, 'users/me has no id or email');
      return u;
    } catch (err) {
      throw asProviderError(err, 'GET /users/me');
    }
  }

  /** `GET /users/me/recordings?from&to`, every page. Dates are UTC `yyyy-mm-dd`, at most a month apart. */
  async *recordings(from: string, to: string, signal?: AbortSignal): AsyncGenerator<MeetingRecordingJson[]> {
    let token = '';
    for (let page = 0; page < 1000; page++) {
      const q = new URLSearchParams({ from, to, page_size: '300' });
      if (token) q.set('next_page_token', token);
      let body: RecordingsPage;
      try {
        body = await this.get<RecordingsPage>(`/users/me/recordings?${q}`, signal);
      } catch (err) {
        throw asProviderError(err, 'GET /users/me/recordings');
      }
      yield Array.isArray(body.meetings) ? body.meetings : [];
      token = typeof body.next_page_token === 'string' ? body.next_page_token : '';
      if (!token) return;
    }
  }

  /**
   * Downloads a recording file as text. `bearer` is the webhook's `download_token`, or null for
   * the grant's OAuth token. Redirects are followed by hand, each hop checked against Zoom's hosts.
   */
  async download(downloadUrl: string, bearer: string | null, signal?: AbortSignal): Promise<string> {
    try {
      try {
        return await this.fetchFile(downloadUrl, bearer ?? (await this.o.accessToken()), signal);
      } catch (err) {
        if (bearer !== null || !(err instanceof ZoomCallError) || err.status !== 401) throw err;
        return await this.fetchFile(downloadUrl, await this.o.refresh(), signal);
      }
    } catch (err) {
      throw err instanceof DownloadRefused ? err : asProviderError(err, 'recording download');
    }
  }

  private async fetchFile(start: string, bearer: string, signal?: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
    const s = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let url = start;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (!isZoomUrl(url, this.o.endpoints.web)) throw new DownloadRefused(`refused to download from ${safeHost(url)}: not a Zoom host`);
      // The credential goes only to the first URL (Zoom's); the file host's link is signed by itself.
      const headers: Record<string, string> = hop === 0 ? { authorization: `Bearer ${bearer}` } : {};
      const res = await this.o.fetch(url, { headers, redirect: 'manual', signal: s });
      if (res.status >= 300 && res.status < 400) {
        const location = res.headers.get('location');
        await res.arrayBuffer().catch(() => undefined);
        if (!location) throw new ZoomCallError(res.status, null, 'redirect without Location');
        url = new URL(location, url).toString();
        continue;
      }
      if (!res.ok) throw await errorOf(res);
      return readCapped(res, MAX_TRANSCRIPT_BYTES);
    }
    throw new ProviderError('transient', `more than ${MAX_REDIRECTS} redirects downloading a recording`);
  }
}

function safeHost(raw: string): string {
  try {
    return new URL(raw).host;
  } catch {
    return 'an invalid URL';
  }
}

async function readCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > max) throw new DownloadRefused(`the file is ${declared} bytes, over the ${max}-byte limit`);
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw new DownloadRefused(`the file is over the ${max}-byte limit`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
