import { Type } from '@sinclair/typebox';
import { maskedConfig, openSecrets } from '../../../../delivery/destination-config.js';
import type { DestinationCatalog } from '../../../../delivery/catalog.js';
import type { StreamRow, StreamStatus } from '../../../../delivery/stream-store.js';
import type { Sealer } from '../../../../crypto/sealing.js';
import { EVENT_TYPES } from '../../../../domain/event.js';
import { unix } from '../../../envelope.js';
import { providerIds, providerIdSchema } from '../../../../providers/registry.js';

/** Request and response shapes of /v3/streams (Nylas v3 naming: snake_case, unix seconds). */

export const DataTypes = Type.Array(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))), { minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true });
const Id = Type.String({ minLength: 1, maxLength: 100 });

export const Filters = Type.Object(
  {
    grant_ids: Type.Optional(Type.Union([Type.Array(Id, { maxItems: 1000 }), Type.Null()])),
    providers: Type.Optional(Type.Union([Type.Array(providerIdSchema(), { maxItems: providerIds().length }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const DestinationInput = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 50 }),
    config: Type.Record(Type.String(), Type.Unknown(), { description: 'Validated against the destination type’s schema (GET /v3/destinations)' }),
  },
  { additionalProperties: false },
);

export const StreamParams = Type.Object({ id: Id });

export const StreamView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String({ description: '"stream", or "webhook" when created through /v3/webhooks' }),
  data_types: Type.Array(Type.String()),
  filters: Type.Object({ grant_ids: Type.Union([Type.Array(Type.String()), Type.Null()]), providers: Type.Union([Type.Array(Type.String()), Type.Null()]) }),
  destination: Type.Object({ type: Type.String(), config: Type.Record(Type.String(), Type.Unknown()) }),
  status: Type.Union([Type.Literal('active'), Type.Literal('failing'), Type.Literal('failed'), Type.Literal('pause')]),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});

/** Response allow-list: secret fields of the destination appear only as the mask. */
export function streamView(s: StreamRow, catalog: DestinationCatalog, sealer: Sealer) {
  const def = catalog.get(s.destination_type);
  let secrets: Record<string, unknown>;
  try {
    secrets = openSecrets(sealer, s.id, s.destination_secrets);
  } catch {
    // Unreadable with the current key ring: still list the stream, showing every secret field as set.
    secrets = s.destination_secrets ? Object.fromEntries((def?.secretFields ?? []).map((f) => [f, true])) : {};
  }
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    kind: s.kind,
    data_types: s.data_types,
    filters: { grant_ids: s.grant_ids, providers: s.providers },
    destination: { type: s.destination_type, config: maskedConfig(def, s.destination_config, secrets) },
    status: s.status as StreamStatus,
    created_at: unix(s.created_at)!,
    updated_at: unix(s.updated_at)!,
  };
}
