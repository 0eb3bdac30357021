import { randomBytes, randomInt } from 'node:crypto';

/**
 * Gmail mailboxes in memory: messages with labels, a history log whose ids increase but are not
 * contiguous, the oldest history id still available (older start ids answer 404, as Gmail does
 * once history has been pruned), and one watch per mailbox.
 */
export interface MailInput {
  from?: { name?: string; address: string };
  to?: { name?: string; address: string }[];
  cc?: { name?: string; address: string }[];
  subject?: string;
  html?: string;
  text?: string;
  labelIds?: string[];
  /** Unix ms; default now. */
  date?: number;
  attachments?: { filename: string; contentType: string; size: number }[];
}

export interface GmailMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  historyId: number;
  internalDate: number;
  messageIdHeader: string;
  input: MailInput;
}

export interface HistoryRecord {
  id: number;
  messageId: string;
}

export interface Watch {
  topicName: string;
  labelIds: string[];
  expiration: number;
}

export const SYSTEM_LABELS = ['INBOX', 'SENT', 'DRAFT', 'SPAM', 'TRASH', 'UNREAD', 'STARRED', 'IMPORTANT', 'CATEGORY_PERSONAL', 'CATEGORY_UPDATES'];

const hexId = () => randomBytes(8).toString('hex').replace(/^0+/, '1');

export class Mailbox {
  readonly messages = new Map<string, GmailMessage>();
  readonly history: HistoryRecord[] = [];
  historyId = randomInt(100_000, 900_000);
  /** Start ids below this answer 404 (history no longer available). */
  minHistoryId = this.historyId;
  watch: Watch | null = null;
  readonly userLabels: { id: string; name: string }[] = [];
  /** messages.list order (newest first), kept until the next delivery: paging a large mailbox must not sort it once per page. */
  private listed: GmailMessage[] | null = null;

  constructor(readonly email: string) {}

  deliver(input: MailInput, now: number, threadId?: string): GmailMessage {
    // Gmail history ids grow by more than one per change (other changes in between).
    this.historyId += randomInt(1, 7);
    const id = hexId();
    const m: GmailMessage = {
      id,
      threadId: threadId ?? id,
      labelIds: input.labelIds ?? ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL'],
      historyId: this.historyId,
      internalDate: input.date ?? now,
      messageIdHeader: `<${randomBytes(12).toString('hex')}@mail.example>`,
      input,
    };
    this.messages.set(id, m);
    this.history.push({ id: this.historyId, messageId: id });
    this.listed = null;
    return m;
  }

  /** Every message, newest first (by internalDate, then history id), as messages.list pages them. */
  newestFirst(): readonly GmailMessage[] {
    this.listed ??= [...this.messages.values()].sort((x, y) => y.internalDate - x.internalDate || y.historyId - x.historyId);
    return this.listed;
  }

  /** Prunes history: every start id below the current one now answers 404. */
  expireHistory(): void {
    this.minHistoryId = this.historyId + 1;
    this.history.length = 0;
  }
}

const addr = (a: { name?: string; address: string }) => (a.name ? `"${a.name.replace(/"/g, '')}" <${a.address}>` : a.address);
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

function headers(m: GmailMessage, owner: string): { name: string; value: string }[] {
  const i = m.input;
  const h = [
    { name: 'Delivered-To', value: owner },
    { name: 'Date', value: new Date(m.internalDate).toUTCString().replace('GMT', '+0000') },
    { name: 'From', value: addr(i.from ?? { address: 'sender@example.com' }) },
    { name: 'To', value: (i.to ?? [{ address: owner }]).map(addr).join(', ') },
    { name: 'Subject', value: i.subject ?? '' },
    { name: 'Message-ID', value: m.messageIdHeader },
    { name: 'MIME-Version', value: '1.0' },
  ];
  if (i.cc?.length) h.push({ name: 'Cc', value: i.cc.map(addr).join(', ') });
  return h;
}

function bodyHtml(m: GmailMessage): string {
  return m.input.html ?? `<div>${(m.input.text ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;')}</div>`;
}

export function snippet(m: GmailMessage): string {
  const text = m.input.text ?? bodyHtml(m).replace(/<[^>]+>/g, ' ');
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

const rendered = new WeakMap<GmailMessage, string>();

/**
 * users.messages.get in `full` format as JSON text. A message without attachments never changes
 * in the sandbox, so its text is rendered once (batch requests of a backfill ask for thousands);
 * attachment ids are minted per answer, as Gmail does.
 */
export function fullMessageJson(m: GmailMessage, owner: string): string {
  if (m.input.attachments?.length) return JSON.stringify(messageResource(m, owner, 'full', []));
  let text = rendered.get(m);
  if (text === undefined) rendered.set(m, (text = JSON.stringify(messageResource(m, owner, 'full', []))));
  return text;
}

/** users.messages.get in `full`, `metadata`, `minimal` or `raw` format. */
export function messageResource(m: GmailMessage, owner: string, format: string, metadataHeaders: string[]): Record<string, unknown> {
  const html = bodyHtml(m);
  const short = snippet(m);
  const base = { id: m.id, threadId: m.threadId, labelIds: m.labelIds, snippet: short, historyId: String(m.historyId), internalDate: String(m.internalDate), sizeEstimate: 800 + html.length };
  const hs = headers(m, owner);
  if (format === 'minimal') return base;
  if (format === 'raw') {
    const raw = [...hs.map((x) => `${x.name}: ${x.value}`), 'Content-Type: text/html; charset="UTF-8"', '', html].join('\r\n');
    return { ...base, raw: b64(raw) };
  }
  if (format === 'metadata') {
    const wanted = metadataHeaders.map((x) => x.toLowerCase());
    return { ...base, payload: { mimeType: 'multipart/alternative', headers: wanted.length ? hs.filter((x) => wanted.includes(x.name.toLowerCase())) : hs } };
  }
  const parts: Record<string, unknown>[] = [
    { partId: '0.0', mimeType: 'text/plain', filename: '', headers: [{ name: 'Content-Type', value: 'text/plain; charset="UTF-8"' }], body: { size: short.length, data: b64(m.input.text ?? short) } },
    { partId: '0.1', mimeType: 'text/html', filename: '', headers: [{ name: 'Content-Type', value: 'text/html; charset="UTF-8"' }], body: { size: html.length, data: b64(html) } },
  ];
  const attachments = (m.input.attachments ?? []).map((a, n) => ({
    partId: String(n + 1),
    mimeType: a.contentType,
    filename: a.filename,
    headers: [
      { name: 'Content-Type', value: `${a.contentType}; name="${a.filename}"` },
      { name: 'Content-Disposition', value: `attachment; filename="${a.filename}"` },
    ],
    body: { attachmentId: `ANGjdJ${randomBytes(16).toString('base64url')}`, size: a.size },
  }));
  const alternative = { partId: '0', mimeType: 'multipart/alternative', filename: '', headers: [], body: { size: 0 }, parts };
  const payload = attachments.length
    ? { partId: '', mimeType: 'multipart/mixed', filename: '', headers: hs, body: { size: 0 }, parts: [alternative, ...attachments] }
    : { ...alternative, partId: '', headers: hs };
  return { ...base, payload };
}
