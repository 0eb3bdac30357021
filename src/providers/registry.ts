import type { ProviderId } from '../domain/provider.js';
import { imapProvider } from './imap/definition.js';
import type { ProviderDefinition } from './provider.js';

/**
 * The one place that knows every source plug-in. The sync engine, hosted auth and the API reach
 * providers only through `getProvider` (DESIGN.md import rules). Each plug-in adds one line.
 */
const definitions: Partial<Record<ProviderId, ProviderDefinition>> = {
  imap: imapProvider,
};

export function getProvider(id: string): ProviderDefinition | undefined {
  return Object.hasOwn(definitions, id) ? definitions[id as ProviderId] : undefined;
}
