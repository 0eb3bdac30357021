/**
 * The session cookie. Browsers accept a `__Host-` cookie only with `Secure`, and `Secure`
 * cookies are not stored from plain http:// pages (localhost aside in some browsers, not all),
 * so the prefix is used exactly when the public URL is https (ADR 0600).
 */
export function sessionCookieName(publicUrl: string): string {
  return publicUrl.startsWith('https:') ? '__Host-tributary_session' : 'tributary_session';
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{16,128}$/.test(value) ? value : null;
    }
  }
  return null;
}

/** `Set-Cookie` value; `maxAgeSeconds` 0 clears the cookie. */
export function sessionCookie(publicUrl: string, value: string, maxAgeSeconds: number): string {
  const secure = publicUrl.startsWith('https:');
  return [`${sessionCookieName(publicUrl)}=${value}`, 'Path=/', `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax', ...(secure ? ['Secure'] : [])].join('; ');
}
