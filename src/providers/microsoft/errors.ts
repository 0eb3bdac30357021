import { ProviderError, type TokenErrorClass } from '../provider.js';

/**
 * Token-endpoint error classification as data (AADSTS codes). The `error` field decides
 * first where it is unambiguous about whose fault it is; the AADSTS code in `error_codes`
 * refines `invalid_grant` and friends; anything unknown is transient (an unknown error must
 * never expire a grant).
 */
export const TOKEN_ERRORS = {
  /** `error` values that settle the class on their own. */
  byError: {
    invalid_client: 'app_misconfigured',
    unauthorized_client: 'app_misconfigured',
    temporarily_unavailable: 'transient',
    server_error: 'transient',
  } as Record<string, TokenErrorClass>,
  /** AADSTS codes. */
  byCode: {
    // The account must consent again.
    70000: 'reauth',
    70008: 'reauth',
    700082: 'reauth',
    50173: 'reauth',
    50076: 'reauth',
    50079: 'reauth',
    53003: 'reauth',
    50057: 'reauth',
    65001: 'reauth',
    90094: 'reauth',
    // The integration is broken, not the grant.
    7000215: 'app_misconfigured',
    7000218: 'app_misconfigured',
    7000222: 'app_misconfigured',
    700016: 'app_misconfigured',
    50011: 'app_misconfigured',
    // Try again later.
    50033: 'transient',
    90055: 'transient',
    90024: 'transient',
    50196: 'transient',
  } as Record<number, TokenErrorClass>,
  /** `error` values meaning "this refresh token no longer works" when no code says otherwise. */
  reauthErrors: ['invalid_grant', 'interaction_required', 'consent_required', 'login_required'],
  /**
   * Reauth codes that leave no doubt (revoked, expired by inactivity, consent removed, account
   * disabled, token expired). Others — notably AADSTS70000, reported intermittently in the wild —
   * must repeat over a while before a grant is expired.
   */
  unambiguous: [50173, 700082, 65001, 50057, 70008],
};

export interface TokenErrorBody {
  error?: string;
  error_description?: string;
  error_codes?: number[];
}

/** A failed call to the token endpoint, with what is needed to classify it. Never holds a token. */
export class TokenEndpointError extends Error {
  constructor(
    readonly status: number,
    readonly body: TokenErrorBody,
    readonly retryAfterMs?: number,
  ) {
    const code = body.error_codes?.[0];
    super(`token endpoint answered ${status}: ${body.error ?? 'unknown error'}${code ? ` (AADSTS${code})` : ''}`);
    this.name = 'TokenEndpointError';
  }

  get code(): number | undefined {
    return this.body.error_codes?.[0];
  }
}

export function classifyTokenBody(body: TokenErrorBody): TokenErrorClass {
  const byError = body.error ? TOKEN_ERRORS.byError[body.error] : undefined;
  if (byError) return byError;
  for (const code of body.error_codes ?? []) {
    const c = TOKEN_ERRORS.byCode[code];
    if (c) return c;
  }
  if (body.error && TOKEN_ERRORS.reauthErrors.includes(body.error)) return 'reauth';
  return 'transient';
}

export function isUnambiguousReauth(err: TokenEndpointError): boolean {
  return (err.body.error_codes ?? []).some((c) => TOKEN_ERRORS.unambiguous.includes(c));
}

/** Classifies anything thrown while getting or using a token. Network failures are transient. */
export function classifyTokenError(error: unknown): TokenErrorClass {
  if (error instanceof TokenEndpointError) return classifyTokenBody(error.body);
  return 'transient';
}

/** A classified token failure; `unambiguous` reauth failures need not repeat for long before expiry. */
export class TokenFailure extends ProviderError {
  constructor(
    kind: TokenErrorClass,
    message: string,
    unambiguous: boolean,
    retryAfterMs?: number,
  ) {
    super(kind, message, retryAfterMs, unambiguous);
    this.name = 'TokenFailure';
  }
}

/** Maps anything thrown by the token endpoint to the ProviderError the sync engine classifies. */
export function tokenFailure(err: unknown): TokenFailure {
  const kind = classifyTokenError(err);
  const message = err instanceof Error ? err.message : String(err);
  const endpoint = err instanceof TokenEndpointError ? err : null;
  return new TokenFailure(kind, message, kind === 'reauth' && endpoint !== null && isUnambiguousReauth(endpoint), endpoint?.retryAfterMs);
}
