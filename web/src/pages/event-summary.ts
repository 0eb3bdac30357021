import type { CloudEvent } from '../types.js';

/** One line that says what an event is about (a message's subject and sender, a grant's email…). */
export function eventSummary(e: CloudEvent): string {
  const o = e.data.object;
  if (e.type.startsWith('message.')) {
    const from = Array.isArray(o.from) ? (o.from[0] as { email?: string; name?: string } | undefined) : undefined;
    const subject = typeof o.subject === 'string' && o.subject ? o.subject : '(no subject)';
    return from ? `${subject} — from ${from.name || from.email}` : subject;
  }
  if (e.type.startsWith('grant.')) return typeof o.email === 'string' ? o.email : String(o.grant_id ?? '');
  if (typeof o.topic === 'string') return o.topic;
  return e.source;
}
