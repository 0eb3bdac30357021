import type { AppContext } from '../../../../context.js';
import type { DestinationCatalog } from '../../../../delivery/catalog.js';
import { registryCatalog } from '../../../../delivery/registry-catalog.js';
import { serviceDepsFrom, streamService } from '../../../../delivery/streams.js';
import type { Api } from '../../../types.js';
import { registerStreamActions } from './actions.js';
import { registerStreamCrud } from './crud.js';
import { registerDeadLetters } from './dead-letters.js';
import { registerDestinationCatalog } from './destinations.js';
import { registerStreamStatus } from './status.js';

/** /v3/streams (+ actions, status, dead letters, deliveries) and /v3/destinations. */
export async function registerStreams(app: Api, ctx: AppContext, catalog: DestinationCatalog = registryCatalog): Promise<void> {
  const svc = streamService(serviceDepsFrom(ctx, catalog));
  registerStreamCrud(app, svc, catalog, ctx.sealer);
  registerStreamActions(app, svc, catalog, ctx.sealer);
  registerStreamStatus(app, svc);
  registerDeadLetters(app, svc);
  registerDestinationCatalog(app, catalog);
}
