import { createHash } from 'node:crypto';
import { folderId as newFolderId, immutableItemId, opaque, restItemId } from '../ids.js';

export interface EmailAddress {
  name: string;
  address: string;
}

export interface Attachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  contentId: string | null;
  lastModifiedDateTime: string;
}

/** The stored state of one message; rendered to Graph JSON by message-json.ts. */
export interface Message {
  immutableId: string;
  folderId: string;
  changeKey: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  receivedDateTime: string;
  sentDateTime: string;
  subject: string;
  body: { contentType: 'html' | 'text'; content: string };
  bodyPreview: string;
  from: EmailAddress;
  sender: EmailAddress;
  toRecipients: EmailAddress[];
  ccRecipients: EmailAddress[];
  bccRecipients: EmailAddress[];
  replyTo: EmailAddress[];
  conversationId: string;
  conversationIndex: string;
  internetMessageId: string;
  isRead: boolean;
  isDraft: boolean;
  importance: 'low' | 'normal' | 'high';
  flag: { flagStatus: 'notFlagged' | 'flagged' | 'complete' };
  categories: string[];
  inferenceClassification: 'focused' | 'other';
  attachments: Attachment[];
}

export interface Folder {
  id: string;
  wellKnownName?: string;
  displayName: string;
  parentFolderId: string;
  isHidden: boolean;
}

/** One entry of a folder's change log; delta rounds read the log after their watermark. */
export interface ChangeEntry {
  seq: number;
  folderId: string;
  immutableId: string;
}

export type ChangeKind = 'created' | 'updated' | 'deleted';
export interface MailboxChange {
  kind: ChangeKind;
  folderId: string;
  immutableId: string;
  changeKey: string;
}

/** An address as a test gives it: `"a@b.c"` or `{ name?, address }`. */
export type AddressInput = string | { name?: string; address: string };

/** What a test or the demo delivers. */
export interface MailInput {
  from: AddressInput;
  toRecipients?: AddressInput[];
  ccRecipients?: AddressInput[];
  bccRecipients?: AddressInput[];
  replyTo?: AddressInput[];
  subject?: string;
  /** HTML body; `text` is used when no HTML is given. */
  html?: string;
  text?: string;
  attachments?: { name: string; contentType?: string; size?: number; isInline?: boolean; contentId?: string }[];
  receivedDateTime?: string;
  internetMessageId?: string;
  conversationId?: string;
  isRead?: boolean;
  flagged?: boolean;
  importance?: 'low' | 'normal' | 'high';
  /** Folder id or well-known name (default `inbox`). */
  folder?: string;
}

const WELL_KNOWN: [string, string][] = [
  ['inbox', 'Inbox'],
  ['drafts', 'Drafts'],
  ['sentitems', 'Sent Items'],
  ['deleteditems', 'Deleted Items'],
  ['junkemail', 'Junk Email'],
  ['archive', 'Archive'],
  ['outbox', 'Outbox'],
];

const addr = (a: AddressInput): EmailAddress => (typeof a === 'string' ? { name: a, address: a } : { name: a.name || a.address, address: a.address });

