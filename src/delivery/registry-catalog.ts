import { getDestination, listDestinations } from '../destinations/registry.js';
import type { DestinationCatalog } from './catalog.js';

/** The installed destination plug-ins, as the engine and the API see them. */
export const registryCatalog: DestinationCatalog = { get: getDestination, list: listDestinations };
