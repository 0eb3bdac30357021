import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/grants.js';
import { messageEvents, microsoftHarness, type Harness } from './harness.js';

/**
 * "New mail" starts when the grant is created at the OAuth callback, not when a worker first
 * syncs it: mail received while no worker ran is announced by the first pass, older mail is not.
 */
describe('Microsoft baseline at grant creation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await microsoftHarness('pglite', { env: { TRIBUTARY_FALLBACK_SYNC_MS: '600000' } });
  });
  afterAll(() => h?.close());

  it('announces mail received between the callback and the first sync pass', async () => {
    const user = h.sb.control.createUser({ mail: 'gap@contoso.com', displayName: 'Gap' });
    h.sb.control.deliverMail(user.mail, { from: 'old@example.com', subject: 'before the grant', receivedDateTime: new Date(Date.now() - 60_000).toISOString() });
    const { grant_id } = await h.grant(user.mail);
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 15; i++) h.sb.control.deliverMail(user.mail, { from: 'new@example.com', subject: `in the gap ${i}` });
    await h.startSync({ backoff: { baseMs: 50, maxMs: 300 } });
    const events = await eventually(async () => {
      const e = await messageEvents(h.api, grant_id);
      return e.length >= 15 ? e : null;
    }, 20_000, 'the gap announced');
    expect(events.map((e) => e.object.subject).sort()).toEqual(Array.from({ length: 15 }, (_, i) => `in the gap ${i}`).sort());
  }, 60_000);
});
