import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeanImapConnection } from '../../src/providers/imap/lean-connection.js';
import { pickBodyPart, type StructureNode } from '../../src/providers/imap/mime.js';
import { BODY_FETCH_CAP, SNIPPET_FETCH_BYTES, toMessageEvent, type FetchedMessage, type MessageContext } from '../../src/providers/imap/to-events.js';
import { benchMailbox } from '../../bench/imap-fixtures.js';
import { Dovecot } from '../helpers/dovecot.js';
import { edgeCorpus } from './edge-messages.js';
import { rfc822 } from './messages.js';
import { oddMimeCorpus } from './odd-mime.js';

/**
 * The acceptance test of the lean bulk reader (ADR 0511): the same messages of a real Dovecot
 * read through imapflow and through the lean reader give the same FetchedMessage fields, the
 * same body bytes and therefore the same events.
 */
const FETCH_META = { uid: true, flags: true, envelope: true, bodyStructure: true, internalDate: true, headers: ['references'] };
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const LIMITS = { maxLiteral: 2 * BODY_FETCH_CAP, idleTimeoutMs: 30_000 };

/** The fields to-events.ts and mime.ts read, in a comparable shape (\Recent is per session). */
function projectNode(n: StructureNode | undefined): unknown {
  if (!n) return undefined;
  return {
    part: n.part,
    type: n.type,
    parameters: n.parameters,
    id: n.id,
    encoding: n.encoding,
    size: n.size,
    disposition: n.disposition,
    dispositionParameters: n.dispositionParameters,
    childNodes: n.childNodes?.map(projectNode),
  };
}
function project(m: FetchedMessage): unknown {
  const e = m.envelope;
  return {
    uid: m.uid,
    flags: m.flags ? [...m.flags].filter((f) => f !== '\\Recent').sort() : undefined,
    envelope: e && { date: e.date, subject: e.subject, messageId: e.messageId, inReplyTo: e.inReplyTo, from: e.from, to: e.to, cc: e.cc, bcc: e.bcc, replyTo: e.replyTo },
    bodyStructure: projectNode(m.bodyStructure),
    internalDate: m.internalDate,
    headers: m.headers ? m.headers.toString('latin1') : undefined,
  };
}

const user = 'lean';
let dovecot: Dovecot;
let client: ImapFlow;
let lean: LeanImapConnection;
let uidValidity: string;

