import type { AppContext } from '../context.js';
import type { GrantHandle } from '../providers/provider.js';
import type { GrantRow, IntegrationRow } from '../store/database.js';

/**
 * A grant as a provider plug-in sees it: credentials and the client secret opened, integration
 * settings overlaid with the grant's. Built by the sync engine for a session and by the
 * deletion path for `onGrantDeleted`.
 */
export function grantHandle(repos: AppContext['repos'], grant: GrantRow, integration: IntegrationRow): GrantHandle {
  return {
    id: grant.id,
    applicationId: grant.application_id,
    email: grant.email,
    credentials: repos.grants.openCredentials(grant) ?? {},
    settings: { ...integration.settings, ...grant.settings },
    integration: {
      id: integration.id,
      clientId: integration.client_id,
      clientSecret: repos.integrations.openSecret(integration),
      settings: integration.settings,
      scope: integration.scope,
    },
    createdAt: grant.created_at,
  };
}
