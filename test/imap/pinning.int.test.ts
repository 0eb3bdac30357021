import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundGuard, type LookupAll } from '../../src/domain/net.js';
import { connectImap } from '../../src/providers/imap/client.js';
import { Dovecot } from '../helpers/dovecot.js';

const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => logger } as never;

/**
 * IMAP connections are pinned: the host is resolved once through the outbound guard and the
 * socket goes to that checked address. A name the system resolver does not know proves it (the
 * connection can only succeed through the guard's answer); a forbidden answer connects nowhere.
 */
describe('IMAP connections through the outbound guard', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await Dovecot.start();
    dovecot.addUser('pin', 'pw');
  });
  afterAll(async () => dovecot?.destroy());

  const settings = () => ({ host: 'mail.pinned.invalid', port: dovecot.port, security: 'none' as const, username: 'pin', password: 'pw' });

  it('connects to the address the guard checked, not to a second DNS answer', async () => {
    const lookups: string[] = [];
    const lookup: LookupAll = async (host) => {
      lookups.push(host);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const client = await connectImap(settings(), { logger, outbound: outboundGuard(lookup, true) });
    await client.logout();
    expect(lookups).toEqual(['mail.pinned.invalid']);
  });

  it('refuses, before connecting, a host that now resolves to a private address', async () => {
    const lookup: LookupAll = async () => [{ address: '127.0.0.1', family: 4 }];
    const logins = () => (dovecot.log().match(/imap-login: Info: (Login|Disconnected)/g) ?? []).length;
    const before = logins();
    await expect(connectImap(settings(), { logger, outbound: outboundGuard(lookup, false) })).rejects.toMatchObject({ message: expect.stringContaining('refusing to connect to mail.pinned.invalid') });
    await new Promise((r) => setTimeout(r, 300));
    expect(logins()).toBe(before);
  });
});
