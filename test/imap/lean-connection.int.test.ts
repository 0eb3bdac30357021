import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket, createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyImapError } from '../../src/providers/imap/client.js';
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

/**
 * TLS: a self-signed server (no CA trusts it) in front of nothing. The handshake must carry the
 * grant's host name (SNI) even though the socket goes to the pinned address, and must fail as a
 * TLS error (certificates are verified), for direct TLS and after STARTTLS alike.
 */
describe('the bulk reader connection over TLS', () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  const servers: Server[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lean-tls-'));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=mail.pinned.invalid', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    if (r.status !== 0) throw new Error(`openssl is required for the TLS tests: ${r.stderr.toString()}`);
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
  });
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const listen = (server: Server) =>
    new Promise<number>((resolve) => {
      servers.push(server);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const pinned: LookupAll = async () => [{ address: '127.0.0.1', family: 4 }];
  const tlsSettings = (port: number, security: 'tls' | 'starttls') => ({ host: 'mail.pinned.invalid', port, security, username: 'u', password: 'p' });

  it('sends the host name to a direct TLS server at the pinned address and refuses its unknown certificate', async () => {
    const sni: string[] = [];
    const port = await listen(createTlsServer({ key, cert, SNICallback: (name, cb) => (sni.push(name), cb(null)) }, (socket) => socket.destroy()).on('tlsClientError', () => undefined));
    const err = await LeanImapConnection.open(tlsSettings(port, 'tls'), 'INBOX', { logger, outbound: outboundGuard(pinned, true) }, LIMITS).catch((e: unknown) => e);
    expect(classifyImapError(err, { host: 'mail.pinned.invalid', port }).message).toMatch(/^TLS handshake with mail\.pinned\.invalid/);
    expect(sni).toEqual(['mail.pinned.invalid']);
    expect(openConnections('mail.pinned.invalid')).toBe(0);
  });

  it('upgrades with STARTTLS, sending the host name, and refuses the unknown certificate', async () => {
    const sni: string[] = [];
    const port = await listen(
      createServer((socket) => {
        socket.write('* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n');
        socket.once('data', (line) => {
          const tag = line.toString().split(' ')[0];
          socket.write(`${tag} OK Begin TLS negotiation now\r\n`);
          const secure = new TLSSocket(socket, { isServer: true, key, cert, SNICallback: (name, cb) => (sni.push(name), cb(null)) });
          secure.on('error', () => undefined);
        });
        socket.on('error', () => undefined);
      }),
    );
    const err = await LeanImapConnection.open(tlsSettings(port, 'starttls'), 'INBOX', { logger, outbound: outboundGuard(pinned, true) }, LIMITS).catch((e: unknown) => e);
    expect(classifyImapError(err, { host: 'mail.pinned.invalid', port }).message).toMatch(/^TLS handshake with mail\.pinned\.invalid/);
    expect(sni).toEqual(['mail.pinned.invalid']);
    expect(openConnections('mail.pinned.invalid')).toBe(0);
  });
});
