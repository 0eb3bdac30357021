/**
 * The Microsoft sandbox: identity platform v2 (authorize, token, discovery, JWKS) and Graph
 * v1.0 mail (me, folders, messages, delta, subscriptions with real notifications, throttling)
 * on loopback, with a control API for tests and `tributary demo`. See docs/providers/microsoft-sandbox.md.
 */
export { startMicrosoftSandbox, type MicrosoftSandbox, type MicrosoftSandboxOptions } from './sandbox.js';
export { SandboxControl, type ApproveResult } from './control.js';
export { CONSUMERS_TENANT_ID, type SignInAudience } from './directory.js';
export type { MailInput } from './graph/mailbox.js';
export type { LifecycleEvent } from './notifications/subscriptions.js';
export type { NotificationLogEntry } from './notifications/notifier.js';
