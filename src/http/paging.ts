import { Type } from '@sinclair/typebox';
import { badRequest } from '../domain/errors.js';

/**
 * Offset paging of list endpoints. `next_cursor` of a page is the `page_token` of the next one
 * (the Nylas SDKs page that way); `offset` is kept for callers that count themselves.
 */
export const PageToken = Type.Optional(Type.String({ maxLength: 20, description: 'next_cursor of the previous page' }));
export const Offset = Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'rows to skip (page_token wins when both are given)' });

/** Where a page starts: the page token when given, else the offset. */
export function pageStart(q: { offset: number; page_token?: string | undefined }): number {
  if (q.page_token === undefined || q.page_token === '') return q.offset;
  if (!/^\d{1,7}$/.test(q.page_token) || Number(q.page_token) > 1_000_000) throw badRequest('page_token is not a cursor returned by this API');
  return Number(q.page_token);
}

/** Trims the one extra row fetched to learn whether more exist, and the cursor of the next page. */
export function page<T>(rows: T[], start: number, limit: number): { items: T[]; next: string | null } {
  return { items: rows.slice(0, limit), next: rows.length > limit ? String(start + limit) : null };
}
