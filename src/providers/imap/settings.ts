/**
 * Connection settings of an IMAP grant. Host, port and security come from the grant's settings,
 * falling back to the integration's defaults (so end users may give only username + password);
 * username and password are the grant's sealed credentials.
 */
export type ImapSecurity = 'tls' | 'starttls' | 'none';

export interface ImapSettings {
  host: string;
  port: number;
  security: ImapSecurity;
  username: string;
  password: string;
}

export const DEFAULT_PORTS: Record<ImapSecurity, number> = { tls: 993, starttls: 143, none: 143 };

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
const security = (v: unknown): ImapSecurity | undefined => (v === 'tls' || v === 'starttls' || v === 'none' ? v : undefined);

/** Merges explicit values over defaults; returns an error message instead of settings when incomplete. */
export function resolveSettings(
  given: { imap_host?: unknown; imap_port?: unknown; imap_security?: unknown; imap_username?: unknown; imap_password?: unknown },
  defaults: Record<string, unknown>,
): ImapSettings | string {
  const host = str(given.imap_host) ?? str(defaults.imap_host);
  if (!host) return 'settings.imap_host is required (the IMAP integration has no default host)';
  const sec = security(given.imap_security) ?? security(defaults.imap_security) ?? 'tls';
  const portRaw = given.imap_port ?? defaults.imap_port;
  const port = typeof portRaw === 'number' && Number.isInteger(portRaw) && portRaw > 0 && portRaw < 65536 ? portRaw : DEFAULT_PORTS[sec];
  const username = str(given.imap_username);
  const password = str(given.imap_password);
  if (!username) return 'settings.imap_username is required';
  if (!password) return 'settings.imap_password is required';
  return { host, port, security: sec, username, password };
}

/** The email address a grant is known by: the username when it is one, else user@host. */
export function accountEmail(s: Pick<ImapSettings, 'username' | 'host'>): string {
  return s.username.includes('@') ? s.username : `${s.username}@${s.host}`;
}
