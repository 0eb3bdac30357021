import { messageEvent, SOURCES, type AttachmentMeta, type MessageObject, type NewEvent, type Participant } from '../../domain/event.js';
import { stableId } from '../../domain/ids.js';

/** The message fields Tributary reads from Graph; carried inside delta links as `$select`. */
export const MESSAGE_SELECT = [
  'id',
  'conversationId',
  'internetMessageId',
  'subject',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'receivedDateTime',
  'bodyPreview',
  'body',
  'isRead',
  'flag',
  'parentFolderId',
  'hasAttachments',
].join(',');

/** The attachment metadata an event carries (never the content), for `/attachments` and `$expand=attachments`. */
export const ATTACHMENT_SELECT = 'id,name,contentType,size,isInline,contentId';

export interface GraphRecipient {
  emailAddress?: { name?: string; address?: string };
}

export interface GraphMessage {
  id: string;
  '@removed'?: { reason?: string };
  conversationId?: string;
  internetMessageId?: string;
  subject?: string | null;
  from?: GraphRecipient | null;
  toRecipients?: GraphRecipient[];
  ccRecipients?: GraphRecipient[];
  bccRecipients?: GraphRecipient[];
  replyTo?: GraphRecipient[];
  receivedDateTime?: string;
  bodyPreview?: string;
  body?: { contentType?: string; content?: string };
  isRead?: boolean;
  flag?: { flagStatus?: string };
  parentFolderId?: string;
  hasAttachments?: boolean;
}

export interface GraphAttachment {
  id?: string;
  name?: string;
  contentType?: string;
  size?: number;
  isInline?: boolean;
  contentId?: string | null;
}

const participant = (r: GraphRecipient | null | undefined): Participant[] =>
  r?.emailAddress?.address ? [{ name: r.emailAddress.name ?? '', email: r.emailAddress.address }] : [];
const participants = (rs: GraphRecipient[] | undefined): Participant[] => (rs ?? []).flatMap(participant);

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The event id: the same message (by Internet Message-ID, else immutable id) is announced once per grant. */
export function messageEventId(applicationId: string, grantId: string, m: Pick<GraphMessage, 'id' | 'internetMessageId'>): string {
  return stableId(applicationId, grantId, 'message', m.internetMessageId || m.id);
}

export function toMessageObject(grantId: string, m: GraphMessage, attachments: GraphAttachment[]): MessageObject {
  const body = m.body?.content ?? '';
  const obj: MessageObject = {
    id: m.id,
    grant_id: grantId,
    object: 'message',
    thread_id: m.conversationId ?? '',
    subject: m.subject ?? '',
    from: participant(m.from),
    to: participants(m.toRecipients),
    cc: participants(m.ccRecipients),
    bcc: participants(m.bccRecipients),
    reply_to: participants(m.replyTo),
    date: m.receivedDateTime ? Math.floor(Date.parse(m.receivedDateTime) / 1000) : 0,
    snippet: m.bodyPreview ?? '',
    // The event carries HTML (the Nylas message shape): a text body is escaped and wrapped.
    body: m.body?.contentType?.toLowerCase() === 'text' ? `<pre>${escapeHtml(body)}</pre>` : body,
    folders: m.parentFolderId ? [m.parentFolderId] : [],
    unread: m.isRead === false,
    starred: m.flag?.flagStatus === 'flagged',
    attachments: attachments.map(toAttachment),
  };
  return obj;
}

function toAttachment(a: GraphAttachment): AttachmentMeta {
  const meta: AttachmentMeta = {
    id: a.id ?? '',
    filename: a.name ?? '',
    content_type: a.contentType ?? 'application/octet-stream',
    size: a.size ?? 0,
    is_inline: a.isInline ?? false,
  };
  if (a.contentId) meta.content_id = a.contentId;
  return meta;
}

/** message.created (or .truncated over 1 MB), realtime or historic (backfill). */
export function graphMessageEvent(args: { applicationId: string; grantId: string; message: GraphMessage; attachments: GraphAttachment[]; historic: boolean; now: Date }): NewEvent {
  const event = messageEvent({
    id: messageEventId(args.applicationId, args.grantId, args.message),
    source: args.historic ? SOURCES.historic('microsoft') : SOURCES.realtime('microsoft'),
    provider: 'microsoft',
    message: toMessageObject(args.grantId, args.message, args.attachments),
  });
  return { ...event, time: Math.floor(args.now.getTime() / 1000) };
}
