import { describe, expect, it } from 'vitest';
import { authenticator, connectOptions, tlsOptions } from './connection.js';
import { renderSubject, validateTemplate } from './subject.js';
import { testContext } from '../conformance/suite.js';

describe('nats subjects', () => {
  it('fills {type} and {grant_id}; ids cannot add tokens or wildcards', () => {
    expect(renderSubject('tributary.{type}.{grant_id}', { type: 'message.created', grantId: 'g1' })).toBe('tributary.message.created.g1');
    expect(renderSubject('t.{grant_id}', { type: 'grant.updated', grantId: 'a.b *>c' })).toBe('t.a_b___c');
    expect(renderSubject('t.{type}.{grant_id}', { type: 'grant.deleted', grantId: null })).toBe('t.grant.deleted._none');
  });

  it('refuses unknown placeholders and wildcards in the template', () => {
    expect(() => validateTemplate('t.{application}')).toThrow(/unknown subject placeholder \{application\}/);
    expect(() => validateTemplate('t.>')).toThrow(/not a valid subject template/);
    expect(() => validateTemplate('t.{type}.{grant_id}')).not.toThrow();
  });
});

describe('nats connection options', () => {
  it('one kind of credentials only; cluster announcements ignored; no library DNS', () => {
    expect(() => authenticator({ token: 't', user: 'u', password: 'p' })).toThrow(/one kind of NATS credentials/);
    expect(() => authenticator({ password: 'p' })).toThrow(/needs a user/);
    expect(authenticator({})).toBeUndefined();
    const opts = connectOptions({ servers: 'a:4222, tls://b:4222', name: 'n', guard: testContext().outbound, timeoutMs: 1000, token: 'secret' });
    expect(opts.servers).toEqual(['a:4222', 'tls://b:4222']);
    expect(opts).toMatchObject({ ignoreClusterUpdates: true, resolve: false, maxReconnectAttempts: -1 });
    expect(typeof opts.authenticator).toBe('function');
  });

  it('TLS options: a client certificate needs its key', () => {
    expect(tlsOptions({})).toBeUndefined();
    expect(tlsOptions({ tls: true })).toEqual({});
    expect(() => tlsOptions({ tls: true, tls_cert: '-----BEGIN CERT' })).toThrow(/needs its key/);
    expect(tlsOptions({ tls_ca: 'ca', tls_cert: 'c', tls_key: 'k' })).toEqual({ ca: 'ca', cert: 'c', key: 'k' });
  });
});
