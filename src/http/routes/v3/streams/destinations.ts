import { Type } from '@sinclair/typebox';
import type { DestinationCatalog } from '../../../../delivery/catalog.js';
import { catalogSchema } from '../../../../delivery/destination-config.js';
import { ListEnvelope, okList } from '../../../envelope.js';
import type { Api } from '../../../types.js';

const Destination = Type.Object({
  type: Type.String(),
  title: Type.String(),
  description: Type.String(),
  config_schema: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON schema of destination.config; secret fields carry writeOnly and x-secret' }),
  secret_fields: Type.Array(Type.String()),
  limits: Type.Object({ max_batch: Type.Integer(), max_wait_ms: Type.Integer(), max_in_flight: Type.Integer(), ordering: Type.String() }),
});

/** GET /v3/destinations: the catalog the dashboard builds its forms from. */
export function registerDestinationCatalog(app: Api, catalog: DestinationCatalog): void {
  app.get('/destinations', { schema: { tags: ['streams'], summary: 'Installed destination types and their config schemas', response: { 200: ListEnvelope(Destination) } } }, async (req) =>
    okList(
      req,
      catalog.list().map((d) => ({
        type: d.type,
        title: d.title,
        description: d.description,
        config_schema: catalogSchema(d),
        secret_fields: [...d.secretFields],
        limits: { max_batch: d.limits.maxBatch, max_wait_ms: d.limits.maxWaitMs, max_in_flight: d.limits.maxInFlight, ordering: d.limits.ordering },
      })),
      null,
    ),
  );
}
