import { ProviderError, type GrantHandle, type PasswordProviderDefinition, type ProviderContext, type ProviderSession, type TokenErrorClass } from '../provider.js';
import { classifyImapError, connectImap } from './client.js';
import { ImapCredentialFields, ImapIntegrationSettings } from './fields.js';
import { accountEmail, resolveSettings, type ImapSettings } from './settings.js';
import { ImapSession } from './sync.js';

/**
 * The IMAP source: password auth (POST /v3/connect/custom), one connection per grant, INBOX
 * watched with IDLE. Grant credentials hold { username, password }; host, port and security
 * live in grant settings over the integration's defaults.
 */
function grantSettings(grant: GrantHandle): ImapSettings {
  const s = resolveSettings(
    {
      imap_host: grant.settings.imap_host,
      imap_port: grant.settings.imap_port,
      imap_security: grant.settings.imap_security,
      imap_username: grant.credentials.username,
      imap_password: grant.credentials.password,
    },
    grant.integration.settings,
  );
  // Stored settings that no longer resolve (integration default removed) need the user again.
  if (typeof s === 'string') throw new ProviderError('reauth', s);
  return s;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);

export const imapProvider: PasswordProviderDefinition = {
  id: 'imap',
  name: 'IMAP',
  description: 'Any mailbox that speaks IMAP; the account owner enters their server and password.',
  brand: { letter: '@', colors: ['#475569', '#64748b'] },
  settings: { integration: ImapIntegrationSettings },
  docs: 'docs/providers/imap.md',

  classifyTokenError(error: unknown): TokenErrorClass {
    return error instanceof ProviderError && error.kind === 'reauth' ? 'reauth' : 'transient';
  },

  async open(grant: GrantHandle, ctx: ProviderContext): Promise<ProviderSession> {
    const settings = grantSettings(grant);
    const client = await connectImap(settings, { logger: ctx.logger, ...(ctx.outbound ? { outbound: ctx.outbound } : {}) });
    return new ImapSession(client, settings, grant, ctx);
  },

  auth: {
    kind: 'password',
    fields: ImapCredentialFields,
    hostOf: (given, defaults) => str(given.imap_host) ?? str(defaults.imap_host),
    async verify(given, defaults, ctx) {
      const s = resolveSettings(given, defaults);
      if (typeof s === 'string') throw new ProviderError('app_misconfigured', s);
      const client = await connectImap(s, { logger: ctx.logger, timeoutMs: 10_000, ...(ctx.outbound ? { outbound: ctx.outbound } : {}) });
      try {
        await client.logout();
      } catch (err) {
        throw classifyImapError(err, s);
      } finally {
        client.close();
      }
      return {
        email: accountEmail(s),
        providerUserId: `${s.username}@${s.host}`,
        credentials: { username: s.username, password: s.password },
        settings: { imap_host: s.host, imap_port: s.port, imap_security: s.security },
      };
    },
  },
};
