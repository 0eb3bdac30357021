import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { activeSecrets, nylasSignature, signatureHeaders, Signer, standardKey, standardSignature } from './signing.js';

describe('webhook signing', () => {
  it('reproduces the Standard Webhooks specification test vector (whsec_ secret, key = decoded bytes)', () => {
    const sig = standardSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('uses a secret without the whsec_ prefix as its UTF-8 bytes', () => {
    expect(standardKey('plain-secret-value')).toEqual(Buffer.from('plain-secret-value'));
    expect(standardKey('whsec_')).toEqual(Buffer.from('whsec_'));
  });

  it('X-Nylas-Signature is the hex HMAC-SHA256 of the raw body with the secret', () => {
    const expected = createHmac('sha256', 'nylas-secret-123456').update('{"a":1}').digest('hex');
    expect(nylasSignature('nylas-secret-123456', '{"a":1}')).toBe(expected);
  });

  it('signs with the previous secret too during its grace period, and only with the current one after', () => {
    const secrets = { secret: 'new-secret-0123456789', previousSecret: 'old-secret-0123456789', previousExpiresAt: 1_000 };
    const body = Buffer.from('{}');
    const during = signatureHeaders(secrets, 'evt_1', new Date(999_000), body);
    expect(during['x-nylas-signature']).toBe(nylasSignature('new-secret-0123456789', body));
    expect(during['x-nylas-signature-previous']).toBe(nylasSignature('old-secret-0123456789', body));
    expect(during['webhook-signature']!.split(' ')).toEqual([standardSignature('new-secret-0123456789', 'evt_1', 999, body), standardSignature('old-secret-0123456789', 'evt_1', 999, body)]);
    const after = signatureHeaders(secrets, 'evt_1', new Date(1_000_000), body);
    expect(after['x-nylas-signature-previous']).toBeUndefined();
    expect(after['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(activeSecrets({ secret: 'x', previousSecret: '' }, new Date()).previous).toBeNull();
  });

  it('a Signer (keys made once) signs exactly as the secrets themselves do, for whsec_ and plain secrets, during and after a rotation', () => {
    const body = Buffer.from('{"id":"evt_2","data":{"object":{"subject":"Grüße"}}}');
    const secrets = { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', previousSecret: 'plain-old-secret-0123', previousExpiresAt: 1_000 };
    const signer = new Signer(secrets);
    for (const at of [new Date(999_000), new Date(1_000_000)]) {
      expect(signer.headers('evt_2', at, body)).toEqual(signatureHeaders(secrets, 'evt_2', at, body));
      // Twice: the second call uses the keys made by the first.
      expect(signer.headers('evt_2', at, body)).toEqual(signatureHeaders(secrets, 'evt_2', at, body));
    }
    expect(signer.headers('evt_2', new Date(999_000), body)['webhook-signature']!.split(' ')[0]).toBe(standardSignature(secrets.secret, 'evt_2', 999, body));
  });
});
