import { MAX_MESSAGE_EVENT_BYTES, messageEvent, SOURCES, type MessageObject, type NewEvent, type Participant } from '../../domain/event.js';
import { stableId } from '../../domain/ids.js';
import { attachmentsOf, decodeCharset, decodeTransfer, headerValue, messageIds, textToHtml, type BodyPartChoice, type StructureNode } from './mime.js';
import { htmlToSnippet, textToSnippet } from './snippet.js';

/** What the IMAP fetch gives us for one message (a structural subset of imapflow's FetchMessageObject). */
export interface FetchedMessage {
  uid: number;
  flags?: Set<string> | undefined;
  envelope?:
    | {
        date?: Date | string | undefined;
        subject?: string | undefined;
        messageId?: string | undefined;
        inReplyTo?: string | undefined;
        from?: Address[] | undefined;
        to?: Address[] | undefined;
        cc?: Address[] | undefined;
        bcc?: Address[] | undefined;
        replyTo?: Address[] | undefined;
      }
    | undefined;
  bodyStructure?: StructureNode | undefined;
  internalDate?: Date | string | undefined;
  headers?: Buffer | undefined;
}

interface Address {
  name?: string | undefined;
  address?: string | undefined;
}

export interface MessageContext {
  applicationId: string;
  grantId: string;
  folder: string;
  uidValidity: string;
  historic: boolean;
  now: () => Date;
}

/** Body parts larger than this are not fetched whole: the event would be truncated anyway. */
export const BODY_FETCH_CAP = MAX_MESSAGE_EVENT_BYTES;
/** For a body over the cap, enough of its start for the snippet. */
export const SNIPPET_FETCH_BYTES = 16 * 1024;

const participants = (list: Address[] | undefined): Participant[] =>
  (list ?? []).filter((a) => a.address).map((a) => ({ name: a.name ?? '', email: a.address! }));

function unixSeconds(...candidates: (Date | string | undefined)[]): number | null {
  for (const c of candidates) {
    if (c === undefined) continue;
    const t = (c instanceof Date ? c : new Date(c)).getTime();
    if (Number.isFinite(t)) return Math.floor(t / 1000);
  }
  return null;
}

/**
 * The identity of a message across re-uploads: a client that moves or re-uploads a message gives
 * it a new UID, but its Message-ID and Date stay. Without a Message-ID, the UID is all we have.
 */
export function dedupeKey(m: FetchedMessage, ctx: Pick<MessageContext, 'folder' | 'uidValidity'>): string {
  const id = m.envelope?.messageId?.trim();
  if (id) return `mid:${id}|${unixSeconds(m.envelope?.date) ?? ''}`;
  return `uid:${ctx.folder}:${ctx.uidValidity}:${m.uid}`;
}

/**
 * One fetched message → the shared `message.created` event. `body` is the raw (still
 * transfer-encoded) content of `choice.section`, possibly cut at the fetch cap.
 */
export function toMessageEvent(m: FetchedMessage, choice: BodyPartChoice | null, body: Buffer | undefined, ctx: MessageContext): NewEvent {
  const key = dedupeKey(m, ctx);
  const env = m.envelope ?? {};
  let html = '';
  let snippet = '';
  const complete = choice !== null && choice.size <= BODY_FETCH_CAP;
  if (choice && body && body.length > 0) {
    const text = decodeCharset(decodeTransfer(body, choice.encoding), choice.charset);
    html = choice.html ? text : textToHtml(text);
    snippet = choice.html ? htmlToSnippet(text) : textToSnippet(text);
  }
  const references = messageIds(headerValue(m.headers, 'references'));
  const root = references[0] ?? messageIds(env.inReplyTo)[0] ?? messageIds(env.messageId)[0] ?? env.messageId ?? key;
  const messageId = stableId(ctx.grantId, 'message', key);
  const message: MessageObject = {
    id: messageId,
    grant_id: ctx.grantId,
    object: 'message',
    thread_id: stableId(ctx.grantId, 'thread', root),
    subject: env.subject ?? '',
    from: participants(env.from),
    to: participants(env.to),
    cc: participants(env.cc),
    bcc: participants(env.bcc),
    reply_to: participants(env.replyTo),
    date: unixSeconds(env.date, m.internalDate) ?? Math.floor(ctx.now().getTime() / 1000),
    snippet,
    folders: [ctx.folder],
    unread: !(m.flags?.has('\\Seen') ?? false),
    starred: m.flags?.has('\\Flagged') ?? false,
    attachments: attachmentsOf(m.bodyStructure, choice).map((a) => ({
      id: stableId(messageId, 'attachment', a.part).slice(0, 24),
      filename: a.filename,
      content_type: a.contentType,
      size: a.size,
      is_inline: a.inline,
      ...(a.contentId ? { content_id: a.contentId } : {}),
    })),
  };
  // A body we only fetched the start of is not a body: the event becomes message.created.truncated.
  if (complete) message.body = html;
  const event = messageEvent({
    id: stableId(ctx.applicationId, ctx.grantId, 'message', key),
    source: ctx.historic ? SOURCES.historic('imap') : SOURCES.realtime('imap'),
    provider: 'imap',
    message,
  });
  if (!complete && choice && event.type === 'message.created') event.type = 'message.created.truncated';
  return event;
}
