import type { Kysely } from 'kysely';
import type { Sealer } from '../../crypto/sealing.js';
import { newId } from '../../domain/ids.js';
import type { ProviderId } from '../../domain/provider.js';
import type { Database, IntegrationRow } from '../database.js';

export const integrationSecretAad = (id: string) => `integrations.client_secret:${id}`;
const secretSettingsAad = (id: string) => `integrations.secret_settings:${id}`;

export interface IntegrationInput {
  name: string;
  clientId: string | null;
  clientSecret: string | null;
  settings: Record<string, unknown>;
  /** The provider's secret settings (write-only fields), sealed together; never in `settings`. */
  secretSettings?: Record<string, unknown>;
  scope: string[];
  secretExpiresAt: Date | null;
}

/** Integrations; the client secret is sealed on the way in and only opened on request. */
export function integrationsRepo(db: Kysely<Database>, sealer: Sealer) {
  const sealSettings = (id: string, s: Record<string, unknown> | undefined) => (s && Object.keys(s).length ? sealer.seal(JSON.stringify(s), secretSettingsAad(id)) : null);
  const openSecretSettings = (row: Pick<IntegrationRow, 'id' | 'secret_settings'>): Record<string, unknown> =>
    row.secret_settings ? (JSON.parse(sealer.open(row.secret_settings, secretSettingsAad(row.id))) as Record<string, unknown>) : {};
  return {
    list: (applicationId: string) =>
      db.selectFrom('integrations').selectAll().where('application_id', '=', applicationId).orderBy('created_at').execute(),

    get: (applicationId: string, provider: ProviderId) =>
      db.selectFrom('integrations').selectAll().where('application_id', '=', applicationId).where('provider', '=', provider).executeTakeFirst(),

    getById: (id: string) => db.selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirst(),

    /** Returns undefined when the application already has an integration for this provider. */
    async create(applicationId: string, provider: ProviderId, input: IntegrationInput): Promise<IntegrationRow | undefined> {
      const id = newId('int_');
      return db
        .insertInto('integrations')
        .values({
          id,
          application_id: applicationId,
          provider,
          name: input.name,
          client_id: input.clientId,
          client_secret: input.clientSecret === null ? null : sealer.seal(input.clientSecret, integrationSecretAad(id)),
          settings: JSON.stringify(input.settings),
          secret_settings: sealSettings(id, input.secretSettings),
          scope: JSON.stringify(input.scope),
          secret_expires_at: input.secretExpiresAt,
        })
        .onConflict((oc) => oc.columns(['application_id', 'provider']).doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    async update(row: IntegrationRow, patch: Partial<IntegrationInput>): Promise<IntegrationRow | undefined> {
      const secretChanged = patch.clientSecret !== undefined;
      return db
        .updateTable('integrations')
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.clientId !== undefined ? { client_id: patch.clientId } : {}),
          ...(secretChanged
            ? { client_secret: patch.clientSecret === null ? null : sealer.seal(patch.clientSecret!, integrationSecretAad(row.id)) }
            : {}),
          ...(patch.settings !== undefined ? { settings: JSON.stringify(patch.settings) } : {}),
          // Secret settings are merged into those already sealed (a PATCH names only what changes).
          ...(patch.secretSettings !== undefined && Object.keys(patch.secretSettings).length ? { secret_settings: sealSettings(row.id, { ...openSecretSettings(row), ...patch.secretSettings }) } : {}),
          ...(patch.scope !== undefined ? { scope: JSON.stringify(patch.scope) } : {}),
          ...(patch.secretExpiresAt !== undefined ? { secret_expires_at: patch.secretExpiresAt } : {}),
          // A new secret or client id clears a "the provider rejected this app" error.
          ...(secretChanged || patch.clientId !== undefined ? { error: null, error_at: null } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirst();
    },

    /** Marks the integration itself broken (bad or expired client secret): grants are untouched. */
    async setError(id: string, error: string | null): Promise<void> {
      await db.updateTable('integrations').set({ error, error_at: error ? new Date() : null }).where('id', '=', id).execute();
    },

    /** The settings with the secret ones opened: for the provider plug-in, never for a response. */
    openSettings(row: Pick<IntegrationRow, 'id' | 'settings' | 'secret_settings'>): Record<string, unknown> {
      return { ...row.settings, ...openSecretSettings(row) };
    },

    openSecret(row: Pick<IntegrationRow, 'id' | 'client_secret'>): string | null {
      return row.client_secret === null ? null : sealer.open(row.client_secret, integrationSecretAad(row.id));
    },
  };
}
