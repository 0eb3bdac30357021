/** Google base URLs from configuration, so the sandbox can stand in. */
export interface GoogleUrls {
  authorize: string;
  token: string;
  /** The accounts origin: its OpenID discovery document names the issuer and the JWKS (also used for Pub/Sub push tokens). */
  discovery: string;
  gmail: string;
}

export function googleUrls(urls: Record<string, string>): GoogleUrls {
  const authorize = urls.googleAuth ?? 'https://accounts.google.com/o/oauth2/v2/auth';
  return {
    authorize,
    token: urls.googleToken ?? 'https://oauth2.googleapis.com/token',
    discovery: `${new URL(authorize).origin}/.well-known/openid-configuration`,
    gmail: (urls.gmail ?? 'https://gmail.googleapis.com').replace(/\/+$/, ''),
  };
}

/** Google's ID tokens carry `https://accounts.google.com` or, from older clients, `accounts.google.com`. */
export function acceptedIssuers(discoveryIssuer: string): string[] {
  return [discoveryIssuer, discoveryIssuer.replace(/^https:\/\//, '')];
}
