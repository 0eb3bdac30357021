import { randomBytes } from 'node:crypto';

/** Raw RFC 822 messages for the IMAP tests and benches (built by hand: the odd ones are the point). */
export interface MessageSpec {
  from?: string;
  to?: string;
  cc?: string;
  subject?: string;
  messageId?: string | null;
  date?: Date | null;
  references?: string;
  inReplyTo?: string;
  text?: string;
  html?: string;
  attachments?: { filename: string; contentType: string; content: Buffer; inline?: boolean; contentId?: string }[];
  extraHeaders?: string[];
}

const wrap76 = (s: string) => s.replace(/.{1,76}/g, '$&\r\n');

export function rfc822(spec: MessageSpec): string {
  const boundary = (tag: string) => `=_${tag}_${randomBytes(6).toString('hex')}`;
  const headers: string[] = [
    `From: ${spec.from ?? 'Alice Sender <alice@example.test>'}`,
    `To: ${spec.to ?? 'Bob Receiver <bob@example.test>'}`,
    ...(spec.cc ? [`Cc: ${spec.cc}`] : []),
    `Subject: ${spec.subject ?? 'Hello'}`,
    ...(spec.messageId === null ? [] : [`Message-ID: <${spec.messageId ?? `${randomBytes(8).toString('hex')}@example.test`}>`]),
    ...(spec.date === null ? [] : [`Date: ${(spec.date ?? new Date()).toUTCString().replace('GMT', '+0000')}`]),
    ...(spec.references ? [`References: ${spec.references}`] : []),
    ...(spec.inReplyTo ? [`In-Reply-To: ${spec.inReplyTo}`] : []),
    'MIME-Version: 1.0',
    ...(spec.extraHeaders ?? []),
  ];
  const textPart = spec.text !== undefined ? `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp(spec.text)}` : null;
  const htmlPart = spec.html !== undefined ? `Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrap76(Buffer.from(spec.html).toString('base64'))}` : null;
  let body: string;
  if (textPart && htmlPart) {
    const b = boundary('alt');
    body = `Content-Type: multipart/alternative; boundary="${b}"\r\n\r\n--${b}\r\n${textPart}\r\n--${b}\r\n${htmlPart}\r\n--${b}--\r\n`;
  } else {
    body = (textPart ?? htmlPart ?? 'Content-Type: text/plain; charset=utf-8\r\n\r\n') + '\r\n';
  }
  if (spec.attachments?.length) {
    const b = boundary('mixed');
    const parts = [body, ...spec.attachments.map((a) => `Content-Type: ${a.contentType}; name="${a.filename}"\r\nContent-Disposition: ${a.inline ? 'inline' : 'attachment'}; filename="${a.filename}"\r\nContent-Transfer-Encoding: base64\r\n${a.contentId ? `Content-ID: <${a.contentId}>\r\n` : ''}\r\n${wrap76(a.content.toString('base64'))}`)];
    body = `Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n${parts.map((p) => `--${b}\r\n${p}`).join('\r\n')}\r\n--${b}--\r\n`;
  }
  const [first, ...rest] = body.split('\r\n\r\n');
  return `${headers.join('\r\n')}\r\n${first}\r\n\r\n${rest.join('\r\n\r\n')}`;
}

function qp(text: string): string {
  return Buffer.from(text)
    .toString('latin1')
    .replace(/[=\x80-\xff]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    .replace(/\n/g, '\r\n');
}
