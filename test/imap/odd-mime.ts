import { randomBytes } from 'node:crypto';

/**
 * A corpus of messages that real mailboxes contain and naive parsers choke on. Each entry says
 * what a correct announcement must show; the sync test appends them all and checks each.
 */
export interface OddMessage {
  name: string;
  raw: Buffer;
  expect: { subject?: string | RegExp; bodyIncludes?: string; truncated?: boolean; attachments?: number; hasDate?: boolean };
}

const crlf = (lines: string[]) => lines.join('\r\n');
const b = (s: string) => Buffer.from(s, 'utf8');

export function oddMimeCorpus(opts: { hugeAttachmentBytes?: number } = {}): OddMessage[] {
  const id = () => `<${randomBytes(6).toString('hex')}@odd.test>`;
  const date = 'Date: Tue, 03 Mar 2026 10:00:00 +0000';
  const hugeBytes = opts.hugeAttachmentBytes ?? 30 * 1024 * 1024;
  const huge = randomBytes(hugeBytes).toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    {
      name: 'nested multiparts',
      raw: b(
        crlf([
          'From: a@odd.test', 'To: b@odd.test', 'Subject: nested', `Message-ID: ${id()}`, date, 'MIME-Version: 1.0',
          'Content-Type: multipart/mixed; boundary="m1"', '',
          '--m1', 'Content-Type: multipart/related; boundary="r1"', '',
          '--r1', 'Content-Type: multipart/alternative; boundary="a1"', '',
          '--a1', 'Content-Type: text/plain', '', 'deep text', '--a1', 'Content-Type: text/html', '', '<p>deep html</p>', '--a1--',
          '--r1', 'Content-Type: image/gif', 'Content-ID: <pic@odd>', 'Content-Transfer-Encoding: base64', '', 'R0lGODlhAQABAAAAACw=', '--r1--',
          '--m1', 'Content-Type: application/zip; name="x.zip"', 'Content-Disposition: attachment; filename="x.zip"', 'Content-Transfer-Encoding: base64', '', 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', '--m1--', '',
        ]),
      ),
      expect: { subject: 'nested', bodyIncludes: 'deep html', attachments: 2 },
    },
    {
      name: 'broken boundary',
      raw: b(crlf(['From: a@odd.test', 'Subject: broken boundary', `Message-ID: ${id()}`, date, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="declared"', '', '--other', 'Content-Type: text/plain', '', 'text under a boundary that was never declared', '--other', 'no end'])),
      expect: { subject: 'broken boundary' },
    },
    {
      name: 'encoded words',
      raw: b(crlf(['From: =?ISO-8859-1?Q?Andr=E9?= <andre@odd.test>', 'Subject: =?ISO-8859-1?Q?Caf=E9?= =?UTF-8?B?44GC?= ok', `Message-ID: ${id()}`, date, 'Content-Type: text/plain; charset=utf-8', '', 'hi', ''])),
      expect: { subject: 'Caféあ ok', bodyIncludes: 'hi' },
    },
    {
      name: 'missing date and message-id',
      raw: b(crlf(['From: a@odd.test', 'Subject: no date', 'Content-Type: text/plain', '', 'undated', ''])),
      expect: { subject: 'no date', bodyIncludes: 'undated', hasDate: true },
    },
    {
      name: '8-bit header',
      raw: Buffer.concat([b('From: a@odd.test\r\nSubject: Caf'), Buffer.from([0xe9]), b(` 8bit\r\nMessage-ID: ${id()}\r\n${date}\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf`), Buffer.from([0xe9]), b('\r\n')]),
      expect: { subject: /Caf.*8bit/, bodyIncludes: 'café' },
    },
    {
      name: 'unknown charset',
      raw: b(crlf(['From: a@odd.test', 'Subject: unknown charset', `Message-ID: ${id()}`, date, 'Content-Type: text/plain; charset="x-klingon-7"', 'Content-Transfer-Encoding: quoted-printable', '', 'Qapla=E2=80=99 warrior', ''])),
      expect: { subject: 'unknown charset', bodyIncludes: 'Qapla’ warrior' },
    },
    {
      name: 'no headers at all',
      raw: b('just a line of text\r\n'),
      expect: { subject: '' },
    },
    {
      name: 'html over 1 MB',
      raw: b(crlf(['From: a@odd.test', 'Subject: huge html', `Message-ID: ${id()}`, date, 'Content-Type: text/html; charset=utf-8', '', `<p>start of a long page</p>${'<p>filler filler filler</p>'.repeat(50_000)}`, ''])),
      expect: { subject: 'huge html', truncated: true },
    },
    {
      name: 'huge attachment',
      raw: b(
        crlf([
          'From: a@odd.test', 'Subject: with a huge attachment', `Message-ID: ${id()}`, date, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="h"', '',
          '--h', 'Content-Type: text/plain', '', 'see attached', '--h', 'Content-Type: application/octet-stream; name="big.bin"', 'Content-Disposition: attachment; filename="big.bin"', 'Content-Transfer-Encoding: base64', '', huge, '--h--', '',
        ]),
      ),
      expect: { subject: 'with a huge attachment', bodyIncludes: 'see attached', attachments: 1 },
    },
  ];
}
