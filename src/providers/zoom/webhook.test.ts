import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ReplayGuard, TIMESTAMP_TOLERANCE_S, urlValidationAnswer, verifySignature, zoomSignature } from './webhook.js';

const SECRET = 'secret-token-1';
const now = 1_764_000_000_000;
const body = '{"event":"recording.transcript_completed","payload":{}}';
const signed = (ts: number, secret = SECRET, raw = body) => ({ 'x-zm-request-timestamp': String(ts), 'x-zm-signature': zoomSignature(secret, String(ts), raw) });

describe('Zoom webhook verification', () => {
  it('signature is v0= hex HMAC-SHA256 of "v0:{timestamp}:{body}" (known vector)', () => {
    const expected = `v0=${createHmac('sha256', SECRET).update(`v0:1700000000:${body}`).digest('hex')}`;
    expect(zoomSignature(SECRET, '1700000000', body)).toBe(expected);
  });

  it('accepts a fresh request and names which secret signed it', () => {
    const ts = now / 1000;
    expect(verifySignature(signed(ts, 'other'), body, ['wrong', '', 'other'], now, null)).toEqual({ ok: true, index: 2 });
  });

  it('refuses forged signatures, a changed body, missing headers and stale or future timestamps', () => {
    const ts = now / 1000;
    expect(verifySignature(signed(ts, 'attacker'), body, [SECRET], now, null)).toEqual({ ok: false, refusal: 'bad_signature' });
    expect(verifySignature(signed(ts), `${body} `, [SECRET], now, null)).toEqual({ ok: false, refusal: 'bad_signature' });
    expect(verifySignature({}, body, [SECRET], now, null)).toEqual({ ok: false, refusal: 'missing_signature' });
    expect(verifySignature({ 'x-zm-request-timestamp': 'abc', 'x-zm-signature': 'v0=00' }, body, [SECRET], now, null)).toEqual({ ok: false, refusal: 'missing_signature' });
    expect(verifySignature(signed(ts - TIMESTAMP_TOLERANCE_S - 1), body, [SECRET], now, null)).toEqual({ ok: false, refusal: 'stale_timestamp' });
    expect(verifySignature(signed(ts + TIMESTAMP_TOLERANCE_S + 1), body, [SECRET], now, null)).toEqual({ ok: false, refusal: 'stale_timestamp' });
    expect(verifySignature({ ...signed(ts), 'x-zm-signature': 'v0=short' }, body, [SECRET], now, null)).toEqual({ ok: false, refusal: 'bad_signature' });
  });

  it('a replay of an accepted request is refused, a re-signed retry is not', () => {
    const guard = new ReplayGuard();
    const ts = now / 1000;
    expect(verifySignature(signed(ts), body, [SECRET], now, guard).ok).toBe(true);
    expect(verifySignature(signed(ts), body, [SECRET], now + 1000, guard)).toEqual({ ok: false, refusal: 'replayed' });
    expect(verifySignature(signed(ts + 1), body, [SECRET], now + 1000, guard).ok).toBe(true);
  });

  it('the replay memory stays bounded', () => {
    const guard = new ReplayGuard(10);
    for (let i = 0; i < 100; i++) guard.check(`sig${i}`, now);
    expect(guard.check('sig99', now)).toBe(true);
    expect(guard.check('sig0', now)).toBe(false);
  });

  it('url_validation answer', () => {
    expect(urlValidationAnswer(SECRET, 'qgg8vlvZRS6UYooatFL8Aw')).toEqual({ plainToken: 'qgg8vlvZRS6UYooatFL8Aw', encryptedToken: createHmac('sha256', SECRET).update('qgg8vlvZRS6UYooatFL8Aw').digest('hex') });
  });
});
