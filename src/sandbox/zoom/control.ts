import { createHmac } from 'node:crypto';
import type { SandboxClock } from '../microsoft/clock.js';
import type { Accounts, NewApp, NewUser } from './accounts.js';
import type { ZoomOAuth } from './oauth.js';
import type { FinishedMeetingInput, Recordings } from './recordings.js';
import type { WebhookLogEntry, WebhookSender } from './webhooks.js';

export interface ZoomControlDeps {
  clock: SandboxClock;
  accounts: Accounts;
  oauth: ZoomOAuth;
  recordings: Recordings;
  webhooks: WebhookSender;
  baseUrl: () => string;
}

export interface ZoomApproveResult {
  location?: string;
  error?: { status: number; message: string };
}

/**
 * What a test or `tributary demo` does to the sandbox's "real world": register apps and users,
 * approve in place of a browser, end meetings with a transcript, deauthorize, lose or repeat
 * webhooks, move the clock. Every method is also `POST /_control/{name}` (control-routes.ts).
 */
export class ZoomSandboxControl {
  constructor(private readonly d: ZoomControlDeps) {}

  now(): number {
    return this.d.clock.now();
  }

  /** Move the sandbox clock forward; webhook retries that became due are sent at once. */
  advanceClock(ms: number): { now: number } {
    this.d.clock.advance(ms);
    this.d.webhooks.tick();
    return { now: this.d.clock.now() };
  }

  createApp(input: NewApp): { clientId: string; clientSecret: string; secretToken: string; scopes: string[] } {
    const app = this.d.accounts.createApp(input);
    return { clientId: app.clientId, clientSecret: app.clientSecret, secretToken: app.secretToken, scopes: app.scopes };
  }

  /** Set the app's event subscription URL (Feature page), optionally its events. */
  setEventSubscription(clientId: string, eventUrl: string | null, events?: string[]): void {
    const app = this.d.accounts.requireApp(clientId);
    app.eventUrl = eventUrl;
    if (events) app.events = new Set(events);
  }

  /** Press "Validate" on the Feature page: the endpoint must answer the challenge. */
  validateEndpoint(clientId: string): Promise<{ ok: boolean; status: number | 'error'; problem?: string }> {
    return this.d.webhooks.validate(this.d.accounts.requireApp(clientId));
  }

  createUser(input: NewUser): { id: string; accountId: string; email: string } {
    const u = this.d.accounts.createUser(input);
    return { id: u.id, accountId: u.accountId, email: u.email };
  }

  hasUser(email: string): boolean {
    return this.d.accounts.findUser(email) !== undefined;
  }

  /** Stand in for a browser: open `authorizeUrl`, then Allow (or Decline) as `email`. */
  approve(authorizeUrl: string, options: { email: string; action?: 'accept' | 'cancel' }): ZoomApproveResult {
    const url = new URL(authorizeUrl);
    if (url.pathname !== '/oauth/authorize') throw new Error(`not an authorize URL: ${authorizeUrl}`);
    let outcome = this.d.oauth.start(Object.fromEntries(url.searchParams));
    if (outcome.kind === 'consent') outcome = this.d.oauth.decide(outcome.pending.id, options.email, (options.action ?? 'accept') === 'accept');
    if (outcome.kind === 'redirect') return { location: outcome.location };
    if (outcome.kind === 'error-page') return { error: { status: outcome.status, message: outcome.message } };
    return { error: { status: 400, message: outcome.error ?? 'the consent page was shown again' } };
  }

  /**
   * A meeting ends and its cloud transcript completes: the recording appears in the list and
   * `recording.transcript_completed` goes to every subscribed app the host installed.
   */
  finishMeeting(input: FinishedMeetingInput): { uuid: string; id: number; transcriptFileId: string; downloadToken: string; deliveryIds: string[] } {
    const user = this.d.accounts.requireUser(input.user);
    const { meeting, downloadToken } = this.d.recordings.finish(user, input);
    const object = this.d.recordings.meetingJson(meeting, this.d.baseUrl());
    // Webhook payloads carry the host's email and only the completed transcript's file.
    const files = (object.recording_files as { file_type: string }[]).filter((f) => f.file_type === 'TRANSCRIPT');
    const body = {
      event: 'recording.transcript_completed',
      event_ts: this.d.clock.now(),
      payload: { account_id: user.accountId, object: { ...object, host_email: user.email, recording_files: files, recording_count: files.length } },
      download_token: downloadToken,
    };
    const deliveryIds = this.d.webhooks.send(this.d.accounts.appsOf(user.id), 'recording.transcript_completed', body);
    const transcript = meeting.files.find((f) => f.fileType === 'TRANSCRIPT')!;
    return { uuid: meeting.uuid, id: meeting.id, transcriptFileId: transcript.id, downloadToken, deliveryIds };
  }

  /** The user removes the app: its tokens stop working and `app_deauthorized` is sent (always, subscribed or not). */
  deauthorize(user: string, clientId: string): { deliveryIds: string[] } {
    const u = this.d.accounts.requireUser(user);
    const app = this.d.accounts.requireApp(clientId);
    if (!this.d.accounts.uninstall(clientId, u.id)) throw new Error(`unknown installation of ${clientId} by ${user}`);
    this.d.oauth.forget(clientId, u.id);
    const time = new Date(this.d.clock.now()).toISOString();
    const payload = {
      event: 'app_deauthorized',
      event_ts: this.d.clock.now(),
      payload: {
        account_id: u.accountId,
        user_id: u.id,
        // The legacy per-event signature Zoom still includes; the request headers carry the real one.
        signature: createHmac('sha256', app.secretToken).update(`${u.id}:${time}`).digest('hex'),
        deauthorization_time: time,
        client_id: clientId,
      },
    };
    const subscribed = { ...app, events: new Set([...app.events, 'app_deauthorized']) };
    return { deliveryIds: this.d.webhooks.send([subscribed], 'app_deauthorized', payload) };
  }

  /** 24 hours in one step for download tokens (of one meeting, or all). */
  expireDownloadTokens(meetingUuid?: string): { expired: number } {
    return { expired: this.d.recordings.expireDownloadTokens(meetingUuid) };
  }

  /** Make downloads redirect to `url` (e.g. a non-Zoom host, to test the client's redirect rules); null restores. */
  redirectDownloads(url: string | null): void {
    this.d.recordings.redirectOverride = url;
  }

  dropWebhooks(count: number): void {
    this.d.webhooks.drop(count);
  }

  duplicateWebhooks(count: number): void {
    this.d.webhooks.duplicate(count);
  }

  webhookLog(): WebhookLogEntry[] {
    return this.d.webhooks.log();
  }

  /** Which credential each served download used. */
  downloadLog(): { fileId: string; credential: 'download_token' | 'oauth' }[] {
    return [...this.d.recordings.downloads];
  }

  tokenRequests(): { grantType: string; basic: boolean }[] {
    return [...this.d.oauth.tokenRequests];
  }

  /** Wait until no webhook POST is in flight. */
  webhooksIdle(): Promise<void> {
    return this.d.webhooks.idle();
  }
}
