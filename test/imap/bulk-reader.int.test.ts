import { readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/domain/event.js';
import type { ProviderSession } from '../../src/providers/provider.js';
import { bulkReader } from '../../src/providers/imap/sync.js';
import { getProvider } from '../../src/providers/registry.js';
import { benchMailbox } from '../../bench/imap-fixtures.js';
import { Dovecot } from '../helpers/dovecot.js';
import { edgeCorpus } from './edge-messages.js';
import { rfc822 } from './messages.js';
import { dovecotGrant, everyBatch } from './sessions.js';

/**
 * The sync with the bulk reader (ADR 0511) against the sync without it: the same mailbox in two
 * Dovecots, one of which refuses a second connection per user (so its sessions read everything
 * through imapflow), must give the same events, in the same batches. One chunk holds a message
 * the lean reader leaves to imapflow, so a fallback happens mid-backfill as well.
 */
const PASSWORD = 'bulk-secret-8f3a';
const UIDVALIDITY = 1_234_567;

interface Logged {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function recorder(): { logger: Record<'debug' | 'info' | 'warn' | 'error', (fields: Record<string, unknown>, msg: string) => void>; lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, msg, fields });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** Every batch of a backfill, each batch's events (the batches are what the engine commits). */
async function backfill(dovecot: Dovecot, user: string, logger: ReturnType<typeof recorder>['logger']): Promise<NewEvent[][]> {
  const handle = { ...dovecotGrant(dovecot, user, PASSWORD, { settings: { backfill_days: 36500 } }), id: 'grant-bulk' };
  const now = () => new Date('2026-06-01T00:00:00Z');
  const session: ProviderSession = await getProvider('imap')!.open(handle, { logger, now, fetch, urls: {}, saveCredentials: async () => {} });
  try {
    return await everyBatch(session, await session.baseline());
  } finally {
    await session.close();
  }
}

let bulk: Dovecot;
let flowOnly: Dovecot;
const user = 'bulk';

beforeAll(async () => {
  [bulk, flowOnly] = await Promise.all([Dovecot.start(), Dovecot.start({ maxUserIpConnections: 1 })]);
  const mail = [
    ...benchMailbox(150),
    // Left to imapflow by the lean reader: a plain filename that may be RFC 2231-encoded.
    rfc822({ subject: 'guessing game', text: 'x', attachments: [{ filename: "utf-8'en'report.pdf", contentType: 'application/pdf', content: Buffer.alloc(100, 3) }] }),
    ...edgeCorpus(),
    ...benchMailbox(900),
  ];
  for (const d of [bulk, flowOnly]) {
    d.addUser(user, PASSWORD);
    d.writeMessages(user, mail);
    // INTERNALDATE is the file's mtime: the same in both mailboxes (a message without a usable Date falls back to it).
    const cur = join(d.maildir(user), 'cur');
    for (const f of readdirSync(cur)) utimesSync(join(cur, f), new Date('2026-05-01T12:00:00Z'), new Date('2026-05-01T12:00:00Z'));
    d.setUidValidity(user, UIDVALIDITY);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([bulk?.destroy(), flowOnly?.destroy()]);
});

describe('the sync with the bulk reader', () => {
  it('announces exactly what the imapflow-only sync announces, in the same batches, falling back per chunk', async () => {
    const a = recorder();
    const b = recorder();
    const withBulk = await backfill(bulk, user, a.logger);
    const withoutBulk = await backfill(flowOnly, user, b.logger);

    const total = withBulk.reduce((n, batch) => n + batch.length, 0);
    expect(total).toBeGreaterThan(2 * bulkReader.minUids);
    expect(total).toBe(150 + 1 + edgeCorpus().length + 900);
    expect(withBulk.map((batch) => batch.length)).toEqual(withoutBulk.map((batch) => batch.length));
    // `time` is when the event was built (the wall clock), the one field two runs cannot share.
    const content = (batches: NewEvent[][]) => batches.map((batch) => batch.map(({ time: _time, ...rest }) => rest));
    expect(content(withBulk)).toEqual(content(withoutBulk));

    // The lean reader ran (the session with it logged in twice) and left exactly one chunk to imapflow.
    const logins = (d: Dovecot) => (d.log().match(/imap-login: Info: Login: user=<bulk>/g) ?? []).length;
    expect(logins(bulk)).toBeGreaterThanOrEqual(2);
    const bulkWarnings = (lines: Logged[]) => lines.filter((l) => /bulk reader failed/.test(l.msg));
    expect(bulkWarnings(a.lines)).toHaveLength(1);
    expect(bulkWarnings(a.lines)[0]!.fields.range).toBe('1:500');
    // Without a second connection: one warning for the refused login, then no further attempts.
    expect(bulkWarnings(b.lines)).toHaveLength(1);
    expect(bulkWarnings(b.lines)[0]!.level).toBe('warn');
    expect(JSON.stringify([...a.lines, ...b.lines])).not.toContain(PASSWORD);
  }, 180_000);
});
