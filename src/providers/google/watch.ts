import type { PluginLogger } from '../../domain/plugin.js';
import type { GmailClient } from './client.js';
import type { GoogleTokens } from './tokens.js';

/** A watch lasts 7 days; Google advises renewing daily. */
export const RENEW_EVERY_MS = 24 * 3600_000;

/**
 * `users.watch { topicName, labelIds }` per grant, renewed once a day (and whenever the topic
 * changes or the watch is close to expiring); the state lives in the grant's sealed credentials,
 * kept across re-authentication. A failed renewal is only logged: polling still finds the mail.
 */
export class WatchKeeper {
  constructor(
    private readonly gmail: GmailClient,
    private readonly tokens: GoogleTokens,
    private readonly o: { topicName: string; labelIds: string[]; now: () => Date; logger: PluginLogger },
  ) {}

  async maintain(_reason: string): Promise<void> {
    const w = this.tokens.credentials.watch;
    const now = this.o.now().getTime();
    if (w && w.topicName === this.o.topicName && now - w.renewedAt < RENEW_EVERY_MS && w.expiration - now > RENEW_EVERY_MS) return;
    const res = await this.gmail.call<{ historyId?: string; expiration?: string }>('POST', 'watch', {}, { topicName: this.o.topicName, labelIds: this.o.labelIds, labelFilterBehavior: 'include' });
    await this.tokens.update({ watch: { topicName: this.o.topicName, expiration: Number(res.expiration ?? now + 7 * 86_400_000), renewedAt: now } });
    this.o.logger.info({ topic: this.o.topicName, expires_at: new Date(Number(res.expiration ?? 0)).toISOString() }, w ? 'Gmail watch renewed' : 'Gmail watch started');
  }
}

/**
 * `users.stop`: Gmail stops publishing the mailbox's changes to the topic. Only for a deleted
 * grant — a closing session must not call it, since the grant's lease may just be moving to
 * another worker (ADR 0411).
 */
export async function stopWatch(gmail: GmailClient, logger: PluginLogger): Promise<void> {
  await gmail.call('POST', 'stop');
  logger.info({}, 'Gmail watch stopped for the deleted grant');
}
