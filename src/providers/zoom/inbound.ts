import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { InboundContext, InboundGrant, InboundReply, InboundRequest, InboundRoute } from '../provider.js';
import { claim, settle } from './claims.js';
import { ZoomClient, zoomEndpoints } from './client.js';
import { WEBHOOK_SECRET_FIELD } from './settings.js';
import { toTranscriptEvent, transcriptEventId, transcriptFiles, type TranscriptRef } from './to-events.js';
import { REFUSAL_MESSAGES, ReplayGuard, urlValidationAnswer, verifySignature } from './webhook.js';

/**
 * `POST /v3/providers/zoom/notifications`: Zoom's event notifications for every application's
 * Zoom app. One URL serves all of them, so a request is verified against the secret tokens of
 * the integrations that could have sent it (the host's grants, else all Zoom integrations);
 * the secret that verifies says which application it belongs to.
 *
 * - `endpoint.url_validation` → `{ plainToken, encryptedToken }` at once.
 * - `recording.transcript_completed` → a durable wake-up of each matching grant's sync (whose
 *   poll finds the transcript even if everything else fails), then 200; after answering, the
 *   transcript is fetched with the payload's `download_token` and appended (idempotent by id).
 * - `app_deauthorized` → wakes the grant, whose pass finds its tokens revoked and expires it.
 * Forged, stale or replayed requests → 401 and a counter; nothing else happens.
 */

const Notification = Type.Object({
  event: Type.String({ minLength: 1, maxLength: 200 }),
  event_ts: Type.Optional(Type.Number()),
  payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  download_token: Type.Optional(Type.String({ maxLength: 8192 })),
});
type Notification = Static<typeof Notification>;

const RecordingPayload = Type.Object({
  object: Type.Object({
    uuid: Type.String({ minLength: 1, maxLength: 200 }),
    id: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 50 })])),
    host_id: Type.Optional(Type.String({ maxLength: 100 })),
    host_email: Type.String({ minLength: 3, maxLength: 320 }),
    topic: Type.Optional(Type.String({ maxLength: 2000 })),
    start_time: Type.Optional(Type.String({ maxLength: 40 })),
    timezone: Type.Optional(Type.String({ maxLength: 100 })),
    duration: Type.Optional(Type.Number()),
    recording_files: Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 100 }),
  }),
});

const DeauthPayload = Type.Object({ user_id: Type.String({ minLength: 1, maxLength: 100 }), client_id: Type.Optional(Type.String({ maxLength: 200 })) });
const ValidationPayload = Type.Object({ plainToken: Type.String({ minLength: 1, maxLength: 256 }) });

const bad = (message: string): InboundReply => ({ status: 400, body: { error: { type: 'invalid_request_error', message } } });
const secretOf = (settings: Record<string, unknown>): string => (typeof settings[WEBHOOK_SECRET_FIELD] === 'string' ? (settings[WEBHOOK_SECRET_FIELD] as string) : '');

/** Fetches with the download_token and appends; on any failure wakes the grant again (its pass downloads with OAuth). */
async function fetchWithDownloadToken(ctx: InboundContext, grant: InboundGrant, ref: TranscriptRef, downloadToken: string, eventId: string): Promise<void> {
  try {
    const noOAuth = () => Promise.reject(new Error('the webhook path downloads with the download_token only'));
    const client = new ZoomClient({ endpoints: zoomEndpoints(ctx.urls, typeof grant.credentials.api_url === 'string' ? grant.credentials.api_url : null), fetch: ctx.fetch, accessToken: noOAuth, refresh: noOAuth });
    const vtt = await client.download(ref.file.download_url, downloadToken);
    await ctx.emit(grant.id, [toTranscriptEvent({ applicationId: grant.applicationId, grantId: grant.id, ref, vtt, now: ctx.now() })]);
    settle(eventId, true);
    ctx.count('transcript_appended');
  } catch (err) {
    settle(eventId, false);
    ctx.count('download_token_failed');
    ctx.logger.warn({ grant_id: grant.id, file_id: ref.file.id, err: err instanceof Error ? err.message : String(err) }, 'zoom: download with the webhook download_token failed; the grant’s poll fetches it with OAuth');
    await ctx.wake(grant.id, 'zoom:download-retry').catch(() => undefined);
  }
}

