import { describe, expect, it } from 'vitest';
import { ProviderError } from '../provider.js';
import { classifyImapError, failureKind, HostBudget } from './client.js';

const where = { host: 'imap.example.test', port: 993 };

describe('HostBudget', () => {
  it('keeps at most maxConnecting logins in flight and serves waiters in order', async () => {
    const b = new HostBudget(2, 100);
    const order: number[] = [];
    const entered = [0, 1, 2, 3].map((i) => b.enter().then(() => order.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual([0, 1]);
    b.leave(true);
    await entered[2];
    expect(order).toEqual([0, 1, 2]);
    expect(b.connecting).toBe(2);
    b.leave(false);
    b.leave(true);
    await entered[3];
    expect(order).toEqual([0, 1, 2, 3]);
    expect(b.open).toBe(2);
  });

  it('waits for a connection to close when the host is at its connection cap', async () => {
    const b = new HostBudget(5, 1);
    await b.enter();
    b.leave(true);
    let second = false;
    const p = b.enter().then(() => (second = true));
    await Promise.resolve();
    expect(second).toBe(false);
    b.closed();
    await p;
    expect(second).toBe(true);
  });
});

describe('classifyImapError', () => {
  it('separates refused credentials from the server’s own trouble', () => {
    const bad = classifyImapError(Object.assign(new Error('Command failed'), { authenticationFailed: true, serverResponseCode: 'AUTHENTICATIONFAILED' }), where);
    expect(bad.kind).toBe('reauth');
    expect(failureKind(bad)).toBe('auth');
    const temporary = classifyImapError(Object.assign(new Error('Command failed'), { authenticationFailed: true, serverResponseCode: 'UNAVAILABLE', responseText: 'Temporary authentication failure.' }), where);
    expect(temporary.kind).toBe('transient');
  });

  it('names TLS, DNS, refused connections and timeouts', () => {
    expect(failureKind(classifyImapError(Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), where))).toBe('tls');
    expect(failureKind(classifyImapError(Object.assign(new Error('x'), { code: 'ENOTFOUND' }), where))).toBe('unreachable');
    expect(failureKind(classifyImapError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), where))).toBe('unreachable');
    expect(failureKind(classifyImapError(Object.assign(new Error('Connection timeout'), { code: 'CONNECT_TIMEOUT' }), where))).toBe('unreachable');
    const passthrough = new ProviderError('throttled', 'slow down', 5000);
    expect(classifyImapError(passthrough, where)).toBe(passthrough);
  });
});
