import type { TObject } from '@sinclair/typebox';
import type { NewEvent } from '../domain/event.js';
import type { OutboundGuard } from '../domain/net.js';
import type { PluginLogger } from '../domain/plugin.js';
import type { ProviderId } from '../domain/provider.js';

/**
 * The source plug-in interface. A provider is one folder under src/providers/<id>/ whose
 * `definition.ts` describes everything about it as data and small functions: its settings
 * schemas, its auth (OAuth or password), its inbound routes, its dashboard setup guide, its
 * sandbox and docs, and how to open a sync session. The sync engine (src/sync) owns scheduling,
 * leases, retries and the outbox transaction; hosted auth (src/oauth), the HTTP layer and the
 * dashboard read the definition through providers/registry.ts and hold no provider names.
 * Plug-ins import only `domain`, their own folder and the files listed in scripts/check-imports.mjs.
 */
export type TokenErrorClass = 'reauth' | 'app_misconfigured' | 'transient';

/** A provider position for one grant (Graph deltaLinks per folder, IMAP UIDVALIDITY/UIDNEXT/MODSEQ, a Gmail historyId…). JSON-serialisable. */
export type Cursor = Record<string, unknown>;

export type ProviderLogger = PluginLogger;

/** What a plug-in may use; given by the sync engine and the auth flows. */
export interface ProviderContext {
  logger: ProviderLogger;
  now: () => Date;
  fetch: typeof fetch;
  /** Provider base URLs from configuration (the sandbox stands in through these). */
  urls: Record<string, string>;
  /** Persist rotated credentials immediately (refresh tokens rotate on every use). */
  saveCredentials(credentials: Record<string, unknown>): Promise<void>;
  /**
   * The outbound guard (SSRF): a plug-in that connects to a host its user named (IMAP) resolves
   * it here and connects to the checked address. Absent only in tools and benchmarks.
   */
  outbound?: OutboundGuard;
}

export interface GrantHandle {
  id: string;
  applicationId: string;
  email: string;
  /** Opened (unsealed) credentials. */
  credentials: Record<string, unknown>;
  /** Integration settings merged with grant settings (tracked_folders, backfill_days…). */
  settings: Record<string, unknown>;
  integration: { id: string; clientId: string | null; clientSecret: string | null; settings: Record<string, unknown>; scope: string[] };
  createdAt: Date;
}

export type ChangeBatch =
  /** Events to append and the cursor to save with them, in one transaction. Any event type: mail, or e.g. a transcript. */
  | { events: NewEvent[]; cursor: Cursor; progress?: Record<string, unknown> }
  /** The provider lost our position (410, UIDVALIDITY change, history 404…): re-baseline without announcing old mail. */
  | { reset: string };

