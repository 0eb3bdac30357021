import { randomBytes } from 'node:crypto';

/**
 * Messages whose ENVELOPE and BODYSTRUCTURE exercise the corners of what a server sends:
 * encoded words in several charsets (subject, names, filenames), address groups, missing
 * fields (NIL), quoted local parts, raw UTF-8 headers, deep multipart trees with attachments
 * and attached messages, RFC 2231 parameters and long References. Two readers of the same
 * mailbox must agree on every one of them (lean-equivalence.int.test.ts).
 */
const crlf = (lines: string[]) => lines.join('\r\n');
const id = () => `<${randomBytes(6).toString('hex')}@edge.test>`;
const date = 'Date: Wed, 04 Mar 2026 09:30:00 +0100';
const b = (s: string) => Buffer.from(s, 'utf8');

export function edgeCorpus(): Buffer[] {
  const longRefs = Array.from({ length: 120 }, (_, i) => `<ref-${i}-${randomBytes(3).toString('hex')}@edge.test>`).join('\r\n ');
  const inner = crlf(['From: Inner <inner@edge.test>', 'Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?= inner', `Message-ID: ${id()}`, date, 'Content-Type: text/plain; charset=utf-8', '', 'the attached message', '']);
  return [
    b(crlf([
      'From: =?ISO-8859-1?Q?Ren=E9_Dupr=E9?= <rene@edge.test>',
      'To: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro@edge.test>, =?KOI8-R?B?8NLJ18XU?= <ivan@edge.test>',
      'Cc: =?windows-1252?Q?M=FCller?= <mueller@edge.test>, =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= <jp@edge.test>',
      'Subject: =?UTF-8?Q?caf=C3=A9?= =?UTF-8?Q?_cr=C3=A8me?= and =?ISO-8859-15?Q?=A4uro?= =?Big5?B?pKSk5Q==?=',
      `Message-ID: ${id()}`, date, 'Content-Type: text/plain; charset=utf-8', '', 'several charsets', '',
    ])),
    b(crlf([
      'From: "Doe, John" <"john..doe"@edge.test>',
      'To: undisclosed-recipients:;',
      'Cc: Team: alice@edge.test, "Bob \\"B\\" Smith" <bob@edge.test>;, carol@edge.test',
      'Bcc: "\\"quoted\\"" <q@edge.test>',
      'Reply-To: <"odd local"@edge.test>',
      'Subject: groups and quoted parts',
      `Message-ID: ${id()}`, date, 'Content-Type: text/plain', '', 'groups', '',
    ])),
    b(crlf(['Subject:', 'From:', 'Content-Type: text/plain', '', 'empty fields', ''])),
    b(crlf(['From: Zoë Ünïcödé <zoe@edge.test>', 'To: 日本 <nihon@edge.test>', 'Subject: raw UTF-8 — ünïcödé 日本語 🎉', `Message-ID: ${id()}`, date, `In-Reply-To: ${id()}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', 'ünïcödé body', ''])),
    b(crlf([
      'From: a@edge.test', 'Subject: deep tree', `Message-ID: ${id()}`, date, `References: ${longRefs}`, 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="m"', '',
      '--m', 'Content-Type: multipart/related; boundary="r"; type="multipart/alternative"', '',
      '--r', 'Content-Type: multipart/alternative; boundary="a"', '',
      '--a', 'Content-Type: text/plain; charset="iso-8859-1"', 'Content-Transfer-Encoding: quoted-printable', '', 'caf=E9 text', '',
      '--a', 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '', Buffer.from('<p>café html <img src="cid:img1@edge"></p>').toString('base64'), '--a--', '',
      '--r', 'Content-Type: image/png; name="=?UTF-8?Q?b=C3=BCro.png?="', 'Content-ID: <img1@edge>', 'Content-Disposition: inline', 'Content-Transfer-Encoding: base64', '', 'iVBORw0KGgo=', '--r--', '',
      '--m', 'Content-Type: application/pdf', 'Content-Disposition: attachment; filename*=utf-8\'\'%E2%82%AC%20report%20%C3%A9t%C3%A9.pdf', 'Content-Transfer-Encoding: base64', '', randomBytes(3000).toString('base64').replace(/.{76}/g, '$&\r\n'), '',
      '--m', 'Content-Type: application/octet-stream', 'Content-Disposition: attachment;', ' filename*0*=iso-8859-1\'en\'%E9t%E9;', ' filename*1="-summer";', ' filename*2=".bin"', 'Content-Transfer-Encoding: base64', '', 'AAAA', '',
      '--m', 'Content-Type: message/rfc822', 'Content-Disposition: attachment', '', inner, '',
      '--m', 'Content-Type: text/calendar; method=REQUEST; charset=utf-8', 'Content-Disposition: attachment; filename="invite.ics"', '', 'BEGIN:VCALENDAR', 'END:VCALENDAR', '--m--', '',
    ])),
    b(crlf(['From: "=?UTF-8?B?SsO8cmdlbg==?=" <j@edge.test>', 'Subject: =?utf-8?b?invalid base64!!?= and =?x-unknown?q?what?=', `Message-ID: ${id()}`, 'Date: not a date at all', 'Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes', '', 'invalid encoded words', ''])),
    b(crlf(['From: back\\slash <bs@edge.test>', 'Subject: a "quoted" \\ back\\slash subject', `Message-ID: ${id()}`, date, 'Content-Type: TEXT/HTML; CHARSET=UTF-8', '', '<b>upper-case type</b>', ''])),
    Buffer.concat([b('From: latin <l@edge.test>\r\nSubject: 8-bit Latin-1 '), Buffer.from([0xe9, 0xe8]), b(` header\r\nMessage-ID: ${id()}\r\n${date}\r\nContent-Type: text/plain\r\n\r\nbody\r\n`)]),
  ];
}
