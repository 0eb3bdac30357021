import type { SandboxClock } from './clock.js';
import type { Directory, NewApp, NewUser, SignInAudience } from './directory.js';
import type { DeltaEngine } from './graph/delta.js';
import type { MailInput } from './graph/mailbox.js';
import type { Throttle } from './graph/throttle.js';
import type { Authorizer } from './identity/authorize.js';
import type { TokenStore } from './identity/tokens.js';
import type { Mailboxes } from './mailboxes.js';
import type { LifecycleEvent, Subscriptions } from './notifications/subscriptions.js';

export interface ControlDeps {
  clock: SandboxClock;
  directory: Directory;
  tokens: TokenStore;
  authorizer: Authorizer;
  mailboxes: Mailboxes;
  delta: DeltaEngine;
  throttle: Throttle;
  subscriptions: Subscriptions;
  setLatency: (ms: number) => void;
}

export interface ApproveResult {
  /** Where the browser would be sent (the app's redirect URI with `code` or `error`). */
  location?: string;
  /** Set when the sandbox would show an error page (or re-show the consent page) instead of redirecting. */
  error?: { code: number; description: string };
}

/**
 * The sandbox's control API: what a test (or `tributary demo`) does to the "real world" —
 * register apps and users, deliver mail, revoke, break things on purpose. Every method is
 * also served as `POST /_control/{method}` with the same arguments as a JSON object.
 */
export class SandboxControl {
  constructor(private readonly d: ControlDeps) {}

  now(): number {
    return this.d.clock.now();
  }

  /** Move the sandbox clock forward (token, code, secret and subscription expiry read it). */
  advanceClock(ms: number): { now: number } {
    this.d.clock.advance(ms);
    return { now: this.d.clock.now() };
  }

  createTenant(input: { domain?: string; displayName?: string } = {}): { id: string; domains: string[] } {
    const t = this.d.directory.createTenant(input);
    return { id: t.id, domains: t.domains };
  }

  createApp(input: NewApp): { clientId: string; clientSecret: string; secretId: string; secretExpiresAt: string; tenantId: string; audience: SignInAudience } {
    const { app, secret } = this.d.directory.createApp(input);
    return { clientId: app.clientId, clientSecret: secret.value, secretId: secret.id, secretExpiresAt: new Date(secret.expiresAt).toISOString(), tenantId: app.tenantId, audience: app.audience };
  }

  addClientSecret(clientId: string, expiresAt?: number): { secretId: string; clientSecret: string; expiresAt: string } {
    const s = this.d.directory.addSecret(clientId, expiresAt);
    return { secretId: s.id, clientSecret: s.value, expiresAt: new Date(s.expiresAt).toISOString() };
  }

  /** Remove a client secret (as deleting it in the portal does). */
  removeClientSecret(clientId: string, secretId: string): void {
    const app = this.d.directory.requireApp(clientId);
    app.secrets = app.secrets.filter((s) => s.id !== secretId);
  }

  createUser(input: NewUser): { id: string; tenantId: string; mail: string; userPrincipalName: string; displayName: string } {
    const u = this.d.directory.createUser(input);
    this.d.mailboxes.get(u.id);
    return { id: u.id, tenantId: u.tenantId, mail: u.mail, userPrincipalName: u.userPrincipalName, displayName: u.displayName };
  }

  /**
   * Stand in for a browser on the authorize page: validate `authorizeUrl` exactly as
   * `GET …/authorize` does, then Accept (or Cancel) as `username` (default: the login_hint).
   */
  approve(authorizeUrl: string, options: { username?: string; action?: 'accept' | 'cancel' } = {}): ApproveResult {
    const url = new URL(authorizeUrl);
    const m = /^\/([^/]+)\/oauth2\/v2\.0\/authorize$/.exec(url.pathname);
    if (!m?.[1]) throw new Error(`not an authorize URL: ${authorizeUrl}`);
    const query = Object.fromEntries(url.searchParams);
    let outcome = this.d.authorizer.start(decodeURIComponent(m[1]), query);
    if (outcome.kind === 'consent') {
      if (outcome.error) return { error: { code: outcome.error.code, description: outcome.error.description } };
      outcome = this.d.authorizer.decide(outcome.pending.id, options.username ?? query.login_hint ?? '', (options.action ?? 'accept') === 'accept');
    }
    if (outcome.kind === 'redirect') return { location: outcome.location };
    return { error: { code: outcome.error?.code ?? 0, description: outcome.error?.description ?? 'unknown error' } };
  }

  /** Admin "revoke sessions": refresh tokens stop working (AADSTS50173). With `accessTokens`, Graph also refuses live access tokens (continuous access evaluation). */
  revokeUser(user: string, options: { accessTokens?: boolean } = {}): void {
    this.d.tokens.revokeUser(this.d.directory.requireUser(user).id, options.accessTokens ?? false);
  }

