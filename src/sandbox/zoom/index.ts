/**
 * The Zoom sandbox: user-managed OAuth (authorize page, token endpoint with Basic client
 * authentication, PKCE, rotating refresh tokens, revocation), REST API v2 (`users/me`, cloud
 * recordings list), recording downloads with `download_token` or OAuth through a file host,
 * signed event notifications with Zoom's retry schedule, and a control API. See
 * docs/providers/zoom.md ("The Zoom sandbox").
 */
export { startZoomSandbox, type ZoomSandbox, type ZoomSandboxOptions } from './sandbox.js';
export { ZoomSandboxControl, type ZoomApproveResult } from './control.js';
export { zoomSignature, ZOOM_RETRY_SCHEDULE_MS, type WebhookLogEntry } from './webhooks.js';
export { DOWNLOAD_TOKEN_LIFETIME_MS } from './recordings.js';
