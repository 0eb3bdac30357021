import { Type } from '@sinclair/typebox';
import type { StreamService } from '../../../../delivery/streams.js';
import type { DestinationCatalog } from '../../../../delivery/catalog.js';
import type { Sealer } from '../../../../crypto/sealing.js';
import { appId, Envelope, ListEnvelope, ok, okList } from '../../../envelope.js';
import { Offset, page, pageStart, PageToken } from '../../../paging.js';
import type { Api } from '../../../types.js';
import { DataTypes, DestinationInput, Filters, StreamParams, streamView, StreamView } from './schemas.js';

const tags = ['streams'];
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]);

/** GET/POST /v3/streams, GET/PATCH/PUT/DELETE /v3/streams/{id}. */
export function registerStreamCrud(app: Api, svc: StreamService, catalog: DestinationCatalog, sealer: Sealer): void {
  const view = (s: Parameters<typeof streamView>[0]) => streamView(s, catalog, sealer);

  app.get(
    '/streams',
    {
      schema: {
        tags,
        summary: 'List streams (webhooks included)',
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            offset: Offset,
            page_token: PageToken,
          },
          { additionalProperties: false },
        ),
        response: { 200: ListEnvelope(StreamView) },
      },
    },
    async (req) => {
      const start = pageStart(req.query);
      const { items, next } = page(await svc.list(appId(req), { limit: req.query.limit + 1, offset: start }), start, req.query.limit);
      return okList(req, items.map(view), next);
    },
  );

  app.post(
    '/streams',
    {
      schema: {
        tags,
        summary: 'Create a stream; it starts at the end of the log unless start is "earliest"',
        body: Type.Object(
          {
            name: Name,
            description: Type.Optional(Description),
            data_types: DataTypes,
            filters: Type.Optional(Filters),
            destination: DestinationInput,
            start: Type.Optional(Type.Union([Type.Literal('latest'), Type.Literal('earliest')])),
            status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('pause')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Envelope(StreamView) },
      },
    },
    async (req) => {
      const b = req.body;
      const row = await svc.create(appId(req), {
        name: b.name,
        description: b.description ?? null,
        dataTypes: b.data_types,
        grantIds: b.filters?.grant_ids ?? null,
        providers: b.filters?.providers ?? null,
        destination: b.destination,
        ...(b.start ? { start: b.start } : {}),
        ...(b.status ? { status: b.status } : {}),
      });
      return ok(req, view(row));
    },
  );

  app.get('/streams/:id', { schema: { tags, summary: 'Get a stream', params: StreamParams, response: { 200: Envelope(StreamView) } } }, async (req) =>
    ok(req, view(await svc.get(appId(req), req.params.id))),
  );

  const Patch = Type.Object(
    {
      name: Type.Optional(Name),
      description: Type.Optional(Description),
      data_types: Type.Optional(DataTypes),
      filters: Type.Optional(Filters),
      destination: Type.Optional(
        Type.Object(
          { type: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })), config: Type.Record(Type.String(), Type.Unknown()) },
          { additionalProperties: false, description: 'The whole config; secret fields omitted or sent masked keep their value' },
        ),
      ),
      status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('pause')])),
    },
    { additionalProperties: false },
  );
  for (const method of ['patch', 'put'] as const) {
    app[method](
      '/streams/:id',
      { schema: { tags, summary: 'Update a stream', params: StreamParams, body: Patch, response: { 200: Envelope(StreamView) } } },
      async (req) => {
        const b = req.body;
        const row = await svc.update(appId(req), req.params.id, {
          ...(b.name !== undefined ? { name: b.name } : {}),
          ...(b.description !== undefined ? { description: b.description } : {}),
          ...(b.data_types ? { dataTypes: b.data_types } : {}),
          ...(b.filters?.grant_ids !== undefined ? { grantIds: b.filters.grant_ids } : {}),
          ...(b.filters?.providers !== undefined ? { providers: b.filters.providers } : {}),
          ...(b.destination ? { destination: { config: b.destination.config, ...(b.destination.type ? { type: b.destination.type } : {}) } } : {}),
          ...(b.status ? { status: b.status } : {}),
        });
        return ok(req, view(row));
      },
    );
  }

  app.delete('/streams/:id', { schema: { tags, summary: 'Delete a stream (its dead letters and attempts go with it)', params: StreamParams } }, async (req) => {
    await svc.remove(appId(req), req.params.id);
    return ok(req, { status: 'deleted' });
  });
}
