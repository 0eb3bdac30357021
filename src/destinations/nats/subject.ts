import type { StoredEvent } from '../../domain/event.js';

/**
 * Subjects from the stream's template: `{type}` becomes the event type (its dots become subject
 * tokens: `message.created` → `…message.created…`), `{grant_id}` the grant id as one token.
 * Characters a subject token cannot hold (space, `.`, `*`, `>`, control characters) are
 * replaced by `_`, so an id can never add tokens or wildcards.
 */
export const SUBJECT_PATTERN = '^[A-Za-z0-9_\\-{}]+(\\.[A-Za-z0-9_\\-{}]+)*$';
export const DEFAULT_SUBJECT = 'tributary.{type}.{grant_id}';
/** The token for events that belong to no grant. */
export const NO_GRANT = '_none';

const token = (s: string) => (s === '' ? '_' : s.replace(/[^A-Za-z0-9_-]/g, '_'));

export function validateTemplate(template: string): void {
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).filter((n) => n !== 'type' && n !== 'grant_id');
  if (unknown.length) throw new Error(`unknown subject placeholder {${unknown[0]}}: only {type} and {grant_id} are replaced`);
  if (!new RegExp(SUBJECT_PATTERN).test(template)) throw new Error(`"${template}" is not a valid subject template: tokens of letters, digits, _ and -, separated by dots, no wildcards`);
}

export function renderSubject(template: string, e: Pick<StoredEvent, 'type' | 'grantId'>): string {
  const type = e.type.split('.').map(token).join('.');
  return template.replaceAll('{type}', type).replaceAll('{grant_id}', e.grantId ? token(e.grantId) : NO_GRANT);
}
