import type { Kysely } from 'kysely';
import type { Sealer } from '../../crypto/sealing.js';
import { newId } from '../../domain/ids.js';
import type { ProviderId } from '../../domain/provider.js';
import type { Database, IntegrationRow } from '../database.js';

export const integrationSecretAad = (id: string) => `integrations.client_secret:${id}`;

export interface IntegrationInput {
  name: string;
  clientId: string | null;
  clientSecret: string | null;
  settings: Record<string, unknown>;
  scope: string[];
  secretExpiresAt: Date | null;
}

/** Integrations; the client secret is sealed on the way in and only opened on request. */
export function integrationsRepo(db: Kysely<Database>, sealer: Sealer) {
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

    openSecret(row: Pick<IntegrationRow, 'id' | 'client_secret'>): string | null {
      return row.client_secret === null ? null : sealer.open(row.client_secret, integrationSecretAad(row.id));
    },
  };
}