  disableUser(user: string): void {
    this.d.directory.requireUser(user).disabled = true;
  }

  /** The user removes the app from "My apps": refreshes fail with AADSTS65001 until consent is given again. */
  revokeConsent(user: string, clientId: string): void {
    this.d.directory.revokeConsent(clientId, this.d.directory.requireUser(user).id);
  }

  /** Deliver a message; returns both id forms (the REST id changes when the message moves, the immutable one never). */
  deliverMail(user: string, mail: MailInput): { id: string; restId: string; internetMessageId: string; folderId: string; conversationId: string } {
    const box = this.d.mailboxes.get(user);
    const msg = box.deliver(mail);
    return { id: msg.immutableId, restId: box.restId(msg), internetMessageId: msg.internetMessageId, folderId: msg.folderId, conversationId: msg.conversationId };
  }

  /** Deliver many messages in one call (seeding a big mailbox); returns their immutable ids in order. */
  deliverMany(user: string, mails: MailInput[]): { delivered: number; ids: string[] } {
    const box = this.d.mailboxes.get(user);
    const ids = mails.map((m) => box.deliver(m).immutableId);
    return { delivered: ids.length, ids };
  }

  moveMessage(user: string, messageId: string, folder: string): { id: string; restId: string; folderId: string } {
    const box = this.d.mailboxes.get(user);
    const msg = box.move(messageId, folder);
    return { id: msg.immutableId, restId: box.restId(msg), folderId: msg.folderId };
  }

  updateMessage(user: string, messageId: string, patch: { isRead?: boolean; flagged?: boolean; subject?: string }): void {
    this.d.mailboxes.get(user).update(messageId, patch);
  }

  deleteMessage(user: string, messageId: string): void {
    this.d.mailboxes.get(user).remove(messageId);
  }

  createFolder(user: string, displayName: string): { id: string } {
    return { id: this.d.mailboxes.get(user).createFolder(displayName).id };
  }

  /** Forget the user's delta sync states: their nextLinks and deltaLinks answer 410 from now on. */
  expireDeltaState(user: string, folder?: string): { expired: number } {
    const box = this.d.mailboxes.get(user);
    const folderId = folder ? box.folder(folder)?.id : undefined;
    return { expired: this.d.delta.expire(box.userId, folderId) };
  }

  /** While `count` > 0, every incremental delta round also repeats the last `count` changes it already reported. */
  setDeltaReplay(user: string, count: number): void {
    this.d.delta.setReplay(this.d.directory.requireUser(user).id, count);
  }

  /** The next `count` Graph calls (of one mailbox, or any) answer 429 (or 503) with `Retry-After`. */
  injectThrottling(options: { count: number; retryAfterSeconds?: number; user?: string; status?: 429 | 503 }): void {
    const userId = options.user ? this.d.directory.requireUser(options.user).id : undefined;
    this.d.throttle.inject({ count: options.count, ...(options.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.retryAfterSeconds } : {}), ...(userId ? { userId } : {}), ...(options.status ? { status: options.status } : {}) });
  }

  /** Graph calls of the user's mailbox that were served (throttled ones excluded), since the sandbox started. */
  requestCount(user: string): { requests: number } {
    return { requests: this.d.throttle.requestCount(this.d.directory.requireUser(user).id) };
  }

  /** Delay every Graph call by `ms` (real Graph is not instant; overlapping calls exercise the concurrency limit). */
  setLatency(ms: number): void {
    this.d.setLatency(ms);
  }

  listSubscriptions(): ReturnType<Subscriptions['list']> {
    return this.d.subscriptions.list();
  }

  /** Remove a subscription as the service would, announcing `subscriptionRemoved` to its lifecycle URL. */
  removeSubscription(id: string): Promise<void> {
    return this.d.subscriptions.removeByService(id);
  }

  /** Let a subscription lapse now: it stops delivering; no lifecycle notification (as when a client forgets to renew). */
  expireSubscription(id: string): void {
    this.d.subscriptions.expireNow(id);
  }

  /** Send a lifecycle notification (`reauthorizationRequired`, `missed`, `subscriptionRemoved`). */
  sendLifecycle(id: string, event: LifecycleEvent): Promise<void> {
    return this.d.subscriptions.lifecycle(id, event);
  }

  /** Silently drop the next `count` change notifications (they are lost, as notifications can be). */
  dropNotifications(count: number): void {
    this.d.subscriptions.notifier.drop(count);
  }

  /** What the sandbox POSTed to notification URLs (newest last, bounded). */
  notificationLog(): ReturnType<Subscriptions['notifier']['log']> {
    return this.d.subscriptions.notifier.log();
  }
}
