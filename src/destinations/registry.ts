import type { DestinationDefinition } from './destination.js';
import { postgresDestination } from './postgres/definition.js';

/**
 * The installed destination plug-ins. The delivery engine and the API reach plug-ins only
 * through these two functions (DESIGN.md import rules).
 */
const DESTINATIONS: readonly DestinationDefinition[] = [postgresDestination as unknown as DestinationDefinition];

const byType = new Map(DESTINATIONS.map((d) => [d.type, d]));

export function getDestination(type: string): DestinationDefinition | undefined {
  return byType.get(type);
}

export function listDestinations(): DestinationDefinition[] {
  return [...DESTINATIONS];
}
