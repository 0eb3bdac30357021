import type { DestinationDefinition } from '../destinations/destination.js';

/**
 * How the delivery engine and the API find destination plug-ins. The running service uses the
 * registry (registry-catalog.ts); tests hand in fakes.
 */
export interface DestinationCatalog {
  get(type: string): DestinationDefinition | undefined;
  list(): DestinationDefinition[];
}
