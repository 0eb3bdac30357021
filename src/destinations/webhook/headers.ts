import type { Unit } from './units.js';

export const USER_AGENT = 'Tributary-Webhooks/1.0';

/**
 * The headers of one POST, in the order they go on the wire: the user's extra headers (lower-cased
 * names, their order), then content type and user agent, the CloudEvents binary-mode headers and
 * the signatures. One of ours replaces a user header of the same name where the user's stood, so
 * nobody can override the content type or a signature; `content-encoding` is added last when the
 * body is gzipped.
 */
export function requestHeaders(extra: Readonly<Record<string, string>>, unit: Unit, signatures: Readonly<Record<string, string>>, gzip = false): Record<string, string> {
  const headers: Record<string, string> = { ...extra };
  headers['content-type'] = unit.contentType;
  headers['user-agent'] = USER_AGENT;
  Object.assign(headers, unit.ceHeaders, signatures);
  if (gzip) headers['content-encoding'] = 'gzip';
  return headers;
}
