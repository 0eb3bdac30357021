import { randomBytes } from 'node:crypto';
import type { PluginLogger } from '../../domain/plugin.js';
import { GraphCallError, type GraphClient } from './client.js';
import type { TokenKeeper } from './tokens.js';

/** Outlook message subscriptions live at most 4230 minutes in older docs (10080 in newer): ask for 3 days. */
export const SUBSCRIPTION_LIFETIME_MS = 3 * 24 * 3600_000;
/** Renew when less than this is left (well before expiry, so a failing renewal has time to retry). */
export const RENEW_BEFORE_MS = 24 * 3600_000;

export interface WatchOptions {
  grantId: string;
  /** Tributary's notification endpoint; the grant id rides in the query so the endpoint can find the clientState. */
  notificationUrl: string;
  resource?: string;
  now: () => Date;
  logger: PluginLogger;
  /** How often an existing subscription is looked up (it may have been removed without us hearing). */
  checkEveryMs: number;
}

/**
 * One Graph subscription per grant on the Inbox (`created`), with a lifecycle URL and a random
 * clientState per subscription. The state (id, clientState, expiry) is kept in the grant's
 * sealed credentials, which the notification endpoint reads to check clientState. Called at the
 * start of each sync pass: creates, renews before expiry, recreates when Graph lost it.
 */
export class SubscriptionKeeper {
  private lastCheck = 0;

  constructor(
    private readonly graph: GraphClient,
    private readonly tokens: TokenKeeper,
    private readonly o: WatchOptions,
  ) {}

  private get url(): string {
    const u = new URL(this.o.notificationUrl);
    u.searchParams.set('grant_id', this.o.grantId);
    return u.toString();
  }

  /** Makes sure a live subscription exists. `reason` may name a lifecycle event from the notification endpoint. */
  async maintain(reason = ''): Promise<void> {
    const sub = this.tokens.credentials.subscription;
    const now = this.o.now().getTime();
    if (!sub || sub.id === 'pending' || Date.parse(sub.expiresAt) <= now || reason.includes('subscriptionRemoved')) return this.create();
    if (Date.parse(sub.expiresAt) - now < RENEW_BEFORE_MS || reason.includes('reauthorizationRequired')) return this.renew(sub.id);
    if (now - this.lastCheck >= this.o.checkEveryMs) {
      this.lastCheck = now;
      try {
        await this.graph.get(`/subscriptions/${encodeURIComponent(sub.id)}`);
      } catch (err) {
        if (err instanceof GraphCallError && err.status === 404) return this.create();
        throw err;
      }
    }
  }

  /**
   * Called after a pass that found nothing: renews (at most every `probeMs`), which also proves
   * the subscription still exists and reauthorizes it. This is how a `subscriptionRemoved` or
   * `reauthorizationRequired` lifecycle notification, which only wakes a pass, gets acted on.
   */
  async probe(probeMs: number): Promise<void> {
    const sub = this.tokens.credentials.subscription;
    if (!sub || sub.id === 'pending') return this.create();
    if (this.o.now().getTime() - this.lastCheck >= probeMs) await this.renew(sub.id);
  }

  private async renew(id: string): Promise<void> {
    const expiresAt = new Date(this.o.now().getTime() + SUBSCRIPTION_LIFETIME_MS).toISOString();
    try {
      const res = await this.graph.request('PATCH', `/subscriptions/${encodeURIComponent(id)}`, { body: { expirationDateTime: expiresAt } });
      const sub = this.tokens.credentials.subscription!;
      await this.tokens.update({ subscription: { ...sub, expiresAt: String(res.body.expirationDateTime ?? expiresAt) } });
      this.lastCheck = this.o.now().getTime();
      this.o.logger.debug({ subscription_id: id }, 'Graph subscription renewed');
    } catch (err) {
      if (err instanceof GraphCallError && err.status === 404) return this.create();
      throw err;
    }
  }

  private async create(): Promise<void> {
    const clientState = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.o.now().getTime() + SUBSCRIPTION_LIFETIME_MS).toISOString();
    const old = this.tokens.credentials.subscription;
    // Saved before asking Graph: notifications can arrive before the creation call returns.
    await this.tokens.update({ subscription: { id: 'pending', clientState, expiresAt } });
    const res = await this.graph.request('POST', '/subscriptions', {
      body: {
        changeType: 'created',
        notificationUrl: this.url,
        lifecycleNotificationUrl: this.url,
        resource: this.o.resource ?? "me/mailFolders('inbox')/messages",
        expirationDateTime: expiresAt,
        clientState,
      },
    });
    const id = String(res.body.id);
    try {
      await this.tokens.update({ subscription: { id, clientState, expiresAt: String(res.body.expirationDateTime ?? expiresAt) } });
    } catch (err) {
      // Not recorded (this session lost the grant while Graph answered): nobody would renew it and
      // its clientState is unknown to the endpoint, so remove it rather than leave a second one.
      await this.graph.request('DELETE', `/subscriptions/${encodeURIComponent(id)}`).catch(() => undefined);
      throw err;
    }
    this.lastCheck = this.o.now().getTime();
    this.o.logger.info({ subscription_id: id }, 'Graph subscription created');
    if (old && old.id !== 'pending' && old.id !== id) {
      // A replaced subscription may still be alive (renewal raced a removal): remove it quietly.
      await this.graph.request('DELETE', `/subscriptions/${encodeURIComponent(old.id)}`).catch(() => undefined);
    }
  }
}

/** Deletes a deleted grant's subscription (gone already counts as done); never called on session close, a lease may just be moving. */
export async function deleteSubscription(graph: GraphClient, id: string, logger: PluginLogger): Promise<void> {
  try {
    await graph.request('DELETE', `/subscriptions/${encodeURIComponent(id)}`);
  } catch (err) {
    if (!(err instanceof GraphCallError && err.status === 404)) throw err;
  }
  logger.info({ subscription_id: id }, 'Graph subscription deleted for the deleted grant');
}