/** Text of an HTML body for `bodyPreview` (first 255 characters, whitespace collapsed). */
export function preview(html: string): string {
  const text = html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
  return text.slice(0, 255);
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

/**
 * One user's Exchange mailbox: folders, messages and a change log per folder. Every change is
 * reported to `onChange` (subscriptions turn it into notifications).
 */
export class Mailbox {
  readonly folders = new Map<string, Folder>();
  readonly messages = new Map<string, Message>();
  /** REST id → immutable id, for lookups by either kind of id. Stale REST ids (after a move) are dropped. */
  private readonly restIndex = new Map<string, string>();
  readonly log: ChangeEntry[] = [];
  private seq = 0;
  readonly rootId = newFolderId();
  /** Messages sorted by receivedDateTime (ties in delivery order), rebuilt after any change. */
  private sorted: { seq: number; items: { at: number; msg: Message }[] } | null = null;

  constructor(
    readonly userId: string,
    private readonly now: () => number,
    private readonly onChange: (c: MailboxChange) => void,
  ) {
    for (const [wk, name] of WELL_KNOWN) {
      const id = newFolderId();
      this.folders.set(id, { id, wellKnownName: wk, displayName: name, parentFolderId: this.rootId, isHidden: false });
    }
  }

  get currentSeq(): number {
    return this.seq;
  }

  /** Every message, oldest first by receivedDateTime (ties keep delivery order, a stable order as Exchange's). */
  byReceived(): readonly { at: number; msg: Message }[] {
    if (this.sorted?.seq !== this.seq) {
      const items = [...this.messages.values()].map((msg) => ({ at: Date.parse(msg.receivedDateTime), msg }));
      items.sort((a, b) => a.at - b.at);
      this.sorted = { seq: this.seq, items };
    }
    return this.sorted.items;
  }

  /** A folder by id or well-known name (case-insensitive, as Graph accepts `Inbox` and `inbox`). */
  folder(key: string): Folder | undefined {
    const direct = this.folders.get(key);
    if (direct) return direct;
    const k = key.toLowerCase();
    for (const f of this.folders.values()) if (f.wellKnownName === k) return f;
    return undefined;
  }

  createFolder(displayName: string, parentKey = 'msgfolderroot'): Folder {
    const parent = parentKey === 'msgfolderroot' ? undefined : this.folder(parentKey);
    const id = newFolderId();
    const f: Folder = { id, displayName, parentFolderId: parent?.id ?? this.rootId, isHidden: false };
    this.folders.set(id, f);
    return f;
  }

  /** A message by immutable id or by its current REST id. */
  message(id: string): Message | undefined {
    return this.messages.get(id) ?? this.messages.get(this.restIndex.get(id) ?? '');
  }

  deliver(input: MailInput): Message {
    const folder = this.folder(input.folder ?? 'inbox');
    if (!folder) throw new Error(`unknown folder ${input.folder}`);
    const nowIso = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    // Exchange keeps message times to the second: a given time loses its fraction (and zone) as it does.
    const received = input.receivedDateTime ? new Date(Math.floor(Date.parse(input.receivedDateTime) / 1000) * 1000).toISOString().replace('.000Z', 'Z') : nowIso;
    const from = addr(input.from);
    const html = input.html ?? `<html><body><p>${escapeHtml(input.text ?? '')}</p></body></html>`;
    const subject = input.subject ?? '';
    const topic = subject.replace(/^((re|fw|fwd|aw|sv):\s*)+/i, '').trim().toLowerCase();
    const immutableId = immutableItemId();
    const attachments = (input.attachments ?? []).map((a) => ({
      id: 'AAMkAGI2' + opaque(40),
      name: a.name,
      contentType: a.contentType ?? 'application/octet-stream',
      size: a.size ?? 1024,
      isInline: a.isInline ?? false,
      contentId: a.contentId ?? null,
      lastModifiedDateTime: nowIso,
    }));
    const msg: Message = {
      immutableId,
      folderId: folder.id,
      changeKey: opaque(18),
      createdDateTime: nowIso,
      lastModifiedDateTime: nowIso,
      receivedDateTime: received,
      sentDateTime: received,
      subject,
      body: { contentType: 'html', content: html },
      bodyPreview: preview(html),
      from,
      sender: from,
      toRecipients: (input.toRecipients ?? []).map(addr),
      ccRecipients: (input.ccRecipients ?? []).map(addr),
      bccRecipients: (input.bccRecipients ?? []).map(addr),
      replyTo: (input.replyTo ?? []).map(addr),
      // Outlook threads by conversation topic: the same normalised subject shares a conversation.
      conversationId: input.conversationId ?? 'AAQkAGI2' + createHash('sha256').update(this.userId).update(topic).digest('base64url'),
      conversationIndex: Buffer.from(opaque(16)).toString('base64'),
      internetMessageId: input.internetMessageId ?? `<${opaque(12)}@sandbox.outlook.com>`,
      isRead: input.isRead ?? false,
      isDraft: false,
      importance: input.importance ?? 'normal',
      flag: { flagStatus: input.flagged ? 'flagged' : 'notFlagged' },
      categories: [],
      inferenceClassification: 'focused',
      attachments,
    };
    this.messages.set(immutableId, msg);
    this.index(msg);
    this.record(folder.id, msg, 'created');
    return msg;
  }

  /** Move to another folder: the immutable id stays, the REST id changes (as in Exchange Online). */
  move(id: string, destination: string): Message {
    const msg = this.requireMessage(id);
    const to = this.folder(destination);
    if (!to) throw new Error(`unknown folder ${destination}`);
    if (to.id === msg.folderId) return msg;
    const from = msg.folderId;
    this.restIndex.delete(restItemId(msg.immutableId, from));
    msg.folderId = to.id;
    this.touch(msg);
    this.index(msg);
    this.record(from, msg, 'deleted');
    this.record(to.id, msg, 'created');
    return msg;
  }

  update(id: string, patch: { isRead?: boolean; flagged?: boolean; subject?: string }): Message {
    const msg = this.requireMessage(id);
    if (patch.isRead !== undefined) msg.isRead = patch.isRead;
    if (patch.flagged !== undefined) msg.flag = { flagStatus: patch.flagged ? 'flagged' : 'notFlagged' };
    if (patch.subject !== undefined) msg.subject = patch.subject;
    this.touch(msg);
    this.record(msg.folderId, msg, 'updated');
    return msg;
  }

  /** Permanent deletion (what "empty Deleted Items" does). */
  remove(id: string): void {
    const msg = this.requireMessage(id);
    this.messages.delete(msg.immutableId);
    this.restIndex.delete(restItemId(msg.immutableId, msg.folderId));
    this.record(msg.folderId, msg, 'deleted');
  }

  restId(msg: Message): string {
    return restItemId(msg.immutableId, msg.folderId);
  }

  private requireMessage(id: string): Message {
    const m = this.message(id);
    if (!m) throw new Error(`unknown message ${id}`);
    return m;
  }

  private index(msg: Message): void {
    this.restIndex.set(restItemId(msg.immutableId, msg.folderId), msg.immutableId);
  }

  private touch(msg: Message): void {
    msg.changeKey = opaque(18);
    msg.lastModifiedDateTime = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private record(folderId: string, msg: Message, kind: ChangeKind): void {
    this.log.push({ seq: ++this.seq, folderId, immutableId: msg.immutableId });
    this.onChange({ kind, folderId, immutableId: msg.immutableId, changeKey: msg.changeKey });
  }
}
