import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { eventually } from '../helpers/grants.js';
import { messageEvents, microsoftHarness, subscriptionsOf, type Harness } from './harness.js';

describe.each(DATABASES)('Graph subscription lifecycle and backfill (%s)', (kind) => {
  let h: Harness;
  let offset = 0;
  beforeAll(async () => {
    h = await microsoftHarness(kind, { env: { TRIBUTARY_FALLBACK_SYNC_MS: '600000' } });
    h.api.ctx.now = () => new Date(Date.now() + offset);
    await h.startSync({ backoff: { baseMs: 50, maxMs: 300 } });
  });
  afterAll(() => h?.close());

  it('recreates a removed subscription (subscriptionRemoved) and push works again', async () => {
    h.sb.control.createUser({ mail: 'life@contoso.com' });
    const { grant_id } = await h.grant('life@contoso.com');
    const first = await eventually(() => subscriptionsOf(h, grant_id)[0], 10_000, 'subscription');
    // Wait until Tributary has recorded the subscription id beside its clientState.
    await eventually(async () => h.api.ctx.repos.grants.openCredentials<{ subscription?: { id: string } }>((await h.api.ctx.repos.grants.getById(grant_id))!)?.subscription?.id === first.id, 5000, 'stored subscription');
    offset += 60_000; // the last subscription check is now old enough to probe again
    await h.sb.control.removeSubscription(first.id);
    const second = await eventually(() => subscriptionsOf(h, grant_id).find((s) => s.id !== first.id), 10_000, 'a new subscription');
    expect(second.clientState).not.toBe(first.clientState);
    h.sb.control.deliverMail('life@contoso.com', { from: 'a@example.com', subject: 'after recreation' });
    await eventually(async () => (await messageEvents(h.api, grant_id)).length === 1, 3000, 'push after recreation');
    // The old clientState no longer opens the door.
    const url = new URL(second.notificationUrl);
    const stale = await h.api.app.inject({ method: 'POST', url: url.pathname + url.search, payload: { value: [{ subscriptionId: first.id, clientState: first.clientState, changeType: 'created' }] } });
    expect(stale.statusCode).toBe(202);
    expect(await h.api.ctx.metrics.registry.getSingleMetricAsString('tributary_microsoft_notifications_total')).toMatch(/client_state_mismatch/);
  });

  it('renews the subscription before it expires', async () => {
    h.sb.control.createUser({ mail: 'renew@contoso.com' });
    const { grant_id } = await h.grant('renew@contoso.com');
    const sub = await eventually(() => subscriptionsOf(h, grant_id)[0], 10_000, 'subscription');
    const firstExpiry = sub.expiresAt; // the sandbox hands out its live record
    offset += 2.5 * 86_400_000; // less than a day left
    try {
      h.sb.control.deliverMail('renew@contoso.com', { from: 'a@example.com', subject: 'wake' });
      await eventually(() => (subscriptionsOf(h, grant_id).find((s) => s.id === sub.id)?.expiresAt ?? 0) > firstExpiry + 86_400_000, 5000, 'renewed expiry');
    } finally {
      offset -= 2.5 * 86_400_000;
    }
  });

  it('backfill announces older mail as historic, oldest first, with progress on the grant', async () => {
    await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { backfill_days: 3 } });
    try {
      h.sb.control.createUser({ mail: 'history@contoso.com' });
      const ago = (days: number) => new Date(Date.now() + offset - days * 86_400_000).toISOString();
      h.sb.control.deliverMail('history@contoso.com', { from: 'a@example.com', subject: 'two days ago', receivedDateTime: ago(2) });
      h.sb.control.deliverMail('history@contoso.com', { from: 'a@example.com', subject: 'five days ago', receivedDateTime: ago(5) });
      h.sb.control.deliverMail('history@contoso.com', { from: 'a@example.com', subject: 'one day ago', receivedDateTime: ago(1) });
      h.sb.control.deliverMail('history@contoso.com', { from: 'a@example.com', subject: 'yesterday, with a file', receivedDateTime: ago(0.5), attachments: [{ name: 'a.txt' }] });
      const { grant_id } = await h.grant('history@contoso.com');
      await eventually(async () => (await messageEvents(h.api, grant_id)).length === 3, 10_000, 'historic events');
      const events = await messageEvents(h.api, grant_id);
      expect(events.map((e) => e.object.subject)).toEqual(['two days ago', 'one day ago', 'yesterday, with a file']);
      expect(new Set(events.map((e) => e.source))).toEqual(new Set(['/microsoft/emails/historic']));
      expect(events[2]!.object.attachments).toMatchObject([{ filename: 'a.txt' }]);
      const grant = await h.api.call('GET', `/v3/grants/${grant_id}`);
      expect(grant.body.data.sync_state.progress).toMatchObject({ backfill: { status: 'done', announced: 3 } });
      h.sb.control.deliverMail('history@contoso.com', { from: 'a@example.com', subject: 'new' });
      await eventually(async () => (await messageEvents(h.api, grant_id)).length === 4, 5000, 'realtime after backfill');
      expect((await messageEvents(h.api, grant_id))[3]!.source).toBe('/microsoft/emails/realtime');
    } finally {
      await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { backfill_days: 0 } });
    }
  });
});
