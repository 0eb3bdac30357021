import { Type } from '@sinclair/typebox';
import type { DestinationCatalog } from '../../../../delivery/catalog.js';
import { catalogSchema, definitionOf } from '../../../../delivery/destination-config.js';
import { guideValues, setupGuideView } from '../../../../delivery/setup-guide.js';
import { Envelope, ListEnvelope, ok, okList } from '../../../envelope.js';
import type { Api } from '../../../types.js';

const SetupGuide = Type.Object({
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  steps: Type.Array(Type.Object({ title: Type.String(), text: Type.String() })),
  language: Type.Union([Type.String(), Type.Null()]),
  script: Type.Union([Type.String(), Type.Null()], { description: 'Text to paste on the destination side, rendered with the schema defaults (POST …/setup-guide renders it for given values)' }),
});

const Destination = Type.Object({
  type: Type.String(),
  title: Type.String(),
  description: Type.String(),
  config_schema: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON schema of destination.config; secret fields carry writeOnly and x-secret' }),
  secret_fields: Type.Array(Type.String()),
  limits: Type.Object({ max_batch: Type.Integer(), max_wait_ms: Type.Integer(), max_in_flight: Type.Integer(), ordering: Type.String() }),
  setup_guide: Type.Union([SetupGuide, Type.Null()], { description: 'What to set up on the destination side first; null when nothing is needed' }),
});

/** GET /v3/destinations: the catalog the dashboard builds its forms from; POST …/{type}/setup-guide renders the guide for a form. */
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
        setup_guide: setupGuideView(d),
      })),
      null,
    ),
  );

  app.post(
    '/destinations/:type/setup-guide',
    {
      schema: {
        tags: ['streams'],
        summary: "The destination's setup guide with its script rendered for the given (non-secret) config values",
        params: Type.Object({ type: Type.String({ maxLength: 64 }) }),
        body: Type.Object({ config: Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), { maxProperties: 64 }) }, { additionalProperties: false }),
        response: { 200: Envelope(Type.Union([SetupGuide, Type.Null()])) },
      },
    },
    async (req) => {
      const def = definitionOf(catalog, req.params.type);
      return ok(req, setupGuideView(def, guideValues(def, req.body.config)));
    },
  );
}
