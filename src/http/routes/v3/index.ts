import type { AppContext } from '../../../context.js';
import type { Api } from '../../types.js';
import { registerApplications } from './applications/index.js';
import { registerConnectCustom } from './connect/custom.js';
import { registerConnect } from './connect/index.js';
import { registerConnectors } from './connectors/index.js';
import { registerEvents } from './events/index.js';
import { registerGrants } from './grants/index.js';
import { registerProviders } from './providers/index.js';
import { registerStreams } from './streams/index.js';
import { registerWebhooks } from './webhooks/index.js';

/** The v3 management API. Each resource folder registers its own endpoints. */
export async function registerV3(app: Api, ctx: AppContext): Promise<void> {
  await registerApplications(app, ctx);
  await registerConnectors(app, ctx);
  await registerProviders(app, ctx);
  await registerGrants(app, ctx);
  await registerEvents(app, ctx);
  await registerStreams(app, ctx);
  await registerWebhooks(app, ctx);
  await registerConnectCustom(app, ctx);
  await registerConnect(app, ctx);
}
