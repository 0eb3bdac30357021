import type { Folder, Mailbox, Message } from './mailbox.js';

const recipient = (a: { name: string; address: string }) => ({ emailAddress: { name: a.name, address: a.address } });

export interface RenderOptions {
  immutableIds: boolean;
  select?: string[];
  expandAttachments?: boolean;
  /** `$expand=attachments($select=…)`: the attachment properties to keep (id and type always stay). */
  attachmentSelect?: string[];
}

/** The id a client sees: immutable when it asked for `IdType="ImmutableId"`, else the folder-bound REST id. */
export function clientId(mailbox: Mailbox, msg: Message, immutableIds: boolean): string {
  return immutableIds ? msg.immutableId : mailbox.restId(msg);
}

export function attachmentJson(a: Message['attachments'][number]): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': a.contentType,
    id: a.id,
    lastModifiedDateTime: a.lastModifiedDateTime,
    name: a.name,
    contentType: a.contentType,
    size: a.size,
    isInline: a.isInline,
    contentId: a.contentId,
    contentLocation: null,
  };
}

/** Graph's message resource (v1.0 default properties), narrowed by `$select` (id and etag always stay). */
export function messageJson(mailbox: Mailbox, msg: Message, o: RenderOptions): Record<string, unknown> {
  const full: Record<string, unknown> = {
    '@odata.etag': `W/"${msg.changeKey}"`,
    id: clientId(mailbox, msg, o.immutableIds),
    createdDateTime: msg.createdDateTime,
    lastModifiedDateTime: msg.lastModifiedDateTime,
    changeKey: msg.changeKey,
    categories: msg.categories,
    receivedDateTime: msg.receivedDateTime,
    sentDateTime: msg.sentDateTime,
    hasAttachments: msg.attachments.some((a) => !a.isInline),
    internetMessageId: msg.internetMessageId,
    subject: msg.subject,
    bodyPreview: msg.bodyPreview,
    importance: msg.importance,
    parentFolderId: msg.folderId,
    conversationId: msg.conversationId,
    conversationIndex: msg.conversationIndex,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: msg.isRead,
    isDraft: msg.isDraft,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(msg.immutableId)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: msg.inferenceClassification,
    body: msg.body,
    sender: recipient(msg.sender),
    from: recipient(msg.from),
    toRecipients: msg.toRecipients.map(recipient),
    ccRecipients: msg.ccRecipients.map(recipient),
    bccRecipients: msg.bccRecipients.map(recipient),
    replyTo: msg.replyTo.map(recipient),
    flag: msg.flag,
  };
  let out = full;
  if (o.select) {
    out = { '@odata.etag': full['@odata.etag'], id: full.id };
    for (const k of o.select) if (k in full) out[k] = full[k];
  }
  if (o.expandAttachments) out.attachments = msg.attachments.map((a) => narrow(attachmentJson(a), o.attachmentSelect));
  return out;
}

function narrow(full: Record<string, unknown>, select: string[] | undefined): Record<string, unknown> {
  if (!select) return full;
  const out: Record<string, unknown> = { '@odata.type': full['@odata.type'], id: full.id };
  for (const k of select) if (k in full) out[k] = full[k];
  return out;
}

export function folderJson(mailbox: Mailbox, f: Folder): Record<string, unknown> {
  let total = 0;
  let unread = 0;
  for (const m of mailbox.messages.values()) {
    if (m.folderId !== f.id) continue;
    total++;
    if (!m.isRead) unread++;
  }
  const children = [...mailbox.folders.values()].filter((c) => c.parentFolderId === f.id).length;
  return { id: f.id, displayName: f.displayName, parentFolderId: f.parentFolderId, childFolderCount: children, unreadItemCount: unread, totalItemCount: total, sizeInBytes: total * 4096, isHidden: f.isHidden };
}
