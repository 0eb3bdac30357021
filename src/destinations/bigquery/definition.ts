import { Type } from '@sinclair/typebox';
import { defineDestination, writerOnFirstUse } from '../destination.js';
import { BIGQUERY_DEFAULTS } from './defaults.js';
import type { BigQueryConfig } from './writer.js';

export const bigqueryConfigSchema = Type.Object(
  {
    service_account_json: Type.String({ minLength: 2, maxLength: 16_384, description: 'The service account key file (JSON); sealed at rest, never returned' }),
    project_id: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9.:-]{4,62}$', description: 'Project of the dataset; default the key’s project_id' })),
    dataset: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_]{1,1024}$', default: BIGQUERY_DEFAULTS.dataset, description: 'Dataset holding the tables; created if missing' })),
    location: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{2,32}$', default: BIGQUERY_DEFAULTS.location, description: 'Dataset location (US, EU, europe-west1…)' })),
    api_endpoint: Type.Optional(Type.String({ pattern: '^https?://[^\\s/]+/?$', maxLength: 512, description: 'Another BigQuery API endpoint (Private Service Connect, a sandbox); default Google’s' })),
  },
  { additionalProperties: false },
);

export const bigqueryDestination = defineDestination<BigQueryConfig>({
  type: 'bigquery',
  title: 'Google BigQuery',
  description: 'Typed tables message, participant, grant_event, zoom_transcript, partitioned by day; staged then MERGEd on the primary key, so a redelivered event never becomes a second row.',
  configSchema: bigqueryConfigSchema,
  secretFields: ['service_account_json'],
  // One MERGE script per batch: large batches keep DML jobs (and their quotas) few; one at a
  // time per stream, as BigQuery queues concurrent DML on a table anyway.
  limits: { maxBatch: 10_000, maxWaitMs: 5000, maxInFlight: 1, ordering: 'none' },
  create: writerOnFirstUse<BigQueryConfig>('bigquery', async () => {
    const { BigQueryWriter } = await import('./writer.js');
    return (config, ctx) => new BigQueryWriter(config, ctx);
  }),
});
