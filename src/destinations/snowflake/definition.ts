import { Type, type Static } from '@sinclair/typebox';
import { writerOnFirstUse, type DestinationDefinition, type DestinationSetupGuide } from '../destination.js';
import { SNOWFLAKE_DEFAULTS, snowflakeSetupScript, type SnowflakeSetupInput } from './setup.js';
import type { SnowflakeConfig } from './writer.js';

const IDENT = '^[A-Za-z_][A-Za-z0-9_$]{0,254}$';

export const snowflakeConfigSchema = Type.Object(
  {
    account: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{1,127}$', description: 'Account identifier: ORGNAME-ACCOUNTNAME, or the locator (xy12345.us-east-1)' }),
    user: Type.String({ pattern: IDENT, description: 'The service user with the public key' }),
    private_key: Type.String({ minLength: 100, maxLength: 8192, pattern: '-----BEGIN', description: 'PEM private key (PKCS#8) of the key pair; sealed at rest, never returned' }),
    private_key_passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Only for an encrypted private key; sealed' })),
    role: Type.Optional(Type.String({ pattern: IDENT, default: SNOWFLAKE_DEFAULTS.role })),
    warehouse: Type.Optional(Type.String({ pattern: IDENT, default: SNOWFLAKE_DEFAULTS.warehouse })),
    database: Type.Optional(Type.String({ pattern: IDENT, default: SNOWFLAKE_DEFAULTS.database })),
    schema: Type.Optional(Type.String({ pattern: IDENT, default: SNOWFLAKE_DEFAULTS.schema })),
    account_url: Type.Optional(Type.String({ pattern: '^https?://[^\\s/]+/?$', maxLength: 512, description: 'Default https://<account>.snowflakecomputing.com (PrivateLink, a sandbox)' })),
  },
  { additionalProperties: false },
);

const _shape: SnowflakeConfig = {} as Static<typeof snowflakeConfigSchema>;
void _shape;

/** Setup instructions as data: the dashboard renders the script for the values in the form. */
type SetupGuide = DestinationSetupGuide<SnowflakeConfig> & { script(values: SnowflakeSetupInput): string };

export const snowflakeDestination: DestinationDefinition<SnowflakeConfig> & { setupGuide: SetupGuide } = {
  type: 'snowflake',
  title: 'Snowflake',
  description: 'Tables MESSAGE, PARTICIPANT, GRANT_EVENT, ZOOM_TRANSCRIPT in NYLAS_DATABASE.DATA_STREAMS by key-pair auth over the SQL API; staged then MERGEd on the primary key, so a redelivered event never becomes a second row.',
  configSchema: snowflakeConfigSchema,
  secretFields: ['private_key', 'private_key_passphrase'],
  // One MERGE transaction per batch; one at a time per stream (concurrent MERGEs on a table queue on its lock anyway).
  limits: { maxBatch: 10_000, maxWaitMs: 5000, maxInFlight: 1, ordering: 'none' },
  setupGuide: { title: 'Run this once in a Snowflake worksheet as ACCOUNTADMIN', language: 'sql', script: snowflakeSetupScript },
  create: writerOnFirstUse<SnowflakeConfig>('snowflake', async () => {
    const { SnowflakeWriter } = await import('./writer.js');
    return (config, ctx) => new SnowflakeWriter(config, ctx);
  }),
};
