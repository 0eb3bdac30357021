/**
 * The Google sandbox: OAuth 2.0 / OpenID Connect (discovery, JWKS, consent page, single-use
 * codes, refresh tokens, invalid_grant after revocation), Gmail API v1 (getProfile,
 * history.list, messages.get, labels, watch/stop, the batch endpoint, per-user quota) and a
 * Pub/Sub push sender with OIDC tokens, on loopback, with a control API. See docs/providers/google.md.
 */
export { startGoogleSandbox, type GoogleSandbox, type GoogleSandboxControl, type GoogleSandboxOptions } from './sandbox.js';
export type { MailInput } from './gmail.js';
