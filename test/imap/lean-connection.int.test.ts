import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundGuard, type LookupAll } from '../../src/domain/net.js';
import { openConnections } from '../../src/providers/imap/client.js';
import { ImapCommandError, LeanImapConnection } from '../../src/providers/imap/lean-connection.js';
import { ImapProtocolError } from '../../src/providers/imap/lean-frame.js';
import { Dovecot } from '../helpers/dovecot.js';
import { rfc822 } from './messages.js';

/**
 * The bulk reader's connection against Dovecot: pinned through the outbound guard like
 * connectImap, counted in the host's budget, read-only, and failing with an error (never a
 * hang) when the server refuses or goes away.
 */
const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const LIMITS = { maxLiteral: 2 << 20, idleTimeoutMs: 5_000 };
const PASSWORD = 'lean-secret "quoted" \\ ünï';

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
  dovecot.addUser('leanc', PASSWORD);
  dovecot.writeMessages('leanc', [rfc822({ subject: 'one', text: 'x' }), rfc822({ subject: 'two', text: 'y' })]);
});
afterAll(async () => dovecot?.destroy());

const settings = (over: Partial<{ host: string; password: string }> = {}) => ({ host: dovecot.host, port: dovecot.port, security: 'none' as const, username: 'leanc', password: PASSWORD, ...over });
const logins = () => (dovecot.log().match(/imap-login: Info: Login: user=<leanc>/g) ?? []).length;

describe('the bulk reader connection', () => {
  it('logs in with a password that needs quoting and a literal, examines read-only and counts in the host budget', async () => {
    const before = openConnections(dovecot.host);
    const { conn, uidValidity } = await LeanImapConnection.open(settings(), 'INBOX', { logger }, LIMITS);
    expect(uidValidity).toMatch(/^\d+$/);
    expect(openConnections(dovecot.host)).toBe(before + 1);
    const metas = await conn.fetchMeta('1:*');
    expect(metas.map((m) => m.envelope?.subject)).toEqual(['one', 'two']);
    // Read-only and PEEK: reading the bodies leaves the messages unread.
    expect((await conn.fetchBodies('1:*', '1', null)).size).toBe(2);
    expect((await conn.fetchMeta('1:*')).map((m) => m.flags?.has('\\Seen'))).toEqual([false, false]);
    await conn.logout();
    await new Promise((r) => setTimeout(r, 100));
    expect(openConnections(dovecot.host)).toBe(before);
    expect(conn.usable).toBe(false);
  });

  it('connects to the address the guard checked, and refuses a forbidden one before connecting', async () => {
    const lookups: string[] = [];
    const lookup: LookupAll = async (host) => {
      lookups.push(host);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const { conn } = await LeanImapConnection.open(settings({ host: 'mail.pinned.invalid' }), 'INBOX', { logger, outbound: outboundGuard(lookup, true) }, LIMITS);
    expect(openConnections('mail.pinned.invalid')).toBe(1);
    await conn.logout();
    expect(openConnections('mail.pinned.invalid')).toBe(0);
    expect(lookups).toEqual(['mail.pinned.invalid']);

    const before = logins();
    await expect(LeanImapConnection.open(settings({ host: 'mail.pinned.invalid' }), 'INBOX', { logger, outbound: outboundGuard(lookup, false) }, LIMITS)).rejects.toMatchObject({ message: expect.stringContaining('refusing to connect to mail.pinned.invalid') });
    expect(logins()).toBe(before);
    expect(openConnections('mail.pinned.invalid')).toBe(0);
  });

  it('fails a refused login with the server’s words and never the password', async () => {
    const err = await LeanImapConnection.open(settings({ password: 'wrong' }), 'INBOX', { logger }, LIMITS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImapCommandError);
    expect((err as Error).message).toMatch(/^NO /);
    expect((err as Error).message).not.toContain('wrong');
    expect(openConnections(dovecot.host)).toBe(0);
  });

  it('fails a missing folder, and leaves folder names that need modified UTF-7 to imapflow', async () => {
    await expect(LeanImapConnection.open(settings(), 'Nope', { logger }, LIMITS)).rejects.toBeInstanceOf(ImapCommandError);
    await expect(LeanImapConnection.open(settings(), 'Entwürfe', { logger }, LIMITS)).rejects.toBeInstanceOf(ImapProtocolError);
    expect(openConnections(dovecot.host)).toBe(0);
  });

  it('rejects pending commands when the server goes away instead of waiting', async () => {
    const { conn } = await LeanImapConnection.open(settings(), 'INBOX', { logger }, LIMITS);
    const pending = conn.fetchMeta('1:*');
    conn.close();
    await expect(pending).rejects.toBeInstanceOf(ImapProtocolError);
    await expect(conn.fetchMeta('1:*')).rejects.toBeInstanceOf(ImapProtocolError);
  });
});