beforeAll(async () => {
  dovecot = await Dovecot.start();
  dovecot.addUser(user, 'p"w\\d é');
  dovecot.writeMessages(user, [
    rfc822({ subject: 'plain', text: 'hello' }),
    rfc822({ subject: 'both', text: 'text part', html: '<p>html part</p>', cc: 'C <c@example.test>', references: '<a@x> <b@x>', inReplyTo: '<b@x>' }),
    rfc822({ subject: 'attached', html: '<p>see</p>', attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', content: Buffer.alloc(5000, 1) }, { filename: 'logo.png', contentType: 'image/png', content: Buffer.alloc(300, 2), inline: true, contentId: 'logo@x' }] }),
    rfc822({ subject: 'no id, no date', messageId: null, date: null, text: 'x' }),
    ...oddMimeCorpus({ hugeAttachmentBytes: 2 * 1024 * 1024 }).map((o) => o.raw),
    ...edgeCorpus(),
    ...benchMailbox(300),
  ]);
  dovecot.writeMessages(user, [rfc822({ subject: 'seen and flagged', text: 'x' })], { seen: true });
  client = await dovecot.client(user, 'p"w\\d é');
  await client.mailboxOpen('INBOX');
  const settings = { host: dovecot.host, port: dovecot.port, security: 'none' as const, username: user, password: 'p"w\\d é' };
  ({ conn: lean, uidValidity } = await LeanImapConnection.open(settings, 'INBOX', { logger: silent }, LIMITS));
}, 120_000);

afterAll(async () => {
  await lean?.logout();
  await client?.logout().catch(() => undefined);
  await dovecot?.destroy();
});

describe('the lean bulk reader against imapflow on the same Dovecot mailbox', () => {
  it('reports the folder UIDVALIDITY imapflow sees', () => {
    expect(uidValidity).toBe(String(client.mailbox && client.mailbox.uidValidity));
  });

  it('gives the same metadata, bodies and events for every message', async () => {
    const viaFlow = (await client.fetchAll('1:*', FETCH_META, { uid: true })).map((m): FetchedMessage => ({ uid: m.uid, flags: m.flags, envelope: m.envelope, bodyStructure: m.bodyStructure, internalDate: m.internalDate, headers: m.headers }));
    const viaLean = await lean.fetchMeta('1:*');
    expect(viaLean.length).toBe(viaFlow.length);
    expect(viaLean.length).toBeGreaterThan(320);
    expect(viaLean.map(project)).toEqual(viaFlow.map(project));

    const mctx: MessageContext = { applicationId: 'app', grantId: 'grant', folder: 'INBOX', uidValidity, historic: true, now: () => new Date('2026-03-01T00:00:00Z') };
    let withBody = 0;
    let truncated = 0;
    for (const [i, m] of viaFlow.entries()) {
      const choice = pickBodyPart(m.bodyStructure);
      let flowBody: Buffer | undefined;
      let leanBody: Buffer | undefined;
      if (choice) {
        const cap = choice.size > BODY_FETCH_CAP ? SNIPPET_FETCH_BYTES : null;
        if (cap !== null) truncated++;
        const part = cap === null ? choice.section : { key: choice.section, start: 0, maxLength: cap };
        const row = await client.fetchOne(String(m.uid), { uid: true, bodyParts: [part] }, { uid: true });
        flowBody = row ? row.bodyParts?.values().next().value : undefined;
        leanBody = (await lean.fetchBodies(String(m.uid), choice.section, cap)).get(m.uid);
        expect(leanBody?.toString('latin1'), `body of UID ${m.uid}`).toBe(flowBody?.toString('latin1'));
        if (flowBody && flowBody.length > 0) withBody++;
      }
      const a = toMessageEvent(m, choice, flowBody, mctx);
      const b = toMessageEvent(viaLean[i]!, pickBodyPart(viaLean[i]!.bodyStructure), leanBody, mctx);
      expect(b, `event of UID ${m.uid}`).toEqual(a);
    }
    expect(withBody).toBeGreaterThan(300);
    expect(truncated).toBeGreaterThan(0);
  }, 120_000);

  it('gives each of several pipelined FETCHes its own rows (the server may answer them interleaved)', async () => {
    const all = await lean.fetchMeta('1:*');
    const third = Math.floor(all.length / 3);
    const sets = [`1:${third}`, `${third + 1}:${2 * third}`, `${2 * third + 1}:*`];
    const [bodiesA, ...metas] = await Promise.all([lean.fetchBodies('1:*', '1', 64), ...sets.map((set) => lean.fetchMeta(set))]);
    expect(metas.map((m) => m.length)).toEqual([third, third, all.length - 2 * third]);
    expect(metas.flat().map(project)).toEqual(all.map(project));
    expect(bodiesA.size).toBeGreaterThan(300);
  }, 60_000);

  it('pipelines body FETCHes over many UIDs with the same bytes as imapflow', async () => {
    const rows = await client.fetchAll('1:*', { uid: true, bodyParts: ['1'] }, { uid: true });
    const bodies = await lean.fetchBodies('1:*', '1', null);
    expect(bodies.size).toBe(rows.filter((r) => r.bodyParts?.values().next().value).length);
    for (const r of rows) {
      const v = r.bodyParts?.values().next().value;
      if (v) expect(bodies.get(r.uid)?.equals(v), `UID ${r.uid}`).toBe(true);
    }
  }, 60_000);
});
