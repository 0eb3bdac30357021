import type { NewEvent } from '../domain/event.js';
import type { PluginLogger } from '../domain/plugin.js';
import type { ProviderId } from '../domain/provider.js';

/**
 * The source plug-in interface (DESIGN.md "Core interfaces"). A provider knows how to talk to
 * one kind of mailbox; the sync engine (src/sync) owns scheduling, leases, retries and the
 * outbox transaction. Plug-ins import only `domain` and their own folder; everything else
 * reaches them through the context argument.
 */
export type TokenErrorClass = 'reauth' | 'app_misconfigured' | 'transient';

/** A provider position for one grant (Graph deltaLinks per folder, IMAP UIDVALIDITY/UIDNEXT/MODSEQ…). JSON-serialisable. */
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
  /** Events to append and the cursor to save with them, in one transaction. */
  | { events: NewEvent[]; cursor: Cursor; progress?: Record<string, unknown> }
  /** The provider lost our position (410, UIDVALIDITY change…): re-baseline without announcing old mail. */
  | { reset: string };

export interface ProviderSession {
  /** Where "new mail" starts for a fresh grant (or after a reset). */
  baseline(): Promise<Cursor>;
  /** Changes after `cursor`, as batches; each batch is committed before the next is requested. */
  /** `reason` says what woke the pass (a push hint, a lifecycle event, `fallback`), so a plug-in can act on it. */
  changes(cursor: Cursor, signal: AbortSignal, reason?: string): AsyncIterable<ChangeBatch>;
  /** Optional push: subscription, watch or IDLE. Calls onHint when there may be new changes. Returns a stop function. */
  watch?(onHint: (reason: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface ProviderDefinition {
  id: ProviderId;
  classifyTokenError(error: unknown): TokenErrorClass;
  open(grant: GrantHandle, ctx: ProviderContext): Promise<ProviderSession>;
  /** Password providers (IMAP): log in with user settings over integration defaults before a grant exists; throws ProviderError. */
  verifyPassword?(settings: Record<string, unknown>, defaults: Record<string, unknown>, ctx: Pick<ProviderContext, 'logger'>): Promise<{ email: string; providerUserId: string; credentials: Record<string, unknown>; settings: Record<string, unknown> }>;
}

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
