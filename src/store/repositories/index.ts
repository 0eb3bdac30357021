import type { Sealer } from '../../crypto/sealing.js';
import type { Store } from '../index.js';
import { apiKeysRepo } from './api-keys.js';
import { applicationsRepo } from './applications.js';
import { grantsRepo } from './grants.js';
import { integrationsRepo } from './integrations.js';
import { leasesRepo } from './leases.js';
import { redirectUrisRepo } from './redirect-uris.js';

export function createRepositories(store: Store, sealer: Sealer) {
  return {
    applications: applicationsRepo(store.db),
    apiKeys: apiKeysRepo(store.db),
    redirectUris: redirectUrisRepo(store.db),
    integrations: integrationsRepo(store.db, sealer),
    grants: grantsRepo(store.db, sealer),
    leases: leasesRepo(store.db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
