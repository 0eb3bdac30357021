import type { AppContext } from '../../../context.js';
import type { Api } from '../../types.js';
import { registerMicrosoftNotifications } from './microsoft.js';

/**
 * Provider notification endpoints (Graph change notifications, Gmail Pub/Sub push, Zoom
 * webhooks). They are public routes authenticated by each provider's own scheme.
 */
export async function registerInbound(app: Api, ctx: AppContext): Promise<void> {
  registerMicrosoftNotifications(app, ctx);
}
