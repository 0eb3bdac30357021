import type { User } from '../directory.js';
import type { AccessToken } from '../identity/tokens.js';

/** What a Graph handler knows about the call it serves. */
export interface GraphRequest {
  method: string;
  /** Path segments after `/v1.0/me` or `/v1.0/users/{id}` (or after `/v1.0` for `subscriptions`). */
  segments: string[];
  query: Record<string, string | undefined>;
  body: unknown;
  user: User;
  token: AccessToken;
  /** `Prefer: IdType="ImmutableId"` was sent. */
  immutableIds: boolean;
  /** `Prefer: odata.maxpagesize=N`. */
  maxPageSize?: number;
}

export interface GraphResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const ok = (body: unknown, headers?: Record<string, string>): GraphResponse => (headers ? { status: 200, body, headers } : { status: 200, body });

/** Parse `Prefer` (one header with comma-separated preferences, or several headers). */
export function parsePrefer(header: string | string[] | undefined): { immutableIds: boolean; maxPageSize?: number } {
  const parts = (Array.isArray(header) ? header : [header ?? '']).flatMap((h) => h.split(','));
  let immutableIds = false;
  let maxPageSize: number | undefined;
  for (const raw of parts) {
    const p = raw.trim();
    const id = /^IdType\s*=\s*"?([A-Za-z]+)"?$/i.exec(p);
    if (id?.[1]?.toLowerCase() === 'immutableid') immutableIds = true;
    const size = /^odata\.maxpagesize\s*=\s*(\d+)$/i.exec(p);
    if (size?.[1]) maxPageSize = Math.max(1, Number(size[1]));
  }
  return maxPageSize === undefined ? { immutableIds } : { immutableIds, maxPageSize };
}

/** `$select=a,b` → set of property names (case-sensitive as Graph's are camelCase), or undefined for "all". */
export function parseSelect(raw: string | undefined): string[] | undefined {
  if (!raw) return undefined;
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  return list.length ? list : undefined;
}

/** Split a Graph path into segments; `mailFolders('inbox')` and `users('id')` become two segments. */
export function splitPath(path: string): string[] {
  const out: string[] = [];
  for (const raw of path.split('/').filter(Boolean)) {
    const seg = decodeURIComponent(raw);
    const key = /^([A-Za-z.]+)\('(.*)'\)$/.exec(seg);
    if (key?.[1] !== undefined && key[2] !== undefined) out.push(key[1], key[2]);
    else out.push(seg);
  }
  return out;
}