async function onTranscript(n: Notification, grants: InboundGrant[], ctx: InboundContext): Promise<InboundReply> {
  if (!Value.Check(RecordingPayload, n.payload)) return bad('recording.transcript_completed needs payload.object with uuid, host_email and recording_files');
  const meeting = (n.payload as Static<typeof RecordingPayload>).object;
  const refs = transcriptFiles(meeting as Parameters<typeof transcriptFiles>[0]);
  for (const grant of grants) {
    // Durable first: once Zoom hears 200 it may never send this again.
    await ctx.wake(grant.id, `zoom:recording.transcript_completed:${meeting.uuid.slice(0, 120)}`);
    if (!n.download_token) continue;
    for (const ref of refs) {
      const id = transcriptEventId(grant.applicationId, grant.id, ref);
      if (claim(id)) void fetchWithDownloadToken(ctx, grant, ref, n.download_token, id);
    }
  }
  ctx.count(grants.length ? 'transcript' : 'no_grant');
  return { status: 200, body: {} };
}

export function notificationsRoute(replay = new ReplayGuard()): InboundRoute {
  return {
    method: 'POST',
    path: 'notifications',
    summary: 'Zoom event notifications (called by Zoom): URL validation, recording.transcript_completed, app_deauthorized',
    async handle(req: InboundRequest, ctx: InboundContext): Promise<InboundReply> {
      if (!Value.Check(Notification, req.body)) return bad('body must be a Zoom event notification { event, payload, event_ts }');
      const n = req.body;
      const payload = n.payload ?? {};
      // Who could have signed it: the host's grants when the event names one, else every Zoom integration.
      const hostEmail = (payload.object as { host_email?: unknown } | undefined)?.host_email;
      const grants = n.event === 'recording.transcript_completed' && typeof hostEmail === 'string' ? (await ctx.grantsByEmail(hostEmail)).filter((g) => g.status === 'valid') : [];
      const secrets = grants.length ? grants.map((g) => secretOf(g.integrationSettings)) : (await ctx.integrations()).map((i) => secretOf(i.settings));
      const verdict = verifySignature(req.headers, req.rawBody, secrets, ctx.now().getTime(), replay);
      if (!verdict.ok) {
        ctx.count(verdict.refusal);
        return { status: 401, body: { error: { type: 'unauthorized', message: REFUSAL_MESSAGES[verdict.refusal] } } };
      }
      const secret = secrets[verdict.index]!;
      switch (n.event) {
        case 'endpoint.url_validation': {
          if (!Value.Check(ValidationPayload, payload)) return bad('endpoint.url_validation needs payload.plainToken');
          ctx.count('url_validation');
          return { status: 200, body: urlValidationAnswer(secret, payload.plainToken) };
        }
        case 'recording.transcript_completed':
          return onTranscript(n, grants.filter((g) => secretOf(g.integrationSettings) === secret), ctx);
        case 'app_deauthorized': {
          if (!Value.Check(DeauthPayload, payload)) return bad('app_deauthorized needs payload.user_id');
          const matching = (await ctx.grantsByProviderUserId(payload.user_id)).filter((g) => secretOf(g.integrationSettings) === secret && (!payload.client_id || g.integrationClientId === payload.client_id));
          for (const g of matching) if (g.status === 'valid') await ctx.wake(g.id, 'zoom:deauthorized');
          ctx.count(matching.length ? 'deauthorized' : 'no_grant');
          return { status: 200, body: {} };
        }
        default:
          ctx.count('ignored');
          return { status: 200, body: {} };
      }
    },
  };
}
