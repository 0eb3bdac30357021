/**
 * A small client of the REST API for the data commands: TRIBUTARY_URL and TRIBUTARY_API_KEY
 * say where and who. Errors carry the API's own message.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiClient {
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ data: T; next_cursor?: string | null }>;
}

export function apiClient(env: Record<string, string | undefined> = process.env): ApiClient {
  const base = (env.TRIBUTARY_URL || 'http://127.0.0.1:4000').replace(/\/+$/, '');
  const key = env.TRIBUTARY_API_KEY;
  return {
    async request(method, path, body) {
      if (!key) throw new ApiError(0, 'config', 'set TRIBUTARY_API_KEY to an API key of your application (printed at first start)');
      let res: Response;
      try {
        res = await fetch(base + path, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch {
        throw new ApiError(0, 'network', `cannot reach ${base}; is Tributary running? (set TRIBUTARY_URL)`);
      }
      const json = (await res.json().catch(() => ({}))) as { data?: unknown; next_cursor?: string | null; error?: { type: string; message: string } };
      if (!res.ok) throw new ApiError(res.status, json.error?.type ?? 'error', json.error?.message ?? `HTTP ${res.status}`);
      return json as { data: never; next_cursor?: string | null };
    },
  };
}