export interface ProviderSession {
  /**
   * Where "new mail" starts for a fresh grant (or after a reset). For a fresh grant that is the
   * grant's creation (`GrantHandle.createdAt`), not the moment of the first pass: mail that
   * arrived in between must come out of the first `changes()`.
   */
  baseline(): Promise<Cursor>;
  /** Changes after `cursor`, as batches; each batch is committed before the next is requested. */
  /** `reason` says what woke the pass (a push hint, a lifecycle event, `fallback`), so a plug-in can act on it. */
  changes(cursor: Cursor, signal: AbortSignal, reason?: string): AsyncIterable<ChangeBatch>;
  /**
   * True when asking for the next batch before the previous one is committed is safe: resuming
   * the iteration persists nothing and calls nothing outside the session (IMAP: it only reads
   * its connections). The engine then asks for batch i+1 as soon as it has batch i, so the next
   * batch is fetched and encoded while batch i commits; commits stay one at a time, in order,
   * and a failed commit drops what was read ahead (the next pass starts from the saved cursor).
   */
  readonly readAhead?: boolean;
  /** Optional push: subscription, watch or IDLE. Calls onHint when there may be new changes. Returns a stop function. */
  watch?(onHint: (reason: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** What the sync engine needs of a provider. */
export interface ProviderSource {
  id: ProviderId;
  classifyTokenError(error: unknown): TokenErrorClass;
  open(grant: GrantHandle, ctx: ProviderContext): Promise<ProviderSession>;
  /**
   * Optional: release what the provider keeps alive for a grant that has just been deleted
   * (Gmail `users.stop`, a Graph subscription), so it stops pushing for that mailbox. Called once,
   * after the deletion committed, with the grant's last credentials (refresh the access token if
   * it expired; `saveCredentials` goes nowhere, the grant is gone). Best effort: a throw is logged
   * without secrets and never undoes the deletion; whatever is left lapses on the provider's side.
   */
  onGrantDeleted?(grant: GrantHandle, ctx: ProviderContext): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Auth

/** What hosted auth (src/oauth) and the token refresher hand an OAuth plug-in. */
export interface OAuthCallContext {
  fetch: typeof fetch;
  now: () => Date;
  /** Provider base URLs from configuration. */
  urls: Record<string, string>;
}

export interface OAuthIntegration {
  clientId: string | null;
  clientSecret: string | null;
  settings: Record<string, unknown>;
  scope: string[];
}

/** The result of the code exchange: the credentials to seal in the grant, and the ID token if the provider issues one. */
export interface CodeExchange {
  credentials: Record<string, unknown>;
  idToken: string | null;
  scope: string[];
}

/** Who signed in. `providerUserId` is the provider's stable account id (never the email alone). */
export interface SignedInAccount {
  email: string;
  providerUserId: string;
  displayName: string | null;
}

/**
 * How the identity of the account that signed in is read:
 * - `id_token`: an OpenID Connect ID token, verified against the provider's JWKS (found through
 *   its discovery document), audience = client id, nonce, expiry; then the issuer rule and the
 *   claims checks below; the mailbox address may still come from `profile` (Graph /me).
 * - `profile`: no ID token (Zoom): one call with the fresh access token returns the account.
 */
export type IdentitySpec =
  | {
      kind: 'id_token';
      /** The `iss` an ID token must carry, given the discovery issuer (possibly a template) and the token's claims; null = none acceptable. */
      expectedIssuer(discoveryIssuer: string, claims: Record<string, unknown>): string | null;
      /** The stable account id from the claims; null when the claims do not identify the user. */
      providerUserId(claims: Record<string, unknown>): string | null;
      /** A further check of the claims (e.g. a verified email); returns what is wrong, or null. */
      checkClaims?(claims: Record<string, unknown>): string | null;
      /** The email from the claims; when absent, `profile` is called. */
      email?(claims: Record<string, unknown>): string | null;
      /** Which claims name the user, for the error message when providerUserId is null. */
      idClaims: string;
      profile?(credentials: Record<string, unknown>, c: OAuthCallContext): Promise<{ email: string; displayName: string | null }>;
    }
  | {
      kind: 'profile';
      profile(credentials: Record<string, unknown>, c: OAuthCallContext): Promise<SignedInAccount>;
    };

export interface OAuthSpec {
  kind: 'oauth';
  /** Scopes a new integration gets when it names none. */
  defaultScopes: readonly string[];
  /** Scopes hosted auth always asks for (an ID token, a refresh token), whatever the integration's list. */
  requiredScopes: readonly string[];
  /** The authorize endpoint, and the OpenID discovery document (issuer, JWKS) for this integration (null without OIDC). */
  endpoints(urls: Record<string, string>, settings: Record<string, unknown>): { authorize: string; discovery: string | null };
  /** Extra authorize parameters (response_mode, access_type, prompt…). */
  authorizeParams: Readonly<Record<string, string>>;
  /** PKCE S256 on the provider leg (all current providers support it). */
  pkce: boolean;
  /**
   * Callback parameters that mean "the user declined" (e.g. `{ error: 'access_denied', error_subcode: 'cancel' }`);
   * every listed parameter must match. Other errors are relayed as the provider described them.
   */
  cancelled: readonly Readonly<Record<string, string>>[];
  identity: IdentitySpec;
  /** Credential fields a re-authentication keeps from the previous grant (watch or subscription state). */
  keepOnReauth: readonly string[];
  exchangeCode(a: { code: string; redirectUri: string; codeVerifier: string; integration: OAuthIntegration }, c: OAuthCallContext): Promise<CodeExchange>;
  /** Refreshes and returns the new credentials (save them at once); throws a classified ProviderError. */
  refresh(grantId: string, credentials: Record<string, unknown>, integration: OAuthIntegration, c: OAuthCallContext): Promise<Record<string, unknown>>;
  /** The provider's OAuth error for a failed exchange, to relay to the app; null when not a token-endpoint error. */
  describeError(err: unknown): { error: string; description: string } | null;
}

/** Username/password login (IMAP): checked against the server before a grant exists. */
export interface PasswordSpec {
  kind: 'password';
  /** The fields POST /v3/connect/custom takes in `settings` (TypeBox): validation, OpenAPI, the dashboard's credentials form. */
  fields: TObject;
  /** The host the login will connect to, for the private-address guard; null when it cannot be known. */
  hostOf(given: Record<string, unknown>, defaults: Record<string, unknown>): string | null;
  /** Log in with the given fields over the integration defaults; throws ProviderError. */
  verify(
    given: Record<string, unknown>,
    defaults: Record<string, unknown>,
    ctx: Pick<ProviderContext, 'logger' | 'outbound'>,
  ): Promise<{ email: string; providerUserId: string; credentials: Record<string, unknown>; settings: Record<string, unknown> }>;
}

export type AuthSpec = OAuthSpec | PasswordSpec;

// ---------------------------------------------------------------------------------------------
// Settings

export interface SettingsSpec {
  /**
   * The provider's own integration settings (TypeBox, `additionalProperties: false`). OAuth
   * providers also get `client_id`, `client_secret` (write-only, sealed) and `secret_expires_at`
   * from the registry. Drives validation, the API reference, the dashboard form and the docs.
   */
  integration: TObject;
  /** Settings a grant may carry over the integration's (e.g. tracked folders); stored per grant. */
  grant?: TObject;
  /** Values a new integration gets when the request omits them. */
  defaults?: Readonly<Record<string, unknown>>;
  /** Rules a schema cannot say (a tenant GUID or domain…): the problem, or null. */
  check?(settings: Record<string, unknown>): string | null;
}

// ---------------------------------------------------------------------------------------------
// Inbound routes (provider push: Graph notifications, Pub/Sub push, Zoom webhooks)

/** A grant as an inbound route sees it. */
export interface InboundGrant {
  id: string;
  applicationId: string;
  email: string;
  status: string;
  /** Opened credentials (e.g. a subscription's clientState to compare). */
  credentials: Record<string, unknown>;
  integrationSettings: Record<string, unknown>;
  integrationClientId: string | null;
}

/** An integration of this provider as an inbound route sees it (settings opened). */
export interface InboundIntegration {
  id: string;
  applicationId: string;
  clientId: string | null;
  settings: Record<string, unknown>;
}

export interface InboundRequest {
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  /** Parsed JSON (or the text for text bodies); undefined when empty. */
  body: unknown;
  /** The raw body as received, for signature checks. */
  rawBody: string;
}

export interface InboundReply {
  status: number;
  /** JSON (object) or text (string) body. */
  body?: unknown;
  contentType?: string;
}

export interface InboundContext {
  /** The public URL of this route (Pub/Sub's default push audience, for instance). */
  routeUrl: string;
  logger: ProviderLogger;
  now: () => Date;
  fetch: typeof fetch;
  urls: Record<string, string>;
  /** A valid-or-not grant of this provider by id (null when absent or of another provider). */
  grant(id: string): Promise<InboundGrant | null>;
  /** Grants of this provider with this email address (one per application). */
  grantsByEmail(email: string): Promise<InboundGrant[]>;
  /** Grants of this provider for this provider account id (e.g. a Zoom user id; one per application). */
  grantsByProviderUserId(providerUserId: string): Promise<InboundGrant[]>;
  /** This provider's integrations in every application: for pushes that name no account (Zoom's URL validation). */
  integrations(): Promise<InboundIntegration[]>;
  /** Wake the grant's sync pass (a durable hint; collapses with other pending hints of the grant). */
  wake(grantId: string, reason: string): Promise<void>;
  /**
   * Append events for a grant straight to the log, idempotent by event id (for events the push
   * itself carries in full). Most providers instead wake the grant and emit from `changes()`.
   */
  emit(grantId: string, events: NewEvent[]): Promise<string[]>;
  /** Counts an outcome in `tributary_inbound_requests_total{provider,route,result}`. */
  count(result: string, n?: number): void;
}

export interface InboundRoute {
  method: 'POST' | 'GET';
  /** Mounted at `/v3/providers/{provider id}/{path}`, public (authenticated by the provider's own scheme). */
  path: string;
  summary: string;
  handle(req: InboundRequest, ctx: InboundContext): Promise<InboundReply>;
}

// ---------------------------------------------------------------------------------------------
// Dashboard setup guide (rendered by web/ as data)

/**
 * Values the dashboard substitutes in guide text and copy fields: `{callback_url}` (the exact
 * redirect URI), `{public_url}`, `{inbound:<path>}` (the public URL of one of this provider's
 * inbound routes). Text may use `**bold**` and `` `code` ``.
 */
export interface GuideStep {
  title: string;
  text: string;
  /** A value to copy, with a label (`testId` names it for tests). */
  copy?: { label: string; value: string; testId?: string };
  /** Permissions or scopes shown as tags, each with why it is needed. */
  tags?: { name: string; why: string; testId?: string }[];
  tagsTestId?: string;
  /** A block to paste (a manifest, a command). */
  code?: { label: string; value: string; testId?: string; intro?: string };
}

export interface SetupGuide {
  title: string;
  description: string;
  steps: GuideStep[];
}

/** Dashboard presentation. */
export interface ProviderBrand {
  /** Monogram shown as the logo. */
  letter: string;
  /** Two CSS colours for the logo gradient. */
  colors: readonly [string, string];
}

// ---------------------------------------------------------------------------------------------

export interface ProviderDefinition extends ProviderSource {
  /** Display name ("Microsoft 365"). */
  name: string;
  /** One sentence for the dashboard and `GET /v3/providers`. */
  description: string;
  brand: ProviderBrand;
  auth: AuthSpec;
  settings: SettingsSpec;
  /** Public routes the provider calls (push notifications, webhooks), mounted by the HTTP layer. */
  inbound?: readonly InboundRoute[];
  guide?: SetupGuide;
  /** The in-repo emulator, if any (src/sandbox/<id>), and the provider's docs page. */
  sandbox?: { folder: string; docs: string };
  docs: string;
}

export type OAuthProviderDefinition = ProviderDefinition & { auth: OAuthSpec };
export type PasswordProviderDefinition = ProviderDefinition & { auth: PasswordSpec };

/** Thrown by plug-ins for failures the engine should classify (auth vs transient vs throttled). */
export class ProviderError extends Error {
  constructor(
    readonly kind: TokenErrorClass | 'throttled' | 'not_found',
    message: string,
    readonly retryAfterMs?: number,
    /** A reauth failure that leaves no doubt (user revoked, consent removed): expire without waiting for repeats over time. */
    readonly unambiguous = false,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** The token fields OAuth plug-ins keep in a grant's sealed credentials (beside their own state). */
export interface OAuthTokenFields {
  access_token: string;
  refresh_token: string | null;
  /** Unix ms when the access token expires. */
  expires_at: number;
  /** Unix ms of the last refresh (or of the code exchange). */
  refreshed_at: number;
  scope: string[];
}

/** Reads the token fields of stored credentials, keeping the rest; throws a reauth ProviderError when there is no access token. */
export function tokenFieldsOf(raw: Record<string, unknown>, provider: string): OAuthTokenFields & Record<string, unknown> {
  if (typeof raw.access_token !== 'string') throw new ProviderError('reauth', `the grant holds no ${provider} tokens`);
  return {
    ...raw,
    access_token: raw.access_token,
    refresh_token: typeof raw.refresh_token === 'string' ? raw.refresh_token : null,
    expires_at: Number(raw.expires_at ?? 0),
    refreshed_at: Number(raw.refreshed_at ?? 0),
    scope: Array.isArray(raw.scope) ? raw.scope.map(String) : [],
  };
}
