import { aadTime } from '../clock.js';
import { guid } from '../ids.js';

/**
 * The identity platform's errors: an OAuth `error`, an AADSTS number and its text. The
 * numbers and the `error` each one travels with follow Microsoft's AADSTS reference; Tributary
 * classifies on exactly these (docs/providers/microsoft.md), so they must not drift.
 */
export const AADSTS = {
  missingParameter: { code: 900144, error: 'invalid_request', text: (p: string) => `The request body must contain the following parameter: '${p}'.` },
  malformed: { code: 9002313, error: 'invalid_request', text: () => 'Invalid request. Request is malformed or invalid.' },
  tenantNotFound: {
    code: 90002,
    error: 'invalid_tenant',
    text: (t: string) => `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  },
  appNotFound: {
    code: 700016,
    error: 'unauthorized_client',
    text: (appId: string, tenant: string) =>
      `Application with identifier '${appId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  },
  notMultiTenant: {
    code: 50194,
    error: 'invalid_request',
    text: (appId: string, name: string) =>
      `Application '${appId}'(${name}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications. Use a tenant-specific endpoint or configure the application to be multi-tenant.`,
  },
  redirectMismatch: {
    code: 50011,
    error: 'invalid_request',
    text: (uri: string, appId: string) =>
      `The redirect URI '${uri}' specified in the request does not match the redirect URIs configured for the application '${appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`,
  },
  invalidScope: {
    code: 70011,
    error: 'invalid_scope',
    text: (scope: string) => `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
  },
  unsupportedResponseType: { code: 700054, error: 'unsupported_response_type', text: () => "response_type 'id_token' is not enabled for the application." },
  unsupportedResponseMode: { code: 900143, error: 'invalid_request', text: (m: string) => `The provided response_mode '${m}' is not supported by the sandbox.` },
  invalidCodeChallengeMethod: { code: 501491, error: 'invalid_request', text: () => 'Invalid code_challenge_method or Code_Challenge parameter.' },
  userDeclined: { code: 65004, error: 'access_denied', text: () => 'User declined to consent to access the app.' },
  loginRequired: { code: 50058, error: 'login_required', text: () => 'A silent sign-in request was sent but no user is signed in.' },
  consentRequired: {
    code: 65001,
    error: 'invalid_grant',
    text: (appId: string, name: string) => `The user or administrator has not consented to use the application with ID '${appId}' named '${name}'. Send an interactive authorization request for this user and resource.`,
  },
  userNotFound: { code: 50034, error: 'invalid_request', text: (name: string, tenant: string) => `The user account ${name} does not exist in the ${tenant} directory. To sign into this application, the account must be added to the directory.` },
  userNotInTenant: {
    code: 50020,
    error: 'invalid_request',
    text: (name: string, tenant: string) => `User account '${name}' from identity provider does not exist in tenant '${tenant}' and cannot access the application in that tenant.`,
  },
  userDisabled: { code: 50057, error: 'invalid_grant', text: () => 'The user account is disabled.' },
  missingSecret: { code: 7000218, error: 'invalid_client', text: () => "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." },
  badSecret: {
    code: 7000215,
    error: 'invalid_client',
    text: (appId: string) => `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
  },
  expiredSecret: {
    code: 7000222,
    error: 'invalid_client',
    text: (appId: string) => `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
  },
  unsupportedGrantType: { code: 70003, error: 'unsupported_grant_type', text: () => 'The app requested an unsupported grant type.' },
  invalidGrant: { code: 70000, error: 'invalid_grant', text: (what: string) => `The provided value for the '${what}' parameter is not valid.` },
  codeExpired: {
    code: 70008,
    error: 'invalid_grant',
    text: () => 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  },
  codeRedeemed: { code: 54005, error: 'invalid_grant', text: () => 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.' },
  replyMismatch: {
    code: 500112,
    error: 'invalid_grant',
    text: (given: string, expected: string) => `The reply address '${given}' does not match the reply address '${expected}' provided when requesting Authorization code.`,
  },
  pkceMismatch: { code: 50148, error: 'invalid_grant', text: () => 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.' },
  refreshInactive: {
    code: 700082,
    error: 'invalid_grant',
    text: (issued: string, days: string) => `The refresh token has expired due to inactivity. The token was issued on ${issued} and was inactive for ${days}.`,
  },
  grantRevoked: {
    code: 50173,
    error: 'invalid_grant',
    text: (issued: string, validFrom: string) =>
      `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${issued}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${validFrom}'.`,
  },
  temporarilyUnavailable: { code: 50196, error: 'temporarily_unavailable', text: () => 'The server terminated an operation because it encountered a client request loop. Please contact your app vendor.' },
} as const;

export type AadErrorKind = keyof typeof AADSTS;

export class AadError extends Error {
  constructor(
    readonly kind: AadErrorKind,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
  get code(): number {
    return AADSTS[this.kind].code;
  }
  get error(): string {
    return AADSTS[this.kind].error;
  }
}

/** Build an AadError: `aad('badSecret', 401, appId)`. */
export function aad<K extends AadErrorKind>(kind: K, status: number, ...args: Parameters<(typeof AADSTS)[K]['text']>): AadError {
  const text = (AADSTS[kind].text as (...a: string[]) => string)(...(args as string[]));
  return new AadError(kind, `AADSTS${AADSTS[kind].code}: ${text}`, status);
}

/** The v2 token endpoint's error body (error, error_description, error_codes, timestamp, trace_id, correlation_id, error_uri). */
export function aadErrorBody(e: AadError, nowMs: number, correlationId: string = guid()): Record<string, unknown> {
  const traceId = guid();
  const timestamp = aadTime(nowMs);
  return {
    error: e.error,
    error_description: `${e.description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [e.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${e.code}`,
  };
}
