import { bigqueryDestination } from './bigquery/definition.js';
import type { DestinationDefinition } from './destination.js';
import { fileDestination } from './file/definition.js';
import { kafkaDestination } from './kafka/definition.js';
import { natsDestination } from './nats/definition.js';
import { postgresDestination } from './postgres/definition.js';
import { pubsubDestination } from './pubsub/definition.js';
import { snsDestination } from './sns/definition.js';
import { s3Destination } from './s3/definition.js';
import { snowflakeDestination } from './snowflake/definition.js';
import { webhookDestination } from './webhook/definition.js';

/**
 * The installed destination plug-ins. The delivery engine and the API reach plug-ins only
 * through these two functions (the import rules of scripts/check-imports.mjs). Importing this
 * loads every plug-in's metadata (schema, limits, guide) but no writer: each writer, with its SDK,
 * is imported when a writer of its type first tests or writes (`writerOnFirstUse`, ADR 0120).
 */

/**
 * Erases a definition's config type: the engine validates a config against `configSchema`
 * before it calls `create`, which is what makes the untyped record safe to hand over.
 */
const erase = <C>(d: DestinationDefinition<C>) => d as unknown as DestinationDefinition;

const DESTINATIONS: readonly DestinationDefinition[] = [erase(webhookDestination), erase(fileDestination), erase(postgresDestination), erase(natsDestination), erase(kafkaDestination), erase(pubsubDestination), erase(snsDestination), erase(s3Destination), erase(bigqueryDestination), erase(snowflakeDestination)];

const byType = new Map(DESTINATIONS.map((d) => [d.type, d]));

export function getDestination(type: string): DestinationDefinition | undefined {
  return byType.get(type);
}

export function listDestinations(): DestinationDefinition[] {
  return [...DESTINATIONS];
}
