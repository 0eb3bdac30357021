/**
 * Scope handling of the v2 endpoint for the one resource the sandbox hosts (Microsoft Graph).
 * `User.Read` and `https://graph.microsoft.com/User.Read` are the same permission; OIDC scopes
 * (`openid`, `profile`, `email`, `offline_access`) are not Graph permissions.
 */
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const GRAPH_PREFIX = 'https://graph.microsoft.com/';

/** Delegated Graph permissions the sandbox knows. Others are rejected with AADSTS70011. */
const KNOWN_PERMISSIONS = [
  'User.Read', 'User.ReadBasic.All', 'Mail.Read', 'Mail.ReadBasic', 'Mail.ReadWrite', 'Mail.Send', 'Mail.Read.Shared',
  'MailboxSettings.Read', 'Calendars.Read', 'Contacts.Read', 'EAS.AccessAsUser.All', 'EWS.AccessAsUser.All', 'IMAP.AccessAsUser.All',
];
/** Lower case → canonical spelling (for responses and access-token `scp` claims). */
const CANONICAL = new Map(KNOWN_PERMISSIONS.map((s) => [s.toLowerCase(), s]));

export interface ParsedScopes {
  /** Lower-case names: OIDC scopes as is, Graph permissions without the resource prefix. */
  all: Set<string>;
  /** The first scope that is not valid, if any. */
  invalid?: string;
}

export function parseScopes(raw: string | undefined, appPermissions: readonly string[] = ['user.read']): ParsedScopes {
  const all = new Set<string>();
  for (const token of (raw ?? '').split(/\s+/).filter(Boolean)) {
    const t = token.toLowerCase();
    if (OIDC_SCOPES.has(t)) all.add(t);
    else if (t === GRAPH_PREFIX + '.default' || t === '.default') for (const p of appPermissions) all.add(p);
    else {
      const name = t.startsWith(GRAPH_PREFIX) ? t.slice(GRAPH_PREFIX.length) : t;
      if (!CANONICAL.has(name)) return { all, invalid: token };
      all.add(name);
    }
  }
  return { all };
}

export function graphPermissions(scopes: Iterable<string>): string[] {
  return [...scopes].filter((s) => !OIDC_SCOPES.has(s));
}

/** The `scope` value of a token response: Graph permissions, then the granted OIDC scopes except offline_access. */
export function scopeString(scopes: Iterable<string>): string {
  const list = [...scopes];
  const graph = graphPermissions(list).map((s) => CANONICAL.get(s) ?? s);
  const oidc = list.filter((s) => OIDC_SCOPES.has(s) && s !== 'offline_access');
  return [...graph, ...oidc].join(' ');
}

export function canonicalPermission(s: string): string {
  return CANONICAL.get(s) ?? s;
}
