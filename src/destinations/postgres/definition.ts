import { Type, type Static } from '@sinclair/typebox';
import { writerOnFirstUse, type DestinationDefinition } from '../destination.js';
import { DEFAULT_SCHEMA } from './defaults.js';
import type { PostgresConfig } from './writer.js';

export const postgresConfigSchema = Type.Object(
  {
    connection_string: Type.String({
      minLength: 1,
      pattern: '^postgres(ql)?://',
      description: 'postgres://user:password@host:port/database (sealed at rest, never returned)',
    }),
    schema: Type.Optional(
      Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$', default: DEFAULT_SCHEMA, description: 'Schema holding the tables; created if missing' }),
    ),
  },
  { additionalProperties: false },
);

// Compile-time check that the schema and the writer agree on the config shape.
const _shape: PostgresConfig = {} as Static<typeof postgresConfigSchema>;
void _shape;

const MAX_IN_FLIGHT = 4;

export const postgresDestination: DestinationDefinition<PostgresConfig> = {
  type: 'postgres',
  title: 'PostgreSQL',
  description: 'Rows in message, participant, grant_event, zoom_transcript (+ segments) tables; upserts by primary key so redelivery has no effect.',
  configSchema: postgresConfigSchema,
  secretFields: ['connection_string'],
  // Keyed, insert-only tables: the end state does not depend on order, so batches may overlap.
  limits: { maxBatch: 1000, maxWaitMs: 500, maxInFlight: MAX_IN_FLIGHT, ordering: 'none' },
  create: writerOnFirstUse<PostgresConfig>('postgres', async () => {
    const { PostgresWriter } = await import('./writer.js');
    return (config, ctx) => new PostgresWriter(config, ctx, MAX_IN_FLIGHT);
  }),
};
