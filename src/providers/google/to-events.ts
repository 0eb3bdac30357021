import { messageEvent, SOURCES, type AttachmentMeta, type MessageObject, type NewEvent, type Participant } from '../../domain/event.js';
import { stableId } from '../../domain/ids.js';

/**
 * A Gmail message resource (`format=full`) → the shared `message.created` object. Labels become
 * `folders`, `UNREAD`/`STARRED` the flags, `threadId` the thread; the HTML part (else the text
 * part, escaped) is the body; attachments are the parts with a filename.
 */
interface Part {
  partId?: string;
  mimeType?: string;
  filename?: string;
  headers?: { name?: string; value?: string }[];
  body?: { data?: string; size?: number; attachmentId?: string };
  parts?: Part[];
}

export interface GmailMessage {
  id: string;
  threadId?: string;
  labelIds?: string[];
  snippet?: string;
  internalDate?: string;
  payload?: Part;
}

const header = (p: Part | undefined, name: string) => p?.headers?.find((h) => h.name?.toLowerCase() === name.toLowerCase())?.value ?? '';

/** RFC 5322 address lists: `"Name" <a@b>, c@d, Name <e@f>` (commas inside quotes kept). */
export function parseAddresses(value: string): Participant[] {
  const out: Participant[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === '<') angle = true;
    if (!quoted && ch === '>') angle = false;
    if (ch === ',' && !quoted && !angle) {
      out.push(...one(cur));
      cur = '';
    } else cur += ch;
  }
  out.push(...one(cur));
  return out;
}

function one(raw: string): Participant[] {
  const s = raw.trim();
  if (!s) return [];
  const m = /^(.*)<([^>]+)>\s*$/.exec(s);
  if (m) return [{ name: m[1]!.trim().replace(/^"|"$/g, '').replace(/\\"/g, '"'), email: m[2]!.trim() }];
  return s.includes('@') ? [{ name: '', email: s }] : [];
}

const decode = (data: string | undefined) => (data ? Buffer.from(data, 'base64url').toString('utf8') : '');
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function walk(p: Part | undefined, visit: (p: Part) => void): void {
  if (!p) return;
  visit(p);
  for (const c of p.parts ?? []) walk(c, visit);
}

function bodyOf(payload: Part | undefined): string {
  // Only the part that becomes the body is decoded (the text part only when there is no HTML).
  let html: string | undefined;
  let text: string | undefined;
  walk(payload, (p) => {
    if (p.filename) return;
    if (p.mimeType === 'text/html') html ??= p.body?.data || undefined;
    if (p.mimeType === 'text/plain') text ??= p.body?.data || undefined;
  });
  if (html !== undefined) return decode(html);
  return text !== undefined ? `<pre>${escapeHtml(decode(text))}</pre>` : '';
}

function attachmentsOf(payload: Part | undefined): AttachmentMeta[] {
  const out: AttachmentMeta[] = [];
  walk(payload, (p) => {
    if (!p.filename) return;
    const disposition = header(p, 'Content-Disposition').toLowerCase();
    const cid = header(p, 'Content-ID').replace(/^<|>$/g, '');
    const meta: AttachmentMeta = { id: p.body?.attachmentId ?? p.partId ?? '', filename: p.filename, content_type: p.mimeType ?? 'application/octet-stream', size: p.body?.size ?? 0, is_inline: disposition.startsWith('inline') };
    if (cid) meta.content_id = cid;
    out.push(meta);
  });
  return out;
}

export function toMessageObject(grantId: string, m: GmailMessage): MessageObject {
  const p = m.payload;
  const labels = m.labelIds ?? [];
  return {
    id: m.id,
    grant_id: grantId,
    object: 'message',
    thread_id: m.threadId ?? m.id,
    subject: header(p, 'Subject'),
    from: parseAddresses(header(p, 'From')),
    to: parseAddresses(header(p, 'To')),
    cc: parseAddresses(header(p, 'Cc')),
    bcc: parseAddresses(header(p, 'Bcc')),
    reply_to: parseAddresses(header(p, 'Reply-To')),
    date: m.internalDate ? Math.floor(Number(m.internalDate) / 1000) : 0,
    snippet: m.snippet ?? '',
    body: bodyOf(p),
    folders: labels,
    unread: labels.includes('UNREAD'),
    starred: labels.includes('STARRED'),
    attachments: attachmentsOf(p),
  };
}

/** The same message (by Message-ID header, else Gmail id) is announced once per grant, however often history repeats it. */
export function messageEventId(applicationId: string, grantId: string, m: GmailMessage): string {
  return stableId(applicationId, grantId, 'message', header(m.payload, 'Message-ID') || m.id);
}

export function gmailMessageEvent(a: { applicationId: string; grantId: string; message: GmailMessage; historic: boolean; now: Date }): NewEvent {
  const e = messageEvent({
    id: messageEventId(a.applicationId, a.grantId, a.message),
    source: a.historic ? SOURCES.historic('google') : SOURCES.realtime('google'),
    provider: 'google',
    message: toMessageObject(a.grantId, a.message),
  });
  return { ...e, time: Math.floor(a.now.getTime() / 1000) };
}
