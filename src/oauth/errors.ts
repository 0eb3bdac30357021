/**
 * A hosted-auth failure. With `redirect`, the calling app's redirect URI is trusted and the error
 * goes back to it as OAuth parameters (`error`, `error_description`, `state`); without, there is
 * nowhere safe to send the user and a readable page is shown instead.
 */
export class HostedAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly redirect: { uri: string; state: string | null } | null,
    readonly status = 400,
  ) {
    super(`${error}: ${description}`);
    this.name = 'HostedAuthError';
  }
}

/** `uri` with OAuth response parameters added (keeping any query the app registered). */
export function withParams(uri: string, params: Record<string, string | null | undefined>): string {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}
